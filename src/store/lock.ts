// One daemon per state directory. The lock is SQLite's exclusive lock on a small file of its own
// (a POSIX lock underneath): the kernel drops it when the holder dies, even by SIGKILL, so there is
// no stale lock to clean up, and the state database itself stays readable by other tools.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The state directory cannot be used; the message is one line for the operator. */
export class StateDirError extends Error {
  override name = 'StateDirError';
}

export const LOCK_FILE = 'daemon.lock';

export interface StateDirLock {
  /** False once the lock file we hold is no longer the one at its path (state_dir deleted). */
  inPlace(): boolean;
  release(): void;
}

/** The inode at a path, undefined when nothing is there: a file deleted or replaced under an open handle is told by it. */
export const inodeOf = (file: string) => {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
};

export function lockStateDir(dir: string): StateDirLock {
  const pidFile = join(dir, 'daemon.pid');
  const lockFile = join(dir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    // timeout 0: a second daemon must refuse at once, not wait for the first to go away.
    db = new Database(lockFile, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // nothing is ever written: no -journal file next to it
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db?.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StateDirError(
        `state directory ${dir} is in use by another proxy-monitor (pid ${holderPid(pidFile)}); not starting a second one`,
      );
    }
    throw new StateDirError(`cannot lock state directory ${dir}: ${(error as Error).message}`);
  }
  // The pid is only for that message: the lock, not this file, is what excludes a second daemon (and
  // a full disk that refuses the file must not keep the daemon from starting).
  try {
    writeFileSync(pidFile, `${process.pid}\n`);
  } catch {
    // Left empty (the write truncates first) or stale: the message then says less.
  }
  const held = db;
  const inode = inodeOf(lockFile);
  const inPlace = () => inode !== undefined && inodeOf(lockFile) === inode;
  return {
    inPlace,
    release() {
      // A recreated state_dir's pid file belongs to the lock that replaced this one.
      try {
        if (inPlace()) rmSync(pidFile, { force: true });
      } catch {
        // A disk that fails (EIO, EROFS) keeps a stale pid file; the lock is what counts.
      }
      held.close();
    },
  };
}

function holderPid(pidFile: string): string {
  try {
    return readFileSync(pidFile, 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}
