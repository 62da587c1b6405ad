// state_dir and generated/ hold the proxies' passwords (generated configs) and the history: only the
// daemon's user may enter them. mkdir's mode applies only to a directory it creates, so one that
// already existed with group or other bits is tightened here.
import { chmodSync, statSync } from 'node:fs';

/**
 * Sets a directory that group or others may list or write to 0700; returns its old mode when it
 * changed it. Traverse-only bits (0711) are kept: a proxy run as its own user passes through them to
 * its generated config (src/process/files.ts), and can neither list the directory nor read the rest.
 */
export function tightenDir(dir: string): number | undefined {
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return undefined; // not there (yet)
  }
  if ((mode & 0o066) === 0) return undefined;
  chmodSync(dir, 0o700);
  return mode;
}
