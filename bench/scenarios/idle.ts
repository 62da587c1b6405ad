// Idle cost: CPU share and resident memory of daemons that supervise healthy servers, measured over
// the same window for all of them.
import { cpuSeconds, rssMedian } from '../lib/proc.ts';
import { MiB } from '../lib/stats.ts';

export interface Idle {
  /** Percent of one core over the window. */
  cpuPct: number;
  rssMiB: number;
  windowS: number;
}

/** RSS is the median of readings every 250 ms over the window (see rssMedian). */
export async function idleCost(pids: number[], windowMs: number): Promise<Idle[]> {
  const before = pids.map(cpuSeconds);
  const began = performance.now();
  const rss = await Promise.all(pids.map((pid) => rssMedian(pid, windowMs)));
  const wallS = (performance.now() - began) / 1000;
  return pids.map((pid, i) => ({
    cpuPct: (100 * (cpuSeconds(pid) - before[i])) / wallS,
    rssMiB: rss[i] / MiB,
    windowS: wallS,
  }));
}
