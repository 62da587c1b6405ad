// Generated proxy configs hold passwords: they are written 0600 and swapped in by rename, so no
// reader ever sees a half-written file or, when the file existed with a wider mode, the new secret.
// A proxy that runs as its own user gets its file as that user's, mode 0400; the generated directory
// and state_dir above it then let others through without listing them (0711; every file in both has
// a mode of its own, 0600 or 0400), so only that user (and root) can read it.
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GeneratedFile, RunAs } from '../proxy-spec.ts';
import { tightenDir } from '../store/permissions.ts';

/** Throws unless `uid`/`gid` may search every directory from the root down to `dir`. */
function assertReachable(dir: string, owner: RunAs): void {
  for (let d = dir; ; d = dirname(d)) {
    const st = statSync(d);
    const bit = st.uid === owner.uid ? 0o100 : st.gid === owner.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `${d} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}) does not let uid ${owner.uid} reach the proxy's generated config; chmod o+x it or move state_dir`,
      );
    }
    if (d === dirname(d)) return;
  }
}

export function writeGeneratedFiles(files: GeneratedFile[], owner?: RunAs): void {
  for (const file of files) {
    const dir = dirname(file.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    tightenDir(dir);
    const tmp = `${file.path}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    writeFileSync(tmp, file.content, { mode: 0o600, flag: 'wx' });
    if (owner) {
      chownSync(tmp, owner.uid, owner.gid);
      chmodSync(tmp, 0o400);
      chmodSync(dir, 0o711);
      const parent = dirname(dir);
      chmodSync(parent, (statSync(parent).mode & 0o7777) | 0o011);
      assertReachable(dir, owner);
    }
    renameSync(tmp, file.path);
  }
}
