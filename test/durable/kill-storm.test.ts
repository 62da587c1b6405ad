// kill -9 of the daemon at random moments of a restart storm, several times over: each time the
// database opens intact and holds every restart the daemon had reported, and no proxy runs twice.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type LogLine, type TestDaemon } from '../support/daemon.ts';
import { integrityCheck, readState, type StoredRestart } from './support/state.ts';

const ROUNDS = 6;
const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
  for (const pid of pidsMatching(marker)) process.kill(pid, 'SIGKILL');
});

// Unique to this run, so the long-lived proxy is told apart from any other sleep on the machine.
const marker = `${process.pid}${Date.now() % 100_000}`;

const restartKey = (...fields: unknown[]) => JSON.stringify(fields);
const reported = (l: LogLine) => restartKey(l.proxy_id, l.message === 'proxy restart succeeded', l.duration_ms, l.reason, l.error ?? null);
const stored = (r: StoredRestart) => restartKey(r.proxy_id, r.success === 1, r.duration_ms, r.reason, r.error);

it('every reported restart survives a kill at any moment, the database opens, no proxy runs twice', async () => {
  const { dir, configFile } = writeConfig({
    api: { listen: '127.0.0.1:0' }, // the API on a free port: 8080 may be taken
    proxy: {
      // min_uptime 0: the flaky proxies live 0.1 s, and their restarts must count as succeeded here.
      monitor: {
        enable: true,
        check_interval: 1,
        restart_cooldown: 0,
        max_restarts: 100_000,
        start_grace: 1,
        min_uptime: 0,
        backoff: { initial: 0.05, factor: 1, max: 0.05 },
      },
      proxies: [
        // Restarts that succeed, several a second each...
        ...[1, 2, 3].map((i) => ({ id: `flaky-${i}`, type: 'exec', command: '/bin/sh', args: ['-c', 'sleep 0.1; exit 1'] })),
        // ...restarts that fail...
        { id: 'missing', type: 'exec', command: '/nonexistent/proxy', args: [] },
        // ...and one that stays up through it all, adopted round after round.
        { id: 'steady', type: 'exec', command: '/bin/sleep', args: [`1${marker}`] },
      ],
    },
  });
  const stateDir = join(dir, 'state');
  let reportedTotal = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const daemon = startDaemon(configFile, dir);
    daemons.push(daemon);
    await daemon.waitFor((l) => l.message === 'proxy restart succeeded', 15_000);
    await new Promise((done) => setTimeout(done, 100 + Math.random() * 900));
    daemon.child.kill('SIGKILL');
    await daemon.exited;

    expect(integrityCheck(stateDir)).toBe('ok');
    const inStore = readState(stateDir).restarts.map(stored);
    const lines = daemon.lines.filter((l) => /^proxy restart (succeeded|failed)$/.test(l.message));
    expect(lines.some((l) => l.message === 'proxy restart failed')).toBe(true);
    for (const line of lines) {
      const at = inStore.indexOf(reported(line));
      expect(at, `reported but not stored: ${JSON.stringify(line)}`).toBeGreaterThanOrEqual(0);
      inStore.splice(at, 1);
    }
    reportedTotal += lines.length;
    expect(pidsMatching(marker)).toHaveLength(1);
  }
  expect(reportedTotal).toBeGreaterThan(ROUNDS * 5);

  // A last daemon adopts the survivor and stops everything on SIGTERM.
  const last = startDaemon(configFile, dir);
  daemons.push(last);
  await last.waitFor((l) => l.message === 'proxy process adopted from the previous run' && l.proxy_id === 'steady');
  expect(pidsMatching(marker)).toHaveLength(1);
  expect(await last.stop('SIGTERM')).toBe(0);
  await waitUntil(() => pidsMatching(marker).length === 0, 5_000);
}, 120_000);
