// Plain-text rendering for the client commands: aligned tables and short human durations.
import { formatSize } from '../config/size.ts';

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** 42 -> "42s", 3720 -> "1h02m", 93600 -> "1d2h"; under 10s keeps one decimal. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${Math.max(0, Math.round(seconds * 10) / 10)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

export function milliseconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : duration(ms / 1000);
}

/** "5s ago" / "in 42s" relative to `asOf` (the daemon's clock, not ours); "-" for no time. */
export function relative(iso: string | null, asOf: string): string {
  if (iso === null) return '-';
  const delta = (Date.parse(iso) - Date.parse(asOf)) / 1000;
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** `key   value` lines, keys padded to the widest. */
export function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

/** 1 -> "1 restart", 2 -> "2 restarts". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A memory figure against the watchdog's limit: "300MiB (limit 256MiB, 2 checks above it)". Of a
 * process no longer there (`live` false), it is said to be its last reading.
 */
export function memory(m: { bytes: number; limit_bytes: number | null; checks_above_limit: number } | null, live = true): string {
  if (!m) return '-';
  const figure =
    m.limit_bytes === null
      ? `${formatSize(m.bytes)} (no limit)`
      : `${formatSize(m.bytes)} (limit ${formatSize(m.limit_bytes)}, ${count(m.checks_above_limit, 'check')} in a row above it)`;
  return live ? figure : `${figure}, at the last check of its process, which has ended`;
}
