// A damaged state.db: the daemon keeps failing closed (without its history it would run past the
// restart cap), but says how to recover, and `proxy-monitor state check|reset` does it.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateCommand } from '../../src/cli/state.ts';
import { writeGeneratedFiles } from '../../src/process/files.ts';
import { StateDirError } from '../../src/store/lock.ts';
import { openStore } from '../../src/store/sqlite.ts';
import { tightenDir } from '../../src/store/permissions.ts';

const retention = { maxAgeMs: 86_400_000, maxRecords: 100 };

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

function damaged(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pm-corrupt-')), 'state');
  openStore(dir, retention).close();
  writeFileSync(join(dir, 'state.db'), Buffer.alloc(8192, 0x5a)); // overwritten: not a database any more
  return dir;
}

describe('a damaged state.db', () => {
  it('fails closed, with the way out in the message', () => {
    const dir = damaged();
    expect(() => openStore(dir, retention)).toThrow(StateDirError);
    expect(() => openStore(dir, retention)).toThrow(
      /is damaged.*proxy-monitor state check --state-dir .*proxy-monitor state reset --state-dir .* to move it aside and start with an empty history \(or restore a backup of it\)$/,
    );
  });

  it('state check says it is damaged (exit 1); state reset moves it aside (exit 0); then the daemon can start', () => {
    const dir = damaged();
    const check = io();
    expect(stateCommand(['check', '--state-dir', dir], check.io)).toBe(1);
    expect(check.err.join('')).toMatch(/state\.db is damaged/);

    const reset = io();
    expect(stateCommand(['reset', '--state-dir', dir], reset.io)).toBe(0);
    const aside = readdirSync(dir).filter((f) => f.startsWith('state.db.damaged-'));
    expect(aside).toHaveLength(1);
    expect(reset.out.join('')).toContain(aside[0]);
    expect(existsSync(join(dir, 'state.db'))).toBe(false);

    openStore(dir, retention).close();
    const again = io();
    expect(stateCommand(['check', '--state-dir', dir], again.io)).toBe(0);
    expect(again.out.join('')).toMatch(/state\.db: ok/);
  });

  it('state reset refuses while a daemon holds the directory; usage errors exit 2', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pm-corrupt-')), 'state');
    const store = openStore(dir, retention);
    try {
      const reset = io();
      expect(stateCommand(['reset', '--state-dir', dir], reset.io)).toBe(1);
      expect(reset.err.join('')).toMatch(/in use by another proxy-monitor.*stop it first/);
      expect(existsSync(join(dir, 'state.db'))).toBe(true);
    } finally {
      store.close();
    }
    expect(stateCommand(['frob', '--state-dir', dir], io().io)).toBe(2);
    expect(stateCommand(['check'], io().io)).toBe(2);
  });

  it('state check of a directory that is not there, or not a directory, fails (exit 1): a mistyped path is not sound', () => {
    const base = mkdtempSync(join(tmpdir(), 'pm-corrupt-'));
    const missing = io();
    expect(stateCommand(['check', '--state-dir', join(base, 'nope')], missing.io)).toBe(1);
    expect(missing.err.join('')).toBe(`proxy-monitor: state_dir ${join(base, 'nope')}: no such directory\n`);
    writeFileSync(join(base, 'file'), '');
    const file = io();
    expect(stateCommand(['check', '--state-dir', join(base, 'file')], file.io)).toBe(1);
    expect(file.err.join('')).toMatch(/: not a directory\n$/);
    // A state_dir the daemon has not started on yet: no database, nothing wrong.
    expect(stateCommand(['check', '--state-dir', base], io().io)).toBe(0);
  });
});

describe('permissions', () => {
  it('an existing state_dir or generated/ open to group or others is fixed to 0700, and said so', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pm-perm-')), 'state');
    mkdirSync(join(dir, 'generated'), { recursive: true });
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'generated'), 0o775);
    expect(tightenDir(dir)).toBe(0o777);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(tightenDir(dir)).toBeUndefined();

    writeGeneratedFiles([{ path: join(dir, 'generated', 'x.json'), content: '{}' }]);
    expect(statSync(join(dir, 'generated')).mode & 0o777).toBe(0o700);
  });
});

describe.skipIf(process.getuid?.() !== 0)('a sound state.db on a file system remounted read-only', () => {
  it('state check does not call it damaged (exit 1, says why); state reset fails in one line and moves nothing', () => {
    const mount = mkdtempSync(join(tmpdir(), 'pm-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mount]);
    try {
      const dir = join(mount, 'state');
      const store = openStore(dir, retention);
      store.addAudit({ at: 1, user: 'system', action: 'config_reload', proxyId: null, detail: {} });
      store.close();
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const check = io();
      expect(stateCommand(['check', '--state-dir', dir], check.io)).toBe(1);
      expect(check.err.join('')).toBe(
        `${join(dir, 'state.db')}: cannot be opened: its directory is on a read-only file system; it is not known to be damaged: remount the file system read-write\n`,
      );
      const reset = io();
      expect(stateCommand(['reset', '--state-dir', dir], reset.io)).toBe(1);
      expect(reset.err.join('')).toMatch(
        /^proxy-monitor: (cannot move .*state\.db aside|cannot lock state directory).*read-only file system.*\n$/,
      );
      expect(reset.err.join('').split('\n')).toHaveLength(2);
      expect(readdirSync(dir)).toContain('state.db');
      execFileSync('mount', ['-o', 'remount,rw', mount]);
      const sound = io();
      expect(stateCommand(['check', '--state-dir', dir], sound.io)).toBe(0);
    } finally {
      execFileSync('umount', ['-l', mount]);
    }
  });
});
