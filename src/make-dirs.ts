// `mkdir -p`, without Node's recursive mkdir: for a path under /proc or /sys that does not exist,
// that one never returns (it loops on EEXIST and ENOENT on the daemon's thread: a state_dir or
// log.file there hung the daemon at start, silent, at 100 % CPU). Here it fails like mkdir does.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Creates `dir` and the directories missing above it, each with `mode`; throws mkdir's error (ENOENT, EACCES, ...). */
export function makeDirs(dir: string, mode: number): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && d !== dirname(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // made meanwhile: fine
    }
  }
}
