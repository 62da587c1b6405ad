// Proving processes of a previous run ours, on real processes and /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptProcess, startProcess, stopAll } from '../../src/process/driver.ts';
import { processStartTime } from '../../src/process/proc.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { settleProcesses } from '../../src/adoption/plan.ts';
import { SPAWN_TOKEN_ENV } from '../../src/process/escape.ts';
import { createProcessJournal } from '../../src/adoption/journal.ts';
import { executedFingerprint } from '../../src/supervisor/executed.ts';
import { openStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { waitUntil } from '../support/daemon.ts';

const sleeper = (id: string, extra: Partial<ProxySpec> = {}): ProxySpec => fakeSpec(id, { command: '/bin/sleep', args: ['300'], ...extra });

let store: Store;
const groups: number[] = [];
afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  store?.close();
});

function freshStore(): Store {
  store = openStore(join(mkdtempSync(join(tmpdir(), 'pm-adopt-')), 'state'), { maxAgeMs: 3_600_000, maxRecords: 100 });
  return store;
}

/** Starts `spec` as the daemon does: through the journal, recording the process. */
async function startRecorded(spec: ProxySpec): Promise<number> {
  const journal = createProcessJournal(store, Date.now);
  const driver = journal.wrap({ start: startProcess, adopt: (pid, events) => adoptProcess(pid, events, 50), stopAll });
  let pid: number | undefined;
  driver.start(spec, {
    onSpawn: (p) => {
      pid = p;
      journal.onProcess(spec.id, p, 'started');
    },
    onSpawnError: () => {},
    onExit: () => {},
    onOutput: () => {},
  });
  await waitUntil(() => pid !== undefined, 5_000);
  groups.push(pid!);
  // Past the shell's exec: the command line is the proxy's own.
  await waitUntil(() => processStartTime(pid!) !== undefined && !JSON.stringify(readCmdline(pid!)).includes('trap'), 5_000);
  // The journal records the pid once it has read the start time (off the event loop).
  await waitUntil(() => store.processes().some((row) => row.pid === pid), 5_000);
  return pid!;
}

const readCmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

const specsOf = (...specs: ProxySpec[]) => new Map(specs.map((s) => [s.id, s]));
const allUp = () => 'up' as const;

describe('settleProcesses', () => {
  it('adopts a live process it started, recognised by pid, start time and command line', async () => {
    freshStore();
    const spec = sleeper('ss-1');
    const pid = await startRecorded(spec);
    const plan = settleProcesses(store, specsOf(spec), allUp);
    expect(plan).toEqual({
      adopt: new Map([['ss-1', pid]]),
      replace: [],
      stop: [],
      unproven: [],
      lost: new Map(),
      ended: [],
      unrecorded: [],
    });
    expect(store.processes().map((p) => p.pid)).toEqual([pid]);
  });

  it('adopts but replaces a process started from a different config (same argv, other env)', async () => {
    freshStore();
    const pid = await startRecorded(sleeper('ss-1'));
    const changed = sleeper('ss-1', { env: { LOG_LEVEL: 'debug' } });
    expect(executedFingerprint(changed)).not.toBe(executedFingerprint(sleeper('ss-1')));
    const plan = settleProcesses(store, specsOf(changed), allUp);
    expect(plan.adopt.get('ss-1')).toBe(pid);
    expect(plan.replace).toEqual(['ss-1']);
  });

  it('plans to stop its processes of removed proxies and older duplicates; a stopped proxy adopts its process to stop it itself', async () => {
    freshStore();
    const removed = await startRecorded(sleeper('gone-from-config'));
    const stopped = await startRecorded(sleeper('ss-down'));
    const older = await startRecorded(sleeper('ss-1'));
    const newer = await startRecorded(sleeper('ss-1'));
    const plan = settleProcesses(store, specsOf(sleeper('ss-down'), sleeper('ss-1')), (id) => (id === 'ss-down' ? 'down' : 'up'));
    // The stopped proxy's actor stops it (stopped.stopping), so that a start waits for its end.
    expect(plan.adopt).toEqual(
      new Map([
        ['ss-1', newer],
        ['ss-down', stopped],
      ]),
    );
    expect(plan.stop.map(({ row, why }) => [row.pid, why]).sort()).toEqual(
      [
        [removed, 'the proxy is no longer in the configuration'],
        [older, 'a newer process of the same proxy is running'],
      ].sort(),
    );
  });

  it('forgets a process that died or whose pid now names another process; leaves an unproven one alone', async () => {
    freshStore();
    const spec = sleeper('ss-1');
    const dead = await startRecorded(spec);
    process.kill(-dead, 'SIGKILL');
    await waitUntil(() => processStartTime(dead) === undefined, 5_000);

    // A live process of someone else's, recorded with a wrong start time (pid reuse) or another command line.
    const stranger = spawn('/bin/sleep', ['301'], { detached: true, stdio: 'ignore' });
    groups.push(stranger.pid!);
    await waitUntil(() => processStartTime(stranger.pid!) !== undefined, 5_000);
    // Recorded before this boot (at 0): the same pid and start time may name another process.
    const base = { token: 'x', proxyId: 'ss-2', command: JSON.stringify(['/bin/sleep', '300']), fingerprint: 'f', at: 0 };
    store.recordProcess({ ...base, token: 'reused', pid: stranger.pid!, startTime: processStartTime(stranger.pid!)! - 1 });
    store.recordProcess({ ...base, token: 'other-cmd', proxyId: 'ss-3', pid: stranger.pid!, startTime: processStartTime(stranger.pid!)! });

    const plan = settleProcesses(store, specsOf(spec, sleeper('ss-2'), sleeper('ss-3')), allUp);
    expect(plan.adopt.size).toBe(0);
    expect(plan.stop).toEqual([]);
    // Died in this boot: a crash the next daemon handles; gone since before it (a reboot): no crash of its own.
    expect([...plan.lost.keys()]).toEqual(['ss-1']);
    expect(plan.lost.get('ss-1')!.pid).toBe(dead);
    expect(plan.unproven.map(({ row, why }) => [row.proxyId, why])).toEqual([
      [
        'ss-3',
        'same pid and start time, recorded before this boot, but neither the command line we launched nor our token in its environment',
      ],
    ]);
    expect(store.processes()).toEqual([]);
    expect(processStartTime(stranger.pid!)).toBeDefined();
  });

  it('adopts a process recorded in this boot by pid and start time alone (a server that rewrote its title and environment)', async () => {
    freshStore();
    const spec = sleeper('ss-1');
    const retitled = spawn('/bin/sleep', ['304'], { detached: true, stdio: 'ignore', env: {} });
    groups.push(retitled.pid!);
    await waitUntil(() => processStartTime(retitled.pid!) !== undefined, 5_000);
    const startTime = processStartTime(retitled.pid!)!;
    const row = { token: 't', proxyId: 'ss-1', command: JSON.stringify(['/opt/proxy']), fingerprint: executedFingerprint(spec) };
    store.recordProcess({ ...row, at: Date.now(), pid: retitled.pid!, startTime });
    expect(settleProcesses(store, specsOf(spec), allUp).adopt).toEqual(new Map([['ss-1', retitled.pid!]]));
  });

  it("adopts a recorded process whose command line is not the one launched when it carries our token (a wrapper that exec'd its server)", async () => {
    freshStore();
    const spec = sleeper('ss-1');
    // What a shebang script or an exec wrapper looks like in /proc: another command line, our environment.
    const wrapped = spawn('/bin/sleep', ['303'], { detached: true, stdio: 'ignore', env: { [SPAWN_TOKEN_ENV]: 'wrapped' } });
    groups.push(wrapped.pid!);
    await waitUntil(() => processStartTime(wrapped.pid!) !== undefined, 5_000);
    const startTime = processStartTime(wrapped.pid!)!;
    const row = { token: 'wrapped', proxyId: 'ss-1', command: JSON.stringify(['/opt/proxy.sh']), fingerprint: executedFingerprint(spec) };
    // Recorded before this boot (at 0), so the pid and start time need one more proof.
    store.recordProcess({ ...row, at: 0, pid: wrapped.pid!, startTime });
    // Another token in the environment proves nothing.
    store.recordProcess({ ...row, token: 'not-this-one', proxyId: 'ss-2', at: 0, pid: wrapped.pid!, startTime });

    const plan = settleProcesses(store, specsOf(spec, sleeper('ss-2')), allUp);
    expect(plan.adopt).toEqual(new Map([['ss-1', wrapped.pid!]]));
    expect(plan.unproven.map(({ row }) => row.proxyId)).toEqual(['ss-2']);
  });

  it('finds a child whose pid was never recorded by the token in its environment', async () => {
    freshStore();
    const spec = sleeper('ss-1');
    const command = JSON.stringify([spec.command, ...spec.args]);
    store.recordSpawn({ token: 'tok-found', proxyId: 'ss-1', command, fingerprint: executedFingerprint(spec), at: Date.now() });
    store.recordSpawn({ token: 'tok-lost', proxyId: 'ss-2', command, fingerprint: 'f', at: Date.now() });
    // The daemon died between the fork and learning the pid.
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, [SPAWN_TOKEN_ENV]: 'tok-found' },
    });
    groups.push(child.pid!);
    await waitUntil(() => processStartTime(child.pid!) !== undefined, 5_000);

    const plan = settleProcesses(store, specsOf(spec, sleeper('ss-2')), allUp);
    expect(plan.adopt).toEqual(new Map([['ss-1', child.pid]]));
    expect(store.pendingSpawns()).toEqual([]);
    expect(store.processes()).toMatchObject([{ token: 'tok-found', pid: child.pid, startTime: processStartTime(child.pid!) }]);
  });
});

describe('the journal', () => {
  /** A spawn journaled through a driver that starts nothing: the test says when "it" started and exited. */
  function journaled() {
    const journal = createProcessJournal(store, Date.now);
    const handle = { pid: undefined, stop: () => {}, exited: false };
    journal.wrap({ start: () => handle, adopt: () => handle, stopAll }).start(sleeper('ss-1'), {
      onSpawn: () => {},
      onSpawnError: () => {},
      onExit: () => {},
      onOutput: () => {},
    });
    return journal;
  }

  it('records the started process with its start time, read off the event loop', async () => {
    freshStore();
    const journal = journaled();
    expect(store.pendingSpawns()).toHaveLength(1);
    journal.onProcess('ss-1', process.pid, 'started');
    await waitUntil(() => store.processes().length === 1, 5_000);
    expect(store.processes()[0]).toMatchObject({ pid: process.pid, startTime: processStartTime(process.pid) });
    expect(store.pendingSpawns()).toEqual([]);
  });

  it('an exit heard before the start time is read forgets the spawn: nothing is left to adopt', async () => {
    freshStore();
    const journal = journaled();
    journal.onProcess('ss-1', process.pid, 'started');
    journal.onProcess('ss-1', process.pid, 'exited');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(store.processes()).toEqual([]);
    expect(store.pendingSpawns()).toEqual([]);
  });
});
