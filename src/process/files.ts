// Generated proxy configs hold passwords: they are written 0600 and swapped in by rename, so no
// reader ever sees a half-written file or, when the file existed with a wider mode, the new secret.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GeneratedFile } from '../proxy-spec.ts';
import { tightenDir } from '../store/permissions.ts';

export function writeGeneratedFiles(files: GeneratedFile[]): void {
  for (const file of files) {
    mkdirSync(dirname(file.path), { recursive: true, mode: 0o700 });
    tightenDir(dirname(file.path));
    const tmp = `${file.path}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    writeFileSync(tmp, file.content, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file.path);
  }
}
