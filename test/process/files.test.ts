// Generated server configs hold passwords: the file is 0600 in a 0700 directory, whatever the umask,
// and a rewrite never leaves a wider mode or a temporary file behind (nor happens when nothing changed).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { removeUnlisted, writeGeneratedFiles } from '../../src/process/files.ts';

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

it('leaves a file that already says the same as it is: a restart on a full disk needs no write', () => {
  const state = mkdtempSync(join(tmpdir(), 'pm-files-'));
  const path = join(state, 'generated', 'ss-1.json');
  writeGeneratedFiles([{ path, content: 'same' }]);
  const inode = statSync(path).ino;
  writeGeneratedFiles([{ path, content: 'same' }]);
  expect(statSync(path).ino).toBe(inode);
  writeGeneratedFiles([{ path, content: 'changed' }]);
  expect(statSync(path).ino).not.toBe(inode);
  expect(readFileSync(path, 'utf8')).toBe('changed');
});

it('removes its temporary file when the write fails', () => {
  const state = mkdtempSync(join(tmpdir(), 'pm-files-'));
  const path = join(state, 'generated', 'ss-1.json');
  mkdirSync(path, { recursive: true }); // a directory in the file's place: the rename fails
  expect(() => writeGeneratedFiles([{ path, content: 'x' }])).toThrow(/EISDIR/);
  expect(readdirSync(join(state, 'generated'))).toEqual(['ss-1.json']);
});

// A proxy run as its own user: its file is that user's, 0400, and the two directories above it let
// others pass through without listing them. Needs root (chown), as the daemon does to run as others.
const nobody = { uid: 65534, gid: 65534, user: 'nobody', group: 'nogroup' };

it.skipIf(process.getuid?.() !== 0)('gives a proxy run as another user its file (0400) and a way through to it, nothing more', () => {
  const base = mkdtempSync(join(tmpdir(), 'pm-files-'));
  chmodSync(base, 0o755);
  const dir = join(base, 'state', 'generated');
  const path = join(dir, 'ss.json');
  writeGeneratedFiles([{ path, content: '{"password":"s3cret"}\n' }], nobody);
  expect(statSync(path)).toMatchObject({ uid: 65534, gid: 65534 });
  expect(mode(path)).toBe(0o400);
  expect(mode(dir)).toBe(0o711);
  expect(mode(join(base, 'state')) & 0o011).toBe(0o011);
  expect(readFileSync(path, 'utf8')).toBe('{"password":"s3cret"}\n');
  expect(readdirSync(dir)).toEqual(['ss.json']);
});

it.skipIf(process.getuid?.() !== 0)(
  'refuses, naming the directory and its mode, when a directory above does not let that user through',
  () => {
    const base = mkdtempSync(join(tmpdir(), 'pm-files-'));
    chmodSync(base, 0o750);
    const path = join(base, 'state', 'generated', 'ss.json');
    expect(() => writeGeneratedFiles([{ path, content: '{}' }], nobody)).toThrow(
      `${base} (mode 0750) does not let uid 65534 reach the proxy's generated config; chmod o+x it or move state_dir`,
    );
    // Its group may pass where others may not: a directory of the user's group lets it through.
    chmodSync(base, 0o710);
    chownSync(base, 0, 65534);
    writeGeneratedFiles([{ path, content: '{}' }], nobody);
    expect(mode(path)).toBe(0o400);
  },
);

describe('removeUnlisted', () => {
  it('deletes the generated files no configured proxy lists (a removed proxy took its password with it), and keeps the rest', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pm-generated-')), 'generated');
    const kept = { path: join(dir, 'ss-1.json'), content: '{"password":"a"}' };
    writeGeneratedFiles([kept, { path: join(dir, 'gone.json'), content: '{"password":"b"}' }]);
    expect(removeUnlisted(dir, [kept.path])).toEqual(['gone.json']);
    expect(readdirSync(dir)).toEqual(['ss-1.json']);
    expect(removeUnlisted(join(dir, 'none-yet'), [])).toEqual([]);
    writeFileSync(join(dir, 'NOTES.txt'), 'mine');
    writeFileSync(join(dir, 'ss-1.json.bak'), 'mine too');
    mkdirSync(join(dir, 'someone-elses'));
    expect(removeUnlisted(dir, [kept.path])).toEqual([]); // a directory is not ours to delete, and stops nothing
    expect(readdirSync(dir).sort()).toEqual(['NOTES.txt', 'someone-elses', 'ss-1.json', 'ss-1.json.bak']);
  });
});
