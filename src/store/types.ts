// What the daemon keeps across restarts. The SQLite store implements it; the API, the hourly cap
// and the audit log read and write through it.
import type { ProxyMemory, RestartOutcome } from '../../machines/proxy/context.ts';

export interface RestartRow extends RestartOutcome {
  proxyId: string;
}

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
  /** Epoch ms: only records at or after. */
  since?: number;
  limit?: number;
}

export interface ProcessRow {
  proxyId: string;
  pid: number;
  /** /proc/<pid>/stat starttime: proves a pid still names the same process after a daemon restart. */
  startTime: number;
  command: string;
}

export interface Store {
  /** Committed before it returns: a kill right after loses nothing. */
  addRestart(row: RestartRow): void;
  restarts(query: HistoryQuery): RestartRow[];
  addAudit(row: AuditRow): void;
  audits(query: HistoryQuery): AuditRow[];
  /** What a proxy's actor starts from after a daemon restart. */
  memory(proxyId: string, now: number): Partial<ProxyMemory>;
  setOverride(proxyId: string, enabled: boolean | null): void;
  setWanted(proxyId: string, wanted: 'up' | 'down'): void;
  recordProcess(row: ProcessRow): void;
  forgetProcess(proxyId: string, pid: number): void;
  processes(): ProcessRow[];
  close(): void;
}
