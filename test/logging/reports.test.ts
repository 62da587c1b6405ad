// The crash line is written once the actor has handled the crash, possibly after the restart's
// spawn: it carries the moment the crash reached the actor, which is what the bench measures.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createRedactor } from '../../src/logging/redact.ts';
import { createReportLogger } from '../../src/logging/reports.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

it('a crash line names when the crash was detected, apart from when it was written', () => {
  const { logger, lines } = capture();
  const at = Date.parse('2026-01-15T10:35:30.123Z');
  createReportLogger(logger, () => createRedactor(['hunter2']))({
    type: 'crash_detected',
    proxyType: 'shadowsocks',
    proxyId: 'ss-1',
    at,
    reason: 'exited; password hunter2',
    exitCode: null,
    signal: 'SIGKILL',
    counters: { stats: { checks: 0, restarts: 0, successes: 0, failures: 0 }, consecutiveFailures: 0, lastFailureAt: null },
  });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    message: 'proxy crash detected',
    level: 'warn',
    proxy_id: 'ss-1',
    detected_at: '2026-01-15T10:35:30.123Z',
    signal: 'SIGKILL',
    reason: 'exited; password [REDACTED]',
  });
  expect(lines[0].timestamp).not.toBe(lines[0].detected_at);
});
