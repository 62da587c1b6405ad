// What the daemon keeps across restarts. The SQLite store implements it; the API, the hourly cap
// and the audit log read and write through it.
import type { ProxyCounters, ProxyMemory, ProxyPhase, ProxyStats, RestartOutcome, RestartReason } from '../../machines/proxy/context.ts';

export interface RestartRow extends RestartOutcome {
  proxyId: string;
}

/** A restart that has begun: it counts against the hourly cap before its outcome is known. */
export interface RestartStart {
  proxyId: string;
  at: number;
  reason: RestartReason;
  manual: boolean;
}

/** The error of a restart a daemon left unfinished when it stopped (finishInterruptedRestarts): it counts as failed, its 0 ms as no duration. */
export const INTERRUPTED = 'interrupted: the daemon stopped during the restart';

/** Every action the audit trail records (GET /audit?action= accepts these only; a test holds the writers to it). */
export const AUDIT_ACTIONS = [
  'proxy_enable',
  'proxy_disable',
  'proxy_start',
  'proxy_stop',
  'proxy_restart',
  'proxy_auto_restart',
  'proxy_manual_restart',
  'monitor_stop',
  'monitor_start',
  'config_update',
  'config_reload',
  'daemon_start',
  'daemon_stop',
] as const;

export interface AuditRow {
  at: number;
  /** Who: "system", "api:<remote address>", "cli", "signal:SIGHUP". */
  user: string;
  action: string;
  proxyId: string | null;
  detail: Record<string, unknown>;
}

export interface HistoryQuery {
  proxyId?: string;
  /** Audit rows only: this action. */
  action?: string;
  /** Epoch ms: only records at or after. */
  since?: number;
  limit?: number;
}

/** A spawn about to happen: recorded first, so a daemon killed mid-spawn can still find the child. */
export interface SpawnIntent {
  /** Random; put in the child's environment, where only a process we started can carry it. */
  token: string;
  proxyId: string;
  /** JSON of the argv the proxy runs with, as /proc/<pid>/cmdline shows it. */
  command: string;
  /** Digest of the proxy's spec: a different one after a restart means the config changed meanwhile. */
  fingerprint: string;
  at: number;
}

export interface ProcessRow extends SpawnIntent {
  pid: number;
  /** /proc/<pid>/stat starttime: proves a pid still names the same process after a daemon restart. */
  startTime: number;
}

export interface Retention {
  /** Records older than this are deleted (never those inside the hourly window). */
  maxAgeMs: number;
  /** At most this many records per table (rows inside the hourly window are kept regardless). */
  maxRecords: number;
}

export interface Store {
  /** The state directory (absolute). */
  readonly dir: string;
  /** Committed before it returns: a kill right after loses nothing. Completes a begun restart. */
  /**
   * At a daemon's start: the restarts the last one left in flight were interrupted, and are recorded
   * as failed. Not for a store carrying on in a recreated state_dir, whose restarts in flight still run.
   * Returns them (none when the write is held: the disk refused it).
   */
  finishInterruptedRestarts(): { proxyId: string; at: number; reason: string }[];
  addRestart(row: RestartRow): void;
  beginRestart(start: RestartStart): void;
  /** Finished restarts, newest first. */
  restarts(query: HistoryQuery): RestartRow[];
  addAudit(row: AuditRow): void;
  /** Newest first. */
  audits(query: HistoryQuery): AuditRow[];
  /** What a proxy's actor starts from after a daemon restart (adoptPid excepted: see adoption.ts). */
  memory(proxyId: string, now: number): Partial<ProxyMemory>;
  /** Every stored proxy's counters, by id, configured or not. */
  stats(): Record<string, ProxyStats>;
  setOverride(proxyId: string, enabled: boolean | null): void;
  setWanted(proxyId: string, wanted: 'up' | 'down'): void;
  saveCounters(proxyId: string, counters: ProxyCounters): void;
  /** The state it entered, with the crash it is down after when that is `crashed`; null once it is removed. */
  setPhase(proxyId: string, phase: ProxyPhase | null, crash?: { kind: RestartReason; reason: string }): void;
  /** Forgets the state of every proxy not named: one that is not configured has none to carry over. */
  keepPhases(proxyIds: string[]): void;
  recordSpawn(intent: SpawnIntent): void;
  /** The fingerprint (executed.ts) its last process was started from; null if none was recorded. */
  startedFrom(proxyId: string): string | null;
  /** Spawns whose pid was never recorded. */
  pendingSpawns(): SpawnIntent[];
  forgetSpawn(token: string): void;
  /** Upserts by token: the pid of a recorded spawn, or a process found at boot. */
  recordProcess(row: ProcessRow): void;
  forgetProcess(proxyId: string, pid: number): void;
  /**
   * At an orderly stop, before the proxies are signalled: their ends are the daemon's doing, not
   * crashes, even should the daemon be killed before it records them (one still alive at the next
   * start is found by its spawn token and adopted).
   */
  forgetProcesses(): void;
  processes(): ProcessRow[];
  setRetention(retention: Retention): void;
  /** False once state_dir (with the lock file) was deleted or replaced under the daemon. */
  inPlace(): boolean;
  /** Writes a consistent copy of the database to `file` (it still can when its files were deleted). */
  copyTo(file: string): void;
  /** Moves the WAL into the database and empties it (after a full disk: frees what the WAL holds). */
  checkpoint(): void;
  /** Runs fn in one transaction (nested calls join it). */
  transaction<T>(fn: () => T): T;
  close(): void;
}
