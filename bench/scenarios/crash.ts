// How soon proxy-monitor's actor sees a crash: `detected_at` of its "proxy crash detected" log line
// (the time the exit reached the actor, stamped by the driver's exit callback) against the time the
// server was SIGKILLed. Whole-ms clocks on both sides, so each figure is within a millisecond.
import { epochNow, type Poller } from '../lib/poller.ts';
import type { ServerKind, ServerTable } from '../lib/servers.ts';
import type { LogLine, Ours } from '../systems/ours.ts';
import type { Storm } from './storm.ts';

const CRASH = 'proxy crash detected';

/**
 * Latencies of the crashes logged in `lines` during one storm: from each server's own kill, and
 * from the storm's first kill (the figure before session 7, which counted the bench's own kill loop).
 */
export function stormDetection(lines: LogLine[], storm: Pick<Storm, 'killedAt' | 'killedAtByPort'>) {
  const crashes = lines.filter((line) => line.message === CRASH);
  const seenAt = (line: LogLine) => Date.parse(String(line.detected_at));
  return {
    own: crashes.map((line) => seenAt(line) - storm.killedAtByPort.get(Number(String(line.proxy_id).slice('srv-'.length)))!),
    fromFirst: crashes.map((line) => seenAt(line) - storm.killedAt),
  };
}

/**
 * Kill one server at a time, each once the previous one is back and its restart is over (the
 * readiness check polls every 50 ms): latency per crash of a daemon that is otherwise idle.
 */
export async function isolatedDetection(
  ours: Ours,
  table: ServerTable,
  ports: number[],
  count: number,
  poller: Poller,
  kind: ServerKind,
): Promise<number[]> {
  const latencies: number[] = [];
  const live = () => table.children(ours.pid);
  for (let i = 0; i < count; i++) {
    const port = ports[i % ports.length];
    const pid = live().get(port);
    if (pid === undefined) throw new Error(`proxy-monitor: no server on port ${port}`);
    const seen = ours.next((line) => line.message === CRASH && line.proxy_id === `srv-${port}`, 10_000);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    table.retire([pid]);
    latencies.push(Date.parse(String((await seen).detected_at)) - killedAt);
    const [back] = await poller.recoveryTimes(kind, {
      parent: ours.pid,
      ports: [port],
      retired: [pid],
      since: epochNow(),
      timeoutMs: 10_000,
    });
    if (back === null) throw new Error(`proxy-monitor: port ${port} not back within 10 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return latencies;
}
