// One health-check tick over many proxies: the daemon's own "health check round finished" record
// (duration_ms, checked_proxies) for rounds that checked every proxy, with the crashes seen meanwhile
// (a round that ran out of file descriptors would fail checks and restart proxies).
import { waitAllAccept } from '../lib/ports.ts';
import { rssBytes } from '../lib/proc.ts';
import { serverTable, type ServerKind } from '../lib/servers.ts';
import { MiB } from '../lib/stats.ts';
import { startOurs } from '../systems/ours.ts';

export interface Tick {
  proxies: number;
  durationsMs: number[];
  crashes: number;
  rssMiB: number;
}

const ROUND = 'health check round finished';

export async function checkTick(server: ServerKind, ports: number[], rounds: number): Promise<Tick> {
  const table = serverTable(server, ports);
  const ours = startOurs({ label: 'tick', server, ports, checkInterval: 5, logLevel: 'info' });
  try {
    await waitAllAccept(ports, () => table.children(ours.pid), 120_000);
    const from = ours.lines.length;
    const durationsMs: number[] = [];
    // Rounds that ran while some proxies were still starting checked fewer: they do not count.
    for (let tries = 0; durationsMs.length < rounds && tries < rounds + 3; tries++) {
      const line = await ours.next((l) => l.message === ROUND, 30_000);
      if (line.checked_proxies === ports.length) durationsMs.push(Number(line.duration_ms));
    }
    if (durationsMs.length < rounds)
      throw new Error(`proxy-monitor: fewer than ${rounds} check rounds covered all ${ports.length} proxies`);
    const crashes = ours.lines.slice(from).filter((l) => l.message === 'proxy crash detected').length;
    return { proxies: ports.length, durationsMs, crashes, rssMiB: rssBytes(ours.pid) / MiB };
  } finally {
    await ours.stop();
  }
}
