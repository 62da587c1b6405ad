// Restart storm: every server SIGKILLed at once, then the time until each port accepts again.
import { isAliveNotZombie, killAll } from '../lib/proc.ts';
import { median, percentile } from '../lib/stats.ts';
import { epochNow, type Poller } from '../lib/poller.ts';
import { waitAllAccept } from '../lib/ports.ts';
import type { ServerKind, ServerTable } from '../lib/servers.ts';
import type { Supervised } from '../systems/system.ts';

export interface Storm {
  /** Epoch ms just before the first kill. */
  killedAt: number;
  /** Epoch ms just before each server's own kill, by port (lib/proc.ts killAll). */
  killedAtByPort: Map<number, number>;
  /** ms from the kill to the port accepting, per port; null: not back within the timeout. */
  times: (number | null)[];
  p50: number;
  p99: number;
  max: number;
}

export interface StormSummary {
  rounds: number;
  /** Medians over the rounds of each round's p50, p99 and max (all back). */
  p50: number;
  p99: number;
  max: number;
  /** Ports that never came back, over all rounds. */
  missing: number;
  /** Lowest and highest over the rounds. */
  range: { p50: [number, number]; max: [number, number] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RECOVERY_TIMEOUT_MS = 30_000;

/** The recovery is timed by `poller`, in a process of its own; `onKilled` runs once every server was sent its SIGKILL. */
export async function storm(
  system: Supervised,
  table: ServerTable,
  ports: number[],
  poller: Poller,
  kind: ServerKind,
  onKilled?: () => void,
): Promise<Storm> {
  const live = () => table.children(system.pid);
  await waitAllAccept(ports, live, RECOVERY_TIMEOUT_MS);
  const servers = [...live()];
  const pids = servers.map(([, pid]) => pid);
  if (pids.length !== ports.length)
    throw new Error(`${system.name}: ${ports.length} ports accept but ${pids.length} servers are its children`);
  const killedAt = Date.now();
  const since = epochNow();
  const killedAtByPid = killAll(pids);
  const killedAtByPort = new Map(servers.map(([port, pid]) => [port, killedAtByPid.get(pid)!]));
  onKilled?.();
  table.retire(pids);
  // A killed server's listener is closed once it is dead (a zombie has no files): from then on an
  // accepting port is a new server.
  while (pids.some(isAliveNotZombie)) await sleep(1);
  const times = await poller.recoveryTimes(kind, { parent: system.pid, ports, retired: pids, since, timeoutMs: RECOVERY_TIMEOUT_MS });
  return { killedAt, killedAtByPort, ...spread(times) };
}

export function summarize(storms: Omit<Storm, 'killedAt' | 'killedAtByPort'>[]): StormSummary {
  return {
    rounds: storms.length,
    p50: median(storms.map((s) => s.p50)),
    p99: median(storms.map((s) => s.p99)),
    max: median(storms.map((s) => s.max)),
    missing: storms.reduce((n, s) => n + s.times.filter((t) => t === null).length, 0),
    range: { p50: bounds(storms.map((s) => s.p50)), max: bounds(storms.map((s) => s.max)) },
  };
}

function bounds(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/** p50, p99 and max of one round's recovery times (max is Infinity when a port never came back). */
export function spread(times: (number | null)[]) {
  const back = times.filter((t): t is number => t !== null);
  return {
    times,
    p50: percentile(back, 50),
    p99: percentile(back, 99),
    max: back.length === times.length ? Math.max(...back) : Infinity,
  };
}
