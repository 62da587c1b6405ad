// What happened lately that the machines do not keep: each proxy's last output lines and last crash
// (exit code, signal), and the last check round. Fed by the supervisor's hooks from the start, so
// the inspector (and the API) can show them whether or not a page was open. Bounded: a few lines
// per proxy, each cut short.
import type { ProxyEmitted } from '../../machines/proxy/events.ts';

/** Lines kept per proxy, and characters kept per line. */
export const OUTPUT_LINES = 20;
const LINE_CHARS = 400;

export interface OutputLine {
  at: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface Crash {
  at: number;
  reason: string;
  exitCode: number | null;
  signal: string | null;
}

export interface CheckRound {
  at: number;
  durationMs: number;
  checked: number;
}

export function createRecent(now: () => number) {
  const output = new Map<string, OutputLine[]>();
  const crashes = new Map<string, Crash>();
  let round: CheckRound | null = null;

  return {
    /** When the daemon began keeping these (it started). */
    startedAt: now(),
    /** A line as it was logged (already redacted and rate-limited by the output logger). */
    onOutput(id: string, stream: 'stdout' | 'stderr', line: string): void {
      const lines = output.get(id) ?? output.set(id, []).get(id)!;
      lines.push({ at: now(), stream, line: line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line });
      if (lines.length > OUTPUT_LINES) lines.shift();
    },
    onReport(report: ProxyEmitted): void {
      if (report.type !== 'crash_detected') return;
      crashes.set(report.proxyId, { at: report.at, reason: report.reason, exitCode: report.exitCode, signal: report.signal });
    },
    onCheckRound(durationMs: number, checked: number): void {
      round = { at: now(), durationMs, checked };
    },
    output: (id: string): readonly OutputLine[] => output.get(id) ?? [],
    crash: (id: string): Crash | undefined => crashes.get(id),
    lastRound: (): CheckRound | null => round,
    /** A proxy removed from the configuration. */
    forget(id: string): void {
      output.delete(id);
      crashes.delete(id);
    },
  };
}

export type Recent = ReturnType<typeof createRecent>;
