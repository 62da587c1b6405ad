// Idle cost: CPU share and resident memory of daemons that supervise healthy servers, measured over
// the same window for all of them. proxy-monitor's spawn helper is a process of its own that does
// part of the daemon's work (it starts the proxies and makes the TCP checks' connects): its CPU is
// added to the daemon's, and its RSS is reported beside.
import { cpuSeconds, rssMedian, spawnHelperOf } from '../lib/proc.ts';
import { MiB } from '../lib/stats.ts';

export interface Idle {
  /** Percent of one core over the window, the daemon's and its helper's. */
  cpuPct: number;
  /** The daemon's. */
  rssMiB: number;
  windowS: number;
  /** The spawn helper's share of cpuPct, and its own RSS (proxy-monitor only). */
  helper?: { cpuPct: number; rssMiB: number };
}

/** RSS is the median of readings every 250 ms over the window (see rssMedian). */
export async function idleCost(pids: number[], windowMs: number): Promise<Idle[]> {
  const helpers = pids.map(spawnHelperOf);
  const cpu = (i: number) => cpuSeconds(pids[i]) + (helpers[i] === undefined ? 0 : cpuSeconds(helpers[i]));
  const before = pids.map((_, i) => cpu(i));
  const helperBefore = helpers.map((helper) => (helper === undefined ? 0 : cpuSeconds(helper)));
  const began = performance.now();
  const rss = await Promise.all([...pids, ...helpers].map((pid) => (pid === undefined ? 0 : rssMedian(pid, windowMs))));
  const wallS = (performance.now() - began) / 1000;
  const share = (seconds: number) => (100 * seconds) / wallS;
  return pids.map((_, i) => {
    const helper = helpers[i];
    return {
      cpuPct: share(cpu(i) - before[i]),
      rssMiB: rss[i] / MiB,
      windowS: wallS,
      ...(helper !== undefined && { helper: { cpuPct: share(cpuSeconds(helper) - helperBefore[i]), rssMiB: rss[pids.length + i] / MiB } }),
    };
  });
}
