// Everything the bench starts carries one marker in its command line (the run's temp dir or the
// servers' password), so whatever happens (a failed scenario, Ctrl-C, a crash of the bench itself)
// the end of the run finds every such process and kills it, by pid.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidsWithMarker } from './proc.ts';

export const MARKER = `pmbench-${randomBytes(6).toString('hex')}`;

/** The run's scratch folder; its path carries the marker into every daemon's command line. */
export const RUN_DIR = mkdtempSync(join(tmpdir(), `${MARKER}-`));

/** SIGKILL every live process with the marker until none is left (children of killed ones included). */
export function killMarked(): number {
  let killed = 0;
  for (let pass = 0; pass < 10; pass++) {
    const pids = pidsWithMarker(MARKER);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // gone already
      }
    }
  }
  return killed;
}

function finalSweep(): void {
  killMarked();
  rmSync(RUN_DIR, { recursive: true, force: true });
}

let installed = false;

/** Kill what is left when the bench ends in any way. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', finalSweep);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, killing everything it started\n`);
      process.exit(130);
    });
  }
}
