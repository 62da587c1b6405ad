// kill -9 of the daemon while three real ss-server proxies run: the next daemon adopts the very
// same processes (no second copy), keeps the history and counters, and still restarts one that dies.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAliveNotZombie } from '../../src/process/proc.ts';
import { describeWith } from '../support/binaries.ts';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';
import { readState } from './support/state.ts';

describeWith(['/usr/bin/ss-server'])('a daemon killed with SIGKILL comes back where it was', () => {
  let ports: number[];
  let dir: string;
  let configFile: string;
  const daemons: TestDaemon[] = [];
  const stateDir = () => join(dir, 'state');
  const ids = ['ss-001', 'ss-002', 'ss-003'];
  const pidOf = (i: number) => pidsMatching(`-p ${ports[i]} `);
  const allPids = () => ports.flatMap((_, i) => pidOf(i));
  const run = () => {
    const daemon = startDaemon(configFile, dir);
    daemons.push(daemon);
    return daemon;
  };

  beforeAll(async () => {
    ports = await freePorts(3);
    ({ dir, configFile } = writeConfig({
      proxy: {
        monitor: { enable: true, check_interval: 1, restart_cooldown: 1, max_restarts: 10, health_timeout: 2 },
        proxies: ports.map((port, i) => ({
          id: ids[i],
          type: 'exec',
          command: '/usr/bin/ss-server',
          // -v: every connection (each health check) is logged, to pipes nobody reads after the kill.
          args: ['-s', '127.0.0.1', '-p', String(port), '-k', 'secret', '-m', 'aes-256-gcm', '-v'],
          health: { tcp: `127.0.0.1:${port}` },
        })),
      },
      api: { listen: '127.0.0.1:0' },
    }));
  });

  afterAll(async () => {
    for (const daemon of daemons) await daemon.stop('SIGKILL');
    for (const pid of allPids()) process.kill(pid, 'SIGKILL');
  });

  it('adopts the same three pids after kill -9, keeps history and counters, restarts an adopted proxy that dies', async () => {
    const first = run();
    await waitUntil(async () => (await Promise.all(ports.map((p) => accepts(p)))).every(Boolean), 10_000);

    // Some history: ss-001 crashes once and is restarted.
    const [crashed] = pidOf(0);
    process.kill(crashed, 'SIGKILL');
    await first.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-001');
    await first.waitFor((l) => l.message === 'health check round finished' && l.checked_proxies === 3);
    const pids = ports.map((_, i) => pidOf(i));
    expect(pids.every((p) => p.length === 1)).toBe(true);
    const before = readState(stateDir());
    expect(before.restarts).toMatchObject([{ proxy_id: 'ss-001', reason: 'exited', success: 1, manual: 0 }]);
    expect(before.processes.map((p) => p.pid).sort()).toEqual(pids.flat().sort());

    first.child.kill('SIGKILL');
    await first.exited;
    expect(pids.flat().every(isAliveNotZombie)).toBe(true);

    const second = run();
    for (const id of ids) await second.waitFor((l) => l.message === 'proxy process adopted from the previous run' && l.proxy_id === id);
    expect(second.lines.find((l) => l.message === 'state loaded')).toMatchObject({ adopting: 3, replacing: 0, stopping: 0 });
    // Two check rounds on the adopted proxies (each writes to the dead pipes): same pids, no second copy.
    await second.waitFor((l) => l.message === 'health check round finished' && l.checked_proxies === 3);
    await second.waitFor((l) => l.message === 'health check round finished' && l.checked_proxies === 3);
    expect(ports.map((_, i) => pidOf(i))).toEqual(pids);
    expect(second.lines.filter((l) => l.message === 'proxy restart succeeded' || l.message === 'proxy crash detected')).toEqual([]);

    const after = readState(stateDir());
    expect(after.restarts).toEqual(before.restarts);
    for (const id of ids) {
      expect(after.counters[id]).toMatchObject({ restarts: before.counters[id].restarts, successes: before.counters[id].successes });
      expect(after.counters[id].checks).toBeGreaterThan(before.counters[id].checks);
    }

    // An adopted proxy is not our child: its death is seen by polling /proc, and it is restarted.
    const [adopted] = pids[1];
    process.kill(adopted, 'SIGKILL');
    const restart = await second.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-002');
    expect(restart).toMatchObject({ reason: 'exited' });
    await waitUntil(() => accepts(ports[1]), 5_000);
    expect(pidOf(1)).toHaveLength(1);
    expect(pidOf(1)).not.toEqual([adopted]);
    expect(readState(stateDir()).restarts.map((r) => r.proxy_id)).toEqual(['ss-001', 'ss-002']);

    // SIGTERM stops adopted proxies too.
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(allPids()).toEqual([]);
    expect(readState(stateDir()).processes).toEqual([]);
  }, 60_000);
});
