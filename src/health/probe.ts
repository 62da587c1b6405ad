// One entry point for every health check kind.
import type { Connector } from '../process/spawner.ts';
import type { HealthSpec } from '../proxy-spec.ts';
import { probeExec } from './exec.ts';
import { probeHttp } from './http.ts';
import { probeProcess } from './process.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';
import { probeShadowsocks } from './shadowsocks.ts';
import { probeTcp, probeUnix } from './tcp.ts';
import { probeTls } from './tls.ts';

export type Probe = (spec: HealthSpec, target: ProbeTarget) => Promise<ProbeResult>;

/** `connect`: where TCP checks connect, when not in the event loop (tcp.ts). */
export function createProbe(connect?: Connector): Probe {
  return (spec, target) => run(spec, target, connect);
}

/** Never rejects; settles within target.timeoutMs plus the time to tear the probe down. */
export const probe: Probe = createProbe();

async function run(spec: HealthSpec, target: ProbeTarget, connect: Connector | undefined): Promise<ProbeResult> {
  try {
    switch (spec.kind) {
      case 'process':
        return probeProcess(target);
      case 'tcp':
        return await probeTcp(spec, target, connect);
      case 'unix':
        return await probeUnix(spec.path, target);
      case 'http':
        return await probeHttp(spec, target);
      case 'exec':
        return await probeExec(spec.command, target);
      case 'tls':
        return await probeTls(spec, target);
      case 'shadowsocks':
        return await probeShadowsocks(spec, target);
    }
  } catch (error) {
    return { ok: false, durationMs: 0, error: error instanceof Error ? error.message : String(error) };
  }
}
