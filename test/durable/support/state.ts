// Reading a daemon's state database from a test, while the daemon runs (WAL lets a reader in) or after.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../../src/store/sqlite.ts';

export interface StoredRestart {
  proxy_id: string;
  at: number;
  reason: string;
  manual: number;
  success: number | null;
  duration_ms: number | null;
  error: string | null;
}

interface Counters {
  proxy_id: string;
  checks: number;
  restarts: number;
  successes: number;
  failures: number;
}

export function readState(stateDir: string) {
  const db = new Database(join(stateDir, DATABASE_FILE), { readonly: true });
  try {
    return {
      restarts: db
        .prepare('SELECT proxy_id, at, reason, manual, success, duration_ms, error FROM restarts ORDER BY id')
        .all() as StoredRestart[],
      counters: Object.fromEntries(
        (db.prepare('SELECT proxy_id, checks, restarts, successes, failures FROM proxies').all() as Counters[]).map((row) => [
          row.proxy_id,
          row,
        ]),
      ),
      processes: db.prepare('SELECT proxy_id, pid FROM processes WHERE pid IS NOT NULL ORDER BY proxy_id').all() as Array<{
        proxy_id: string;
        pid: number;
      }>,
    };
  } finally {
    db.close();
  }
}

/** A database a killed daemon left behind: opening it (and recovering its WAL) must leave it intact. */
export function integrityCheck(stateDir: string): string {
  const db = new Database(join(stateDir, DATABASE_FILE));
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}
