// The seed's restart analysis over a list of restart records: when they happen (hour of day, UTC),
// why, how often they work and how long they take.
import { INTERRUPTED, type RestartRow } from '../store/types.ts';
import type { HistoryReply } from './schemas.ts';

/** Nearest-rank percentile of ascending values (no interpolation: every figure is a real duration). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

export function analyzeRestarts(rows: readonly RestartRow[]): HistoryReply['analysis'] {
  const byHour = new Array<number>(24).fill(0);
  const byReason: Record<string, number> = {};
  let successes = 0;
  for (const row of rows) {
    byHour[new Date(row.at).getUTCHours()] += 1;
    byReason[row.reason] = (byReason[row.reason] ?? 0) + 1;
    if (row.success) successes += 1;
  }
  // An interrupted restart's 0 ms is no duration (the daemon stopped before it knew one).
  const durations = rows
    .filter((r) => r.error !== INTERRUPTED)
    .map((r) => r.durationMs)
    .sort((a, b) => a - b);
  return {
    total: rows.length,
    successes,
    failures: rows.length - successes,
    success_rate: rows.length ? successes / rows.length : null,
    by_reason: byReason,
    by_hour: byHour,
    duration_ms: durations.length
      ? { p50: percentile(durations, 0.5), p95: percentile(durations, 0.95), max: durations[durations.length - 1] }
      : null,
  };
}
