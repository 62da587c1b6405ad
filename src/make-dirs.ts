// `mkdir -p`, without Node's recursive mkdir: for a path under /proc or /sys that does not exist,
// that one never returns (it loops on EEXIST and ENOENT on the daemon's thread: a state_dir or
// log.file there hung the daemon at start, silent, at 100 % CPU). Here it fails like mkdir does.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Creates `dir` and the directories missing above it, each with `mode`; throws mkdir's error (ENOENT, ENOTDIR, EEXIST, ...). */
export function makeDirs(dir: string, mode: number): void {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let d = target; !existsSync(d) && d !== dirname(d); d = dirname(d)) missing.unshift(d);
  // There already: it must be a directory (mkdir says EEXIST of a file, as `mkdir -p` does).
  if (missing.length === 0 && !statSync(target).isDirectory()) mkdirSync(target);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (error) {
      // Made meanwhile by someone else: fine, if it is a directory.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw error;
    }
  }
}

/** A directory is at `path` (false when nothing is, or it cannot be looked at). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
