// One daemon per state directory: a second lock on a held directory is refused at once, naming the
// holder; a released one can be taken again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { lockStateDir, StateDirError } from '../../src/store/lock.ts';

it('refuses a second lock at once (no busy wait), naming the directory and the holder; frees it on release', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-lock-'));
  const first = lockStateDir(dir);
  const began = performance.now();
  expect(() => lockStateDir(dir)).toThrow(
    new StateDirError(`state directory ${dir} is in use by another proxy-monitor (pid ${process.pid}); not starting a second one`),
  );
  // SQLite's busy timeout would wait whole seconds; a refusal takes milliseconds even on a loaded machine.
  expect(performance.now() - began).toBeLessThan(1_000);
  first.release();
  lockStateDir(dir).release();
});

it('names the holder "unknown" when its pid file is gone, and says why a directory cannot be locked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-lock-'));
  const first = lockStateDir(dir);
  rmSync(join(dir, 'daemon.pid'));
  expect(() => lockStateDir(dir)).toThrow(/in use by another proxy-monitor \(pid unknown\)/);
  // An empty pid file (a daemon killed between creating and writing it) names no pid either.
  writeFileSync(join(dir, 'daemon.pid'), '\n');
  expect(() => lockStateDir(dir)).toThrow(/in use by another proxy-monitor \(pid unknown\)/);
  first.release();

  const missing = join(dir, 'no', 'such', 'dir');
  let error: unknown;
  try {
    lockStateDir(missing);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(StateDirError);
  expect(error).toMatchObject({
    name: 'StateDirError',
    message: expect.stringMatching(new RegExp(`^cannot lock state directory ${missing}: .+`)),
  });
});
