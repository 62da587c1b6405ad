// Proxy output in the daemon's log: every line with its proxy id and stream, secrets redacted,
// at most log.output_rate lines per second per proxy, the rest counted and reported.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createOutputLogger } from '../../src/logging/output.ts';
import { createRedactor } from '../../src/logging/redact.ts';
import { startDaemon, writeConfig, type LogLine, type TestDaemon } from '../support/daemon.ts';

function capture() {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { lines, logger };
}

describe('the output logger', () => {
  afterEach(() => vi.useRealTimers());

  it('logs each line with proxy id and stream, redacting secrets', () => {
    const { lines, logger } = capture();
    const log = createOutputLogger(
      logger,
      () => createRedactor(['hunter22']),
      () => 10,
      () => 'shadowsocks',
    );
    log('ss-1', 'stderr', 'bad password hunter22 given');
    expect(lines).toMatchObject([
      {
        message: 'proxy output',
        proxy_id: 'ss-1',
        proxy_type: 'shadowsocks',
        component: 'proxy',
        stream: 'stderr',
        line: 'bad password [REDACTED] given',
        proxy_output: true,
      },
    ]);
  });

  it('passes the rate per proxy per second, reports what it dropped when the second ends, then lets lines through again', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1, 0, 0, 0, 200));
    const { lines, logger } = capture();
    const log = createOutputLogger(
      logger,
      () => (x) => x,
      () => 3,
      () => 'exec',
    );
    for (let i = 0; i < 10; i++) log('chatty', 'stdout', `line ${i}`);
    log('quiet', 'stdout', 'hello');
    expect(lines.filter((l) => l.proxy_id === 'chatty').map((l) => l.line)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(lines.filter((l) => l.proxy_id === 'quiet')).toHaveLength(1);

    vi.advanceTimersByTime(799); // still inside the second
    expect(lines.some((l) => l.message === 'proxy output rate-limited')).toBe(false);
    vi.advanceTimersByTime(1); // the window closes: the count is reported though the proxy is silent
    expect(lines.at(-1)).toMatchObject({
      message: 'proxy output rate-limited',
      level: 'warn',
      proxy_id: 'chatty',
      dropped_lines: 7,
      lines_per_second: 3,
    });

    log('chatty', 'stdout', 'next second');
    expect(lines.at(-1)).toMatchObject({ message: 'proxy output', line: 'next second' });
    vi.advanceTimersByTime(5_000);
    expect(lines.filter((l) => l.message === 'proxy output rate-limited')).toHaveLength(1);

    // Lines the spawn helper dropped before they reached the daemon count in the same report.
    log('chatty', 'stdout', 'one');
    log.dropped('chatty', 'stdout', 250_000);
    log('chatty', 'stdout', 'two');
    log('chatty', 'stdout', 'three');
    log('chatty', 'stdout', 'four');
    vi.advanceTimersByTime(1_000);
    expect(lines.at(-1)).toMatchObject({ message: 'proxy output rate-limited', dropped_lines: 250_001 });
  });
});

describe('a chatty proxy under the daemon', () => {
  const RATE = 20;
  let daemon: TestDaemon;

  beforeAll(async () => {
    const { dir, configFile } = writeConfig({
      log: { output_rate: RATE },
      proxy: {
        monitor: { enable: true },
        proxies: [
          // 50 000 lines as fast as the shell can print them, then quiet.
          {
            id: 'chatty',
            type: 'exec',
            command: '/bin/sh',
            args: ['-c', 'i=0; while [ $i -lt 50000 ]; do echo "spam $i"; i=$((i+1)); done; exec sleep 600'],
          },
          {
            id: 'quiet',
            type: 'exec',
            command: '/bin/sh',
            args: ['-c', 'for i in 1 2 3 4 5; do echo "quiet $i" >&2; sleep 0.2; done; exec sleep 600'],
          },
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    daemon = startDaemon(configFile, dir);
    await daemon.waitFor((l) => l.message === 'proxy output' && l.line === 'quiet 5', 15_000);
    await daemon.waitFor((l) => l.message === 'proxy output rate-limited' && l.proxy_id === 'chatty', 15_000);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM');
  });

  it('logs at most output_rate lines per second of the chatty proxy and counts the rest', async () => {
    // Every line printed is either logged or counted as dropped, once the shell loop is done.
    const counted = () => {
      const logged = daemon.lines.filter((l) => l.message === 'proxy output' && l.proxy_id === 'chatty');
      const dropped = daemon.lines.filter((l) => l.message === 'proxy output rate-limited' && l.proxy_id === 'chatty');
      return { logged, dropped: dropped.reduce((n, l) => n + Number(l.dropped_lines), 0) };
    };
    await expect.poll(() => counted().logged.length + counted().dropped, { timeout: 20_000, interval: 200 }).toBe(50_000);
    const { logged } = counted();
    const perSecond = new Map<string, number>();
    for (const l of logged) perSecond.set(String(l.timestamp).slice(0, 19), (perSecond.get(String(l.timestamp).slice(0, 19)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(RATE);
    expect(logged.length).toBeLessThan(1_000);
    expect(logged[0]).toMatchObject({ stream: 'stdout', line: 'spam 0' });
  });

  it('still logs every line of the quiet proxy, from stderr', () => {
    const quiet = daemon.lines.filter((l) => l.message === 'proxy output' && l.proxy_id === 'quiet');
    expect(quiet.map((l) => [l.stream, l.line])).toEqual([1, 2, 3, 4, 5].map((i) => ['stderr', `quiet ${i}`]));
  });
});
