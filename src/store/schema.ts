// The state database's tables. Migrations run in order; PRAGMA user_version counts the ones applied.

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE restarts (
    id INTEGER PRIMARY KEY,
    proxy_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    manual INTEGER NOT NULL,
    success INTEGER,               -- NULL while in flight: it already counts against the hourly cap
    duration_ms INTEGER,
    error TEXT
  );
  CREATE INDEX restarts_by_proxy ON restarts (proxy_id, at);
  CREATE INDEX restarts_by_time ON restarts (at);

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    proxy_id TEXT,
    detail TEXT NOT NULL           -- JSON object
  );
  CREATE INDEX audit_by_proxy ON audit (proxy_id, at);
  CREATE INDEX audit_by_time ON audit (at);

  -- Operator intent and the counters a proxy's actor starts from.
  CREATE TABLE proxies (
    proxy_id TEXT PRIMARY KEY,
    override INTEGER,              -- NULL: the config's monitor flag applies
    wanted TEXT NOT NULL DEFAULT 'up' CHECK (wanted IN ('up', 'down')),
    checks INTEGER NOT NULL DEFAULT 0,
    restarts INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER
  );

  -- Processes the daemon started; pid NULL: spawn recorded, pid not yet known.
  CREATE TABLE processes (
    token TEXT PRIMARY KEY,
    proxy_id TEXT NOT NULL,
    pid INTEGER,
    start_time INTEGER,
    command TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX processes_by_proxy ON processes (proxy_id);
  `,
  `
  -- The last state each proxy entered (written when whether it is down after a crash may change),
  -- and the crash it was down after: a proxy crashed (or restarting) when the daemon stopped is not
  -- started at the next daemon start, its restart policy carries on. NULL: not known (a proxy
  -- removed, or not configured at the last start).
  ALTER TABLE proxies ADD COLUMN phase TEXT;
  ALTER TABLE proxies ADD COLUMN crash_kind TEXT;
  ALTER TABLE proxies ADD COLUMN crash_reason TEXT;
  -- What its last process was started from (executed.ts): a crash carried over to a start whose
  -- config changed meanwhile is restarted at once with the new one, as a reload would.
  ALTER TABLE proxies ADD COLUMN started_from TEXT;
  -- 0: an automatic restart that failed for want of the daemon's own resources (EMFILE, ENOSPC...):
  -- not the proxy's failure, so not counted against its hourly cap, by this daemon or the next.
  ALTER TABLE restarts ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
  `,
];
