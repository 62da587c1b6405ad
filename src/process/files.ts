// Generated proxy configs hold passwords: they are written 0600 and swapped in by rename, so no
// reader ever sees a half-written file or, when the file existed with a wider mode, the new secret.
// A proxy that runs as its own user gets its file as that user's, mode 0400; the generated directory
// and state_dir above it then let others through without listing them (0711; every file in both has
// a mode of its own, 0600 or 0400), so only that user (and root) can read it.
import { chmodSync, chownSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isDirectory, makeDirs } from '../make-dirs.ts';
import { dirname, join } from 'node:path';
import type { GeneratedFile, RunAs } from '../proxy-spec.ts';
import { tightenDir } from '../store/permissions.ts';
import { isGeneratedName } from '../state-dir.ts';

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
  stageGeneratedFiles(files, owner).commit();
}

/** Generated files written beside their paths, not yet in place. */
export interface Staged {
  /** Puts every staged file in place (a rename each). */
  commit(): void;
  /** Deletes the staged copies: the files in place are as they were. */
  abort(): void;
}

/**
 * Writes each file that differs from the one at its path to a copy beside it; throws (deleting the
 * copies made) if the disk refuses one. So a reload that changes many proxies writes all their
 * files or none: one refused leaves every proxy's file as the process running it read it.
 */
export function stageGeneratedFiles(files: GeneratedFile[], owner?: RunAs): Staged {
  const copies: { tmp: string; path: string }[] = [];
  const abort = () => {
    for (const { tmp } of copies.splice(0)) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // The disk that refused the copy may refuse this too; the next write starts by removing it.
      }
    }
  };
  try {
    for (const file of files) {
      const dir = dirname(file.path);
      makeDirs(dir, 0o700);
      tightenDir(dir);
      if (owner) {
        chmodSync(dir, 0o711);
        const parent = dirname(dir);
        chmodSync(parent, (statSync(parent).mode & 0o7777) | 0o011);
        assertReachable(dir, owner);
      }
      // A restart usually finds its file as it left it: not written again, so a full disk (which
      // refuses the copy) does not keep a proxy whose config has not changed from starting.
      if (inPlace(file, owner)) continue;
      // What a rename cannot replace is found now, before any file is put in place.
      if (isDirectory(file.path)) throw Object.assign(new Error(`EISDIR: ${file.path} is a directory`), { code: 'EISDIR' });
      const tmp = `${file.path}.tmp-${process.pid}`;
      copies.push({ tmp, path: file.path });
      rmSync(tmp, { force: true });
      writeFileSync(tmp, file.content, { mode: 0o600, flag: 'wx' });
      if (owner) {
        chownSync(tmp, owner.uid, owner.gid);
        chmodSync(tmp, 0o400);
      }
    }
  } catch (error) {
    abort();
    throw error;
  }
  return {
    commit: () => {
      // One at a time: should a rename fail, abort() still deletes the copies not yet in place.
      while (copies.length > 0) {
        renameSync(copies[0].tmp, copies[0].path);
        copies.shift();
      }
    },
    abort,
  };
}

/** The file at its path already has this content, owner and mode. */
function inPlace(file: GeneratedFile, owner?: RunAs): boolean {
  try {
    const st = statSync(file.path);
    const [uid, gid, mode] = owner ? [owner.uid, owner.gid, 0o400] : [process.getuid?.(), st.gid, 0o600];
    if (st.uid !== uid || st.gid !== gid || (st.mode & 0o7777) !== mode) return false;
    return readFileSync(file.path, 'utf8') === file.content;
  } catch {
    return false;
  }
}

/**
 * Deletes the generated files in `dir` (state_dir/generated) that no configured proxy's spec lists:
 * those of removed proxies hold their passwords and would stay for ever. Only names the daemon gives
 * are taken (an operator's notes or backups there are left). Returns the names deleted.
 */
export function removeUnlisted(dir: string, listed: Iterable<string>): string[] {
  const keep = new Set(listed);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no generated file yet
  }
  const gone: string[] = [];
  for (const name of names.filter((name) => isGeneratedName(name) && !keep.has(join(dir, name)))) {
    try {
      rmSync(join(dir, name)); // a directory someone put there is not ours to delete: EISDIR, skipped
      gone.push(name);
    } catch {}
  }
  return gone;
}
