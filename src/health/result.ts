// What every probe resolves to. Probes never reject: a check that throws is a failed check.
export type ProbeResult = { ok: true; durationMs: number } | { ok: false; durationMs: number; error: string };

export interface ProbeTarget {
  /** The proxy's pid, for the process probe. */
  pid?: number;
  timeoutMs: number;
  /** Abandons the probe early, as a failure. */
  signal?: AbortSignal;
}
