// Before a proxy is exec'd behind the SIGPIPE-ignoring shell, the daemon checks that its command can
// be exec'd at all, and says why not as spawn would (behind the shell a failed exec would only be an
// exit status 127). And a failure for want of the daemon's own resources is not the proxy's fault.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDaemonFault } from '../../src/process/driver.ts';
import { assertExecutable } from '../../src/executable.ts';
import { decodeWaitStatus } from '../../src/process/spawner.ts';
import { daemonPowers, PRLIMIT, SETPRIV, wrapperArgv } from '../../src/process/wrappers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-launch-'));
writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
writeFileSync(join(dir, 'notes.txt'), 'not a program\n');
chmodSync(join(dir, 'notes.txt'), 0o644);
mkdirSync(join(dir, 'tool'));

const refusal = (command: string, cwd?: string, path?: string) => {
  try {
    assertExecutable(command, cwd, path);
    return 'ok';
  } catch (error) {
    return `${(error as NodeJS.ErrnoException).code}: ${(error as Error).message}`;
  }
};

describe('assertExecutable', () => {
  it('finds a bare name on PATH, in order, skipping directories that lack it', () => {
    expect(refusal('sleep', undefined, `/nonexistent:${dir}:/usr/bin:/bin`)).toBe('ok');
    expect(refusal('run.sh', undefined, `/nonexistent:${dir}`)).toBe('ok');
    expect(refusal('sleep', undefined, dir)).toBe('ENOENT: spawn sleep ENOENT');
    expect(refusal('sleep', undefined, undefined)).toBe('ENOENT: spawn sleep ENOENT');
  });

  it('resolves a path with a slash from the working directory', () => {
    expect(refusal('./run.sh', dir)).toBe('ok');
    expect(refusal(join(dir, 'run.sh'))).toBe('ok');
    expect(refusal('./run.sh', '/')).toBe('ENOENT: spawn ./run.sh ENOENT');
    expect(refusal('./missing', dir)).toBe('ENOENT: spawn ./missing ENOENT');
  });

  it('refuses a file without an execute bit and a directory with EACCES, as exec would', () => {
    expect(refusal(join(dir, 'notes.txt'))).toBe(`EACCES: spawn ${join(dir, 'notes.txt')} EACCES`);
    expect(refusal(join(dir, 'tool'))).toBe(`EACCES: spawn ${join(dir, 'tool')} EACCES`);
    // On PATH too: a directory named like the command is not it, and says EACCES unless found further on.
    expect(refusal('tool', undefined, dir)).toBe('EACCES: spawn tool EACCES');
    expect(refusal('notes.txt', undefined, `${dir}:/nonexistent`)).toBe('EACCES: spawn notes.txt EACCES');
    expect(refusal('run.sh', undefined, `${join(dir, 'tool')}:${dir}`)).toBe('ok');
  });
});

describe('isDaemonFault', () => {
  it("is the daemon's want of files, memory or processes, or a lost spawn helper; not the proxy's own failure", () => {
    for (const code of ['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'ENOSPC', 'EDQUOT'])
      expect(isDaemonFault(Object.assign(new Error(code), { code })), code).toBe(true);
    expect(isDaemonFault(Object.assign(new Error('the spawn helper exited'), { daemonFault: true }))).toBe(true);
    for (const code of ['ENOENT', 'EACCES', 'EPERM', undefined])
      expect(isDaemonFault(Object.assign(new Error('x'), { code })), String(code)).toBe(false);
    expect(isDaemonFault(undefined)).toBe(false);
  });
});

describe('decodeWaitStatus', () => {
  it('reads a wait(2) status from the spawn helper as Node reports an exit: a code, or the signal by name', () => {
    expect(decodeWaitStatus(0)).toEqual({ code: 0, signal: null });
    expect(decodeWaitStatus(3 << 8)).toEqual({ code: 3, signal: null });
    expect(decodeWaitStatus(255 << 8)).toEqual({ code: 255, signal: null });
    expect(decodeWaitStatus(15)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(decodeWaitStatus(9 | 0x80)).toEqual({ code: null, signal: 'SIGKILL' }); // killed, core dumped
    expect(decodeWaitStatus(40)).toEqual({ code: null, signal: 'SIG40' }); // a real-time signal Node has no name for
  });
});

describe('the wrappers in front of the command', () => {
  it("know the daemon's own powers: root by its uid, ambient capabilities from /proc/self/status", () => {
    const ambient = /^CapAmb:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(daemonPowers()).toEqual({ root: process.getuid!() === 0, ambient: BigInt(`0x${ambient}`) !== 0n });
  });

  it('set only the limits given; a daemon that is not root leaves the bounding set alone', () => {
    const limits = { nofile: 4096, nproc: undefined, core: 'unlimited' as const };
    expect(wrapperArgv({ capabilities: [], limits }, { root: false, ambient: false })).toEqual([
      PRLIMIT,
      '--nofile=4096:4096',
      '--core=unlimited:unlimited',
      '--',
    ]);
    expect(wrapperArgv({ capabilities: ['net_bind_service', 'net_raw'], limits: {} }, { root: false, ambient: false })).toEqual([
      SETPRIV,
      '--inh-caps=-all,+net_bind_service,+net_raw',
      '--ambient-caps=-all,+net_bind_service,+net_raw',
      '--',
    ]);
    expect(wrapperArgv(undefined, { root: true, ambient: false })).toEqual([]);
  });
});
