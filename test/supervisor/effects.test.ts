// The effects between the machines and the world (effects.ts), on the fake world with the driver's
// and the prober's calls watched: what each process callback reaches (machine and hooks), that a
// replaced process's late callbacks are dropped, and the timeouts and readings handed to the world.
import { describe, expect, it } from 'vitest';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import type { ProbeTarget } from '../../src/health/result.ts';
import type { ProcessEvents, ProcessUsage } from '../../src/supervisor/ports.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness, type HarnessOptions } from '../support/harness.ts';

/** A harness whose world also records each process's callbacks, each probe's target and each stop's grace. */
async function watched(options: HarnessOptions & { usage?: (pids: number[]) => Map<number, ProcessUsage> } = {}) {
  const calls = { events: [] as { id: string; events: ProcessEvents }[], probes: [] as ProbeTarget[], stops: [] as number[] };
  const hooked: string[] = [];
  const h = await startHarness({
    ...options,
    hooks: {
      onProcess: (id, pid, event) => hooked.push(`${event} ${id} ${pid}`),
      onOutput: (id, stream, line) => hooked.push(`${stream} ${id} ${line}`),
      onCheckRound: (ms, checked) => hooked.push(`round ${ms}ms ${checked}`),
      ...options.hooks,
    },
    world: (world) => {
      const { start } = world.driver;
      world.driver.start = (spec: ProxySpec, events: ProcessEvents) => {
        calls.events.push({ id: spec.id, events });
        const handle = start(spec, events);
        const stop = handle.stop.bind(handle);
        return Object.assign(handle, {
          stop: (ms: number) => {
            calls.stops.push(ms);
            stop(ms);
          },
        });
      };
      const { probe } = world.prober;
      world.prober.probe = (spec, target) => {
        calls.probes.push(target);
        return probe(spec, target);
      };
      if (options.usage) world.driver.measure = options.usage;
    },
  });
  return { ...h, calls, hooked };
}

describe('process callbacks', () => {
  it('reach the hooks: started, each output line, exited; an escaped process is named in the crash', async () => {
    const h = await watched({ specs: [fakeSpec('a')] });
    const [first] = h.calls.events;
    const pid = h.proxy('a').context.pid;
    expect(h.hooked).toContain(`started a ${pid}`);
    first.events.onOutput('stdout', 'listening');
    first.events.onOutput('stderr', 'warning');
    first.events.onExit(1, null, 'setsid sleep (pid 77)');
    await h.settle();
    expect(h.hooked).toEqual(expect.arrayContaining(['stdout a listening', 'stderr a warning', `exited a ${pid}`]));
    const crash = h.reportsOf('crash_detected').at(-1);
    expect(crash?.reason).toContain('setsid sleep (pid 77)');
    expect(crash?.exitCode).toBe(1);
  });

  it('from a process that was replaced are dropped: no crash, no second exit, no stale pid', async () => {
    const h = await watched({ specs: [fakeSpec('a')] });
    const [old] = h.calls.events;
    const oldPid = h.proxy('a').context.pid;
    h.supervisor.command('a', 'RESTART');
    await h.advance(100);
    expect(h.calls.events).toHaveLength(2);
    const newPid = h.proxy('a').context.pid;
    expect(newPid).not.toBe(oldPid);
    const crashes = h.reportsOf('crash_detected').length;
    const hooked = h.hooked.length;

    old.events.onSpawn(4242);
    old.events.onExit(null, 'SIGKILL');
    old.events.onSpawnError('spawn ENOENT');
    await h.advance(100);
    expect(h.reportsOf('crash_detected')).toHaveLength(crashes);
    expect(h.proxy('a').context.pid).toBe(newPid);
    expect(h.phase('a')).toBe('running');
    expect(h.hooked.slice(hooked)).toEqual([]);
  });

  it('an adopted process is reported adopted, then exited, and its exit is a crash', async () => {
    const h = await watched({
      specs: [fakeSpec('a')],
      memory: { a: { adoptPid: 5555, adoptStartedAt: Date.UTC(2026, 0, 1) - 60_000, wanted: 'up' } },
    });
    // The fake world knows the pid from no spawn of its own: it names the process by pid.
    expect(h.world.log).toContain('adopt pid-5555 5555');
    expect(h.hooked).toContain('adopted a 5555');
    h.world.crash('pid-5555');
    await h.settle();
    expect(h.hooked).toContain('exited a 5555');
    expect(h.reportsOf('crash_detected')).toHaveLength(1);
  });
});

describe('what the world is handed', () => {
  it('probes get health_timeout in ms, the proxy’s own or the monitor’s', async () => {
    const h = await watched({
      specs: [fakeSpec('own', { settings: { health_timeout: 2 } }), fakeSpec('inherits')],
      settings: { health_timeout: 7, check_interval: 10 },
    });
    await h.advance(10_000);
    const byPid = new Map(h.calls.probes.map((t) => [t.pid, t.timeoutMs]));
    expect(byPid.get(h.proxy('own').context.pid!)).toBe(2000);
    expect(byPid.get(h.proxy('inherits').context.pid!)).toBe(7000);
  });

  it('a stop gets stop_timeout in ms, the proxy’s own or the monitor’s', async () => {
    const h = await watched({
      specs: [fakeSpec('own', { settings: { stop_timeout: 3 } }), fakeSpec('inherits')],
      settings: { stop_timeout: 4 },
    });
    h.supervisor.command('own', 'STOP');
    h.supervisor.command('inherits', 'STOP');
    await h.advance(100);
    expect(h.calls.stops).toEqual([3000, 4000]);
  });

  it('a check round reports how long it took on the clock and how many it checked', async () => {
    const h = await watched({ specs: [fakeSpec('a'), fakeSpec('b')], settings: { check_interval: 10, check_concurrency: 1 } });
    h.world.probeMs = 300;
    await h.advance(10_700);
    expect(h.hooked.filter((l) => l.startsWith('round'))).toEqual(['round 600ms 2']);
  });

  it('a failed check carries the memory reading taken with it; usage is by proxy id, for live processes only', async () => {
    const h = await watched({
      specs: [fakeSpec('a', { maxMemory: 1_000_000 }), fakeSpec('b')],
      settings: { check_interval: 10 },
      usage: (pids) => new Map(pids.map((pid) => [pid, { memoryBytes: 500_000, cpuSeconds: 1 }])),
    });
    h.world.unhealthy.add('a');
    await h.advance(10_000);
    const failed = h.reportsOf('check_finished').find((r) => r.proxyId === 'a' && !r.ok);
    expect(failed?.memory).toEqual({ bytes: 500_000, limit: 1_000_000 });
    expect(Object.fromEntries(h.supervisor.usage())).toEqual({
      a: { memoryBytes: 500_000, cpuSeconds: 1 },
      b: { memoryBytes: 500_000, cpuSeconds: 1 },
    });
    h.supervisor.command('b', 'STOP');
    await h.advance(100);
    expect([...h.supervisor.usage().keys()]).toEqual(['a']);
  });
});

describe('timers', () => {
  it('a wake timer that fires a millisecond early (as Node’s may) is armed again: one withheld, then the restart', async () => {
    const h = await startHarness({
      settings: { restart_cooldown: 60 },
      world: (world) => {
        const { setTimeout } = world.clock;
        world.clock.setTimeout = (fn, ms) => setTimeout.call(world.clock, fn, ms > 1 ? ms - 1 : ms);
      },
    });
    h.world.crash('ss-1');
    await h.settle();
    const cooldownEnds = h.world.clock.now() + 60_000;
    await h.advance(10_000);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(cooldownEnds - 1 - h.world.clock.now()); // the timer fires here, a millisecond early
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(1);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_withheld')).toHaveLength(1);
    expect(h.reportsOf('restart_finished')).toHaveLength(2);
  });

  /** When, after the crash, the restarted process's readiness was first probed (simulated clock). */
  async function firstReadinessProbe(settings: { min_uptime: number; start_grace: number }) {
    const asked: number[] = [];
    const h = await startHarness({
      settings: { ...settings, restart_cooldown: 0 },
      world: (world) => {
        const { waitUntilReady } = world.prober;
        world.prober.waitUntilReady = (...args) => {
          asked.push(world.clock.now());
          return waitUntilReady(...args);
        };
      },
    });
    asked.length = 0;
    h.world.crash('ss-1');
    const crashedAt = h.world.clock.now();
    await h.advance(10_000);
    expect(h.state()).toBe('running.up');
    return asked[0] - crashedAt;
  }

  it('readiness is first probed once min_uptime has passed, not while the process starts', async () => {
    expect(await firstReadinessProbe({ min_uptime: 2, start_grace: 5 })).toBeGreaterThanOrEqual(2_000);
    expect(await firstReadinessProbe({ min_uptime: 0, start_grace: 5 })).toBeLessThan(1_000);
    // min_uptime past start_grace: the probe must pass within start_grace, so it starts at once.
    expect(await firstReadinessProbe({ min_uptime: 8, start_grace: 5 })).toBeLessThan(1_000);
  });
});

describe('checks', () => {
  it('a hung check holds one slot of check_concurrency: the proxy is still checked every interval, and so are the others', async () => {
    const calls: Record<string, number> = { a: 0, b: 0 };
    let pidOfA: number | undefined;
    const h = await startHarness({
      specs: [fakeSpec('a'), fakeSpec('b')],
      settings: { check_interval: 1, check_concurrency: 2 },
      world: (world) => {
        const { probe } = world.prober;
        world.prober.probe = (spec, target) => {
          const id = target.pid === pidOfA ? 'a' : 'b';
          calls[id]++;
          return id === 'a' ? new Promise(() => {}) : probe(spec, target);
        };
      },
    });
    pidOfA = h.proxy('a').context.pid!;
    await h.advance(10_000);
    expect(calls.a).toBeGreaterThanOrEqual(9);
    expect(calls.b).toBeGreaterThanOrEqual(9);
  });

  it("checks slower than the interval keep to check_concurrency: a check still waiting for a slot is the round's check", async () => {
    const specs = Array.from({ length: 20 }, (_, i) => fakeSpec(`p${i}`));
    const h = await startHarness({
      specs,
      settings: { check_interval: 1, check_concurrency: 4 },
      world: (world) => (world.probeMs = 2_500),
    });
    await h.advance(20_000);
    // Each slot's proxy may start a check beside its own at each round while it holds the slot, and
    // those last 2.5 s: at most 1 + 3 per slot, whatever the number of proxies (20 here).
    expect(h.world.probes.peak).toBeLessThanOrEqual(4 * (1 + 3));
    expect(h.reportsOf('check_finished').length).toBeGreaterThan(20);
  });
});

describe('a check that waited for a slot', () => {
  it("is the round's check: the next round does not start a second one beside it (two failures a few ms apart)", async () => {
    const began: Record<string, number[]> = { a: [], b: [] };
    let pidOfA: number | undefined;
    const h = await startHarness({
      specs: [fakeSpec('a'), fakeSpec('b')],
      settings: { check_interval: 1, check_concurrency: 1, health_timeout: 20 },
      world: (world) => {
        world.prober.probe = (_spec, target) => {
          const id = target.pid === pidOfA ? 'a' : 'b';
          began[id].push(world.clock.now());
          // a's checks take 2.6 s and hold the one slot: b's wait for it, then take 0.8 s.
          const ms = id === 'a' ? 2_600 : 800;
          return new Promise((resolve) => world.clock.setTimeout(() => resolve({ ok: true, durationMs: ms }), ms));
        };
      },
    });
    pidOfA = h.proxy('a').context.pid!;
    await h.advance(12_000);
    expect(began.b.length).toBeGreaterThanOrEqual(2);
    const gaps = began.b.slice(1).map((at, i) => at - began.b[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);
  });
});

describe('readiness of a restart', () => {
  it('is probed as its process was started, not as a reload made meanwhile changed the spec', async () => {
    const ports: number[] = [];
    const h = await startHarness({
      settings: { min_uptime: 2 },
      world: (world) => {
        const { waitUntilReady } = world.prober;
        world.prober.waitUntilReady = (health, target, deadline, signal) => {
          if (health.kind === 'tcp') ports.push(health.port);
          return waitUntilReady(health, target, deadline, signal);
        };
      },
    });
    const moved = (port: number) => fakeSpec('ss-1', { args: [`--port=${port}`], health: { kind: 'tcp', host: '127.0.0.1', port } });
    h.supervisor.reconcile([moved(2)], h.supervisor.settings());
    await h.settle();
    expect(h.state()).toBe('running.verifying'); // replaced; its readiness is probed at min_uptime
    h.supervisor.reconcile([moved(3)], h.supervisor.settings()); // changed again while it is verified
    await h.advance(5_000);
    await h.settle();
    // The process started on port 2 is ready on port 2; the second change then replaces it.
    expect(h.reportsOf('restart_finished').map((r) => r.record.success)).toEqual([true, true]);
    expect(ports).toEqual([2, 3]);

    // A change of the check alone (applied in place) while a restart is verified: the new check.
    h.supervisor.reconcile([moved(4)], h.supervisor.settings());
    await h.settle();
    h.supervisor.reconcile([{ ...moved(4), health: { kind: 'tcp', host: '127.0.0.1', port: 5 } }], h.supervisor.settings());
    await h.advance(2_500);
    expect(ports).toEqual([2, 3, 5]);
  });
});
