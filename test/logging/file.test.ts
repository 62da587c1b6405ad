// log.file on a disk that fills up: lines are dropped and counted meanwhile, said once on stderr and
// in its health, and writing resumes once space is back, with a line in the file that says how many
// are missing there; every line in the files stays whole. And a live file removed from under it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rollingFile } from '../../src/logging/file.ts';
import { waitUntil } from '../support/daemon.ts';

const line = (i: number) => `${JSON.stringify({ i, message: 'x'.repeat(200) })}\n`;
const flushed = (file: ReturnType<typeof rollingFile>) => new Promise<void>((resolve) => file.flush(() => resolve()));

describe.skipIf(process.getuid?.() !== 0)('a log file whose disk fills up', () => {
  const mount = mkdtempSync(join(tmpdir(), 'pm-logfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
  afterAll(() => execFileSync('umount', ['-l', mount]));

  it('drops and counts lines while it is full, says so once each way, and writes again once space is back', async () => {
    const said: string[] = [];
    const file = rollingFile({ file: join(mount, 'pm.log'), maxBytes: 16 * 1024, maxFiles: 10 }, (text) => void said.push(text));
    for (let i = 0; i < 20; i++) file.write(line(i));
    await flushed(file);
    expect(file.health()).toEqual({ error: null, dropped: 0 });
    try {
      writeFileSync(join(mount, 'filler'), Buffer.alloc(64 * 1024));
    } catch {
      // ENOSPC: as much as fits went in
    }
    for (let i = 20; i < 100; i++) file.write(line(i));
    await waitUntil(() => file.health().error !== null, 5_000);
    expect(file.health().error).toMatch(/ENOSPC/);
    expect(said).toEqual([
      expect.stringMatching(/^proxy-monitor: cannot write log\.file .*pm\.log \(ENOSPC.*\): lines are dropped until it can be written\n$/),
    ]);
    rmSync(join(mount, 'filler'));
    await waitUntil(
      async () => {
        file.write(line(1000));
        await flushed(file);
        return file.health().error === null;
      },
      10_000,
      100,
    );
    expect(file.health()).toEqual({ error: null, dropped: 0 });
    const meanwhile = Number(/is written again \((\d+) lines were dropped meanwhile\)\n$/.exec(said[1])?.[1]);
    expect(meanwhile).toBeGreaterThan(0);
    await new Promise<void>((resolve) => file.end(resolve));
    const lines = readdirSync(mount)
      .filter((name) => /^pm\.\d+\.log$/.test(name))
      .flatMap((name) => readFileSync(join(mount, name), 'utf8').split('\n').filter(Boolean));
    for (const text of lines) expect(() => JSON.parse(text), text.slice(0, 40)).not.toThrow();
    expect(lines.map((text) => JSON.parse(text).i)).toContain(1000);
    // The gap is said where the lines are missing, with this outage's count.
    const notes = lines.map((text) => JSON.parse(text)).filter((l) => l.message === 'log lines dropped: log.file could not take them');
    expect(notes).toEqual([expect.objectContaining({ level: 'warn', dropped_lines: meanwhile, reason: expect.stringMatching(/ENOSPC/) })]);
    expect(readFileSync(join(mount, 'current.log'), 'utf8')).toContain('"i":1000');
  }, 30_000);
});

it('a live file removed from under it (rm, logrotate) is made again, and current.log points at it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-logrm-'));
  const file = rollingFile({ file: join(dir, 'pm.log'), maxBytes: 1 << 20, maxFiles: 3 }, () => {});
  file.write(line(1));
  await flushed(file);
  rmSync(join(dir, 'pm.1.log'));
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // past the check's second
  file.write(line(2));
  await flushed(file);
  expect(readFileSync(join(dir, 'pm.1.log'), 'utf8')).toContain('"i":2');
  expect(readFileSync(join(dir, 'current.log'), 'utf8')).toContain('"i":2');
  await new Promise<void>((resolve) => file.end(resolve));
});
