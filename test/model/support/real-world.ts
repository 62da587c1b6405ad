// The daemon's real world (src/process driver, src/health probes, system clock) running the demo
// echo server on loopback, with one handle for the test: a plan saying how each coming spawn and
// readiness wait turns out. A failing spawn gets a command that does not exist; a failing readiness
// wait probes a port nobody listens on. Everything else is the real thing.
import net from 'node:net';
import { systemClock } from '../../../src/clock.ts';
import { createLimiter } from '../../../src/health/limiter.ts';
import { probe } from '../../../src/health/probe.ts';
import { waitUntilReady } from '../../../src/health/ready.ts';
import { adoptProcess, startProcess, stopAll } from '../../../src/process/driver.ts';
import type { HealthSpec, ProxySpec } from '../../../src/proxy-spec.ts';
import type { World } from '../../../src/supervisor/ports.ts';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function echoSpec(id: string, port: number): ProxySpec {
  return {
    id,
    type: 'exec',
    command: process.execPath,
    args: ['--import', 'tsx', 'demo/echo-server.ts', '--host', '127.0.0.1', '--port', String(port)],
    env: {},
    cwd: process.cwd(),
    health: { kind: 'tcp', host: '127.0.0.1', port, send: 'PING\n', expect: 'PONG' },
    monitor: true,
    secrets: [],
    files: [],
  };
}

export interface Plan {
  spawns: boolean[];
  ready: boolean[];
}

export function createPlannedWorld(plan: Plan, closedPort: number): World & { spawned: number } {
  const limiter = createLimiter(4);
  const dead: HealthSpec = { kind: 'tcp', host: '127.0.0.1', port: closedPort };
  const world = {
    spawned: 0,
    clock: systemClock,
    driver: {
      start(spec: ProxySpec, events: Parameters<typeof startProcess>[1]) {
        world.spawned += 1;
        const ok = plan.spawns.shift() ?? true;
        return startProcess(ok ? spec : { ...spec, command: '/nonexistent/proxy-monitor-model-test' }, events);
      },
      adopt: (pid: number, events: Parameters<typeof adoptProcess>[1]) => adoptProcess(pid, events, 100),
      stopAll,
    },
    prober: {
      probe,
      waitUntilReady: (spec: HealthSpec, target: { pid?: number; timeoutMs: number }, deadline: number, signal: AbortSignal) =>
        waitUntilReady((plan.ready.shift() ?? true) ? spec : dead, target, deadline, signal),
      limit: <T>(task: () => Promise<T>) => limiter.run(task),
      setConcurrency: (n: number) => limiter.setConcurrency(n),
    },
  };
  return world;
}
