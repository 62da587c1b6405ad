// Generated server configs hold passwords: the file is 0600 in a 0700 directory, whatever the umask,
// and a rewrite never leaves a wider mode or a temporary file behind.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { writeGeneratedFiles } from '../../src/process/files.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
// A worker thread (the mutation run's pool) may not set the umask: there the process's own applies
// (022 or so, which alone would still give 0755 and 0644).
const umask = process.umask();
afterEach(() => void (isMainThread && process.umask(umask)));

it('writes generated/ at 0700 and the file at 0600, even under a permissive umask', () => {
  if (isMainThread) process.umask(0o000);
  const state = mkdtempSync(join(tmpdir(), 'pm-files-'));
  const path = join(state, 'generated', 'ss-1.json');
  writeGeneratedFiles([{ path, content: '{"password":"pw"}' }]);
  expect(mode(join(state, 'generated'))).toBe(0o700);
  expect(mode(path)).toBe(0o600);
  expect(readFileSync(path, 'utf8')).toBe('{"password":"pw"}');
});

it('replaces a file that was made readable by others with a 0600 one, and leaves no temporary file', () => {
  const state = mkdtempSync(join(tmpdir(), 'pm-files-'));
  const path = join(state, 'generated', 'ss-1.json');
  writeGeneratedFiles([{ path, content: 'old' }]);
  chmodSync(path, 0o644);
  writeGeneratedFiles([{ path, content: 'new' }]);
  expect(mode(path)).toBe(0o600);
  expect(readFileSync(path, 'utf8')).toBe('new');
  expect(readdirSync(join(state, 'generated'))).toEqual(['ss-1.json']);
});
