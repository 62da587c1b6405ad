// What the spawn helper adds to the driver's cases (driver.test.ts runs those on it too): proxies
// outlive the helper and the daemon, and the daemon falls back to child_process when it must.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseSpawner } from '../../src/daemon/spawn-path.ts';
import { startProcess, stopAll } from '../../src/process/driver.ts';
import { isAliveNotZombie, statFields } from '../../src/process/proc.ts';
import type { ProcessHandle } from '../../src/supervisor/ports.ts';
import { startSpawnHelper } from '../../src/process/helper.ts';
import { childProcessSpawner } from '../../src/process/spawner.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { ROOT, waitUntil } from '../support/daemon.ts';

const sleep = (seconds: string): ProxySpec => ({
  id: 'p1',
  type: 'exec',
  command: 'sleep',
  args: [seconds],
  env: {},
  health: { kind: 'process' },
  monitor: true,
  secrets: [],
  files: [],
});
const owned: number[] = [];
const handles: ProcessHandle[] = [];

afterEach(async () => {
  await stopAll(handles.splice(0), 200);
  for (const pid of owned.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});

function recordingLogger() {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('the spawn helper', () => {
  it('keeps its proxies alive when it is SIGKILLed, reports their exits from /proc, and starts later ones with child_process', async () => {
    const { logger, lines } = recordingLogger();
    const helper = await startSpawnHelper((event) => event.type === 'lost' && logger.error({ reason: event.reason }, 'lost'));
    let exit: { code: number | null; signal: string | null } | undefined;
    let pid: number | undefined;
    const handle = startProcess(
      sleep('300'),
      { onSpawn: (p) => (pid = p), onSpawnError: () => {}, onExit: (code, signal) => (exit = { code, signal }), onOutput: () => {} },
      helper,
    );
    handles.push(handle);
    await waitUntil(() => pid !== undefined, 5_000);
    owned.push(pid!);

    process.kill(helper.pid, 'SIGKILL');
    await waitUntil(() => lines.some((l) => l.msg === 'lost'), 5_000);
    expect(lines.find((l) => l.msg === 'lost')!.reason).toContain('SIGKILL');
    expect(isAliveNotZombie(pid!)).toBe(true);
    expect(exit).toBeUndefined();

    process.kill(pid!, 'SIGKILL');
    await waitUntil(() => exit !== undefined, 5_000);
    expect(exit).toEqual({ code: null, signal: null }); // the status went to its new parent
    expect(handle.exited).toBe(true);

    let later: number | undefined;
    handles.push(
      startProcess(sleep('300'), { onSpawn: (p) => (later = p), onSpawnError: () => {}, onExit: () => {}, onOutput: () => {} }, helper),
    );
    await waitUntil(() => later !== undefined, 5_000);
    owned.push(later!);
  });

  it('keeps a proxy that writes its log alive when it is SIGKILLed: the pipes keep a reader, the daemon', async () => {
    // Dies on a failed write, as a Go proxy (v2ray) dies of SIGPIPE on fd 1 or 2 whatever its signal mask.
    const writer: ProxySpec = {
      ...sleep('0'),
      command: 'sh',
      args: ['-c', 'i=0; while echo "out $i" && echo "err $i" >&2; do i=$((i+1)); sleep 0.05; done; exit 3'],
    };
    const helper = await startSpawnHelper(() => {});
    const heard: string[] = [];
    let exit: { code: number | null; signal: string | null } | undefined;
    let pid: number | undefined;
    handles.push(
      startProcess(
        writer,
        {
          onSpawn: (p) => (pid = p),
          onSpawnError: () => {},
          onExit: (code, signal) => (exit = { code, signal }),
          onOutput: (stream, line) => heard.push(`${stream} ${line}`),
        },
        helper,
      ),
    );
    await waitUntil(() => heard.includes('stdout out 1') && heard.includes('stderr err 1'), 5_000);
    owned.push(pid!);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // its spares are opened a second after its start
    process.kill(helper.pid, 'SIGKILL');
    const before = heard.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(exit).toBeUndefined();
    expect(isAliveNotZombie(pid!)).toBe(true);
    // Its lines go on arriving, read by the daemon now.
    expect(heard.length).toBeGreaterThan(before + 10);
    expect(heard.slice(before).some((line) => line.startsWith('stderr err'))).toBe(true);
    process.kill(pid!, 'SIGKILL');
    await waitUntil(() => exit !== undefined, 5_000);
  });

  it('stopped with SIGSTOP, it is continued by its watchdog, and the exit of a proxy killed meanwhile arrives', async () => {
    const events: string[] = [];
    const helper = await startSpawnHelper((event) => events.push(event.type), undefined, { silentMs: 200, killAfterMs: 60_000 });
    let exit: { code: number | null; signal: string | null } | undefined;
    let pid: number | undefined;
    handles.push(
      startProcess(
        sleep('300'),
        { onSpawn: (p) => (pid = p), onSpawnError: () => {}, onExit: (code, signal) => (exit = { code, signal }), onOutput: () => {} },
        helper,
      ),
    );
    await waitUntil(() => pid !== undefined, 5_000);
    owned.push(pid!);
    process.kill(helper.pid, 'SIGSTOP');
    process.kill(pid!, 'SIGKILL');
    await waitUntil(() => exit !== undefined, 10_000);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' }); // reaped by the helper: the real status
    expect(events).toEqual(['stalled', 'continued', 'answering']);
    helper.close();
  });

  it('stuck without being stopped, it is killed once its time is up, and taken as lost', async () => {
    // Says it is ready, then never answers again.
    const stuck = join(mkdtempSync(join(tmpdir(), 'pm-helper-')), 'spawn-helper');
    writeFileSync(stuck, "#!/bin/sh\nprintf '\\001\\000\\000\\000R'\nexec sleep 300\n");
    chmodSync(stuck, 0o755);
    const events: Array<{ type: string; reason?: string }> = [];
    const helper = await startSpawnHelper((event) => events.push(event), [stuck], { silentMs: 200, killAfterMs: 1_000 });
    owned.push(helper.pid);
    await waitUntil(() => events.some((e) => e.type === 'lost'), 10_000);
    expect(events.map((e) => e.type)).toEqual(['stalled', 'lost']);
    expect(events[1].reason).toMatch(/^the spawn helper did not answer for \d+ s and was killed$/);
    expect(isAliveNotZombie(helper.pid)).toBe(false);
  });

  it('ends when its daemon is SIGKILLed, and the proxy lives on', async () => {
    const owner = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/process/support/helper-owner.ts'), '301'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    owned.push(owner.pid!);
    let out = '';
    owner.stdout.on('data', (chunk) => (out += chunk));
    await waitUntil(() => out.includes('\n'), 20_000);
    const [helperPid, proxyPid] = out.trim().split(' ').map(Number);
    owned.push(proxyPid);
    expect(isAliveNotZombie(helperPid)).toBe(true);

    owner.kill('SIGKILL');
    await waitUntil(() => !isAliveNotZombie(helperPid), 5_000);
    expect(isAliveNotZombie(proxyPid)).toBe(true);
  });
});

describe("the spawn helper's output budget", () => {
  it('a process that goes over it and exits in the same second has its drop count and its ends reported before its exit', async () => {
    const helper = await startSpawnHelper(() => {});
    const events: string[] = [];
    await new Promise<void>((done) =>
      helper.spawn(
        { command: '/bin/sh', args: ['-c', 'seq 1 60000; echo last-words; exit 3'], cwd: undefined, env: { PATH: '/usr/bin:/bin' } },
        {
          spawned: (pid) => owned.push(pid),
          failed: (error) => events.push(`failed ${error.message}`),
          output: () => {},
          outputDropped: (stream, lines) => events.push(`dropped ${stream} ${lines > 0}`),
          outputEnd: (stream) => events.push(`end ${stream}`),
          exited: (code) => {
            events.push(`exited ${code}`);
            done();
          },
        },
      ),
    );
    helper.close();
    // 60000 lines are over the 20000 a second it reads, even split across two seconds: the rest is dropped and counted.
    expect(events).toEqual(expect.arrayContaining(['dropped stdout true', 'end stdout', 'end stderr']));
    expect(events.at(-1)).toBe('exited 3');
  });
});

describe('chooseSpawner', () => {
  it('falls back to child_process with one warn line when the helper is missing or fails at start', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'pm-helper-'));
    for (const candidates of [[join(bad, 'spawn-helper')], ['/bin/false']]) {
      const { logger, lines } = recordingLogger();
      expect(await chooseSpawner(logger, {}, candidates)).toBe(childProcessSpawner);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 40, msg: expect.stringContaining('proxies start with child_process') });
    }
  });

  it('replaces a helper lost while the daemon runs: later proxies start through the new one', async () => {
    const { logger, lines } = recordingLogger();
    const spawner = await chooseSpawner(logger, {}, undefined, { first: 50, max: 100 });
    /** Starts a sleep and answers its parent: the helper that started it. */
    const parentOfNext = async () => {
      let pid: number | undefined;
      handles.push(
        startProcess(sleep('300'), { onSpawn: (p) => (pid = p), onSpawnError: () => {}, onExit: () => {}, onOutput: () => {} }, spawner),
      );
      await waitUntil(() => pid !== undefined, 5_000);
      owned.push(pid!);
      return Number(statFields(pid!)![1]);
    };
    const first = await parentOfNext();
    expect(first).not.toBe(process.pid);
    process.kill(first, 'SIGKILL');
    await waitUntil(() => lines.some((l) => l.msg.startsWith('spawn helper started again')), 5_000);
    expect(lines.map((l) => l.msg.split(':')[0])).toEqual(['spawn helper lost', 'spawn helper started again']);
    const second = await parentOfNext();
    expect([first, process.pid]).not.toContain(second);
    expect(await spawner.connect!('127.0.0.1', 1, 1_000)).toMatchObject({ error: expect.any(Number) }); // the new helper connects
    owned.push(second);
  });

  it('uses child_process without a word when PROXY_MONITOR_SPAWN=child_process', async () => {
    const { logger, lines } = recordingLogger();
    expect(await chooseSpawner(logger, { PROXY_MONITOR_SPAWN: 'child_process' })).toBe(childProcessSpawner);
    expect(lines).toEqual([]);
  });
});
