// A proxy that daemonizes itself (`setsid cmd &`, `ss-server -f pidfile`) leaves its process group,
// so stopping the group misses it. Every process of a proxy carries its spawn token in its
// environment: when the proxy's leader exits, the processes still carrying it are escaped copies,
// stopped and named. The scans here are scoped to this test's own tokens.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { startProcess } from '../../src/process/driver.ts';
import { escapeNote, escapedSoon, watchForEscapes } from '../../src/process/escape.ts';
import { isAliveNotZombie, processStartTime, ticksSinceBoot } from '../../src/process/proc.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { SPAWN_TOKEN_ENV } from '../../src/process/escape.ts';
import { waitUntil } from '../support/daemon.ts';

function spec(command: string, args: string[], type: ProxySpec['type'] = 'exec'): ProxySpec {
  return {
    id: 'esc',
    type,
    command,
    args,
    env: { [SPAWN_TOKEN_ENV]: randomUUID() },
    health: { kind: 'process' },
    monitor: true,
    secrets: [],
    files: [],
  };
}

/** Starts `s` through the escape watch; resolves with what onExit was told. */
function run(s: ProxySpec, errors: Array<Record<string, unknown>>) {
  const driver = watchForEscapes(
    { start: startProcess },
    { error: ((fields: Record<string, unknown>, message?: string) => void errors.push({ ...fields, message })) as Logger['error'] },
  );
  return new Promise<{ code: number | null; escaped: string | undefined }>((resolve) => {
    driver.start(s, {
      onSpawn: () => {},
      onSpawnError: (error) => resolve({ code: -1, escaped: error }),
      onOutput: () => {},
      onExit: (code, _signal, escaped) => resolve({ code, escaped }),
    });
  });
}

describe('escaped processes', () => {
  it('`setsid sleep &`: found by its token, stopped, and named in the exit', async () => {
    const s = spec('/bin/sh', ['-c', 'setsid sleep 300 & sleep 2; exit 0']); // as daemons do: detach, then exit
    const errors: Array<Record<string, unknown>> = [];
    const exit = await run(s, errors);
    expect(exit.code).toBe(0);
    expect(exit.escaped).toMatch(
      /left 1 process running outside its process group \(pid \d+\): it daemonizes itself and must run in the foreground/,
    );
    const pid = Number(/pid (\d+)/.exec(exit.escaped!)![1]);
    expect(errors).toEqual([
      expect.objectContaining({ proxy_id: 'esc', escaped_pids: [pid], message: 'proxy escaped its process group', escaped: exit.escaped }),
    ]);
    await waitUntil(() => !isAliveNotZombie(pid), 5_000);
    expect(await escapedSoon(s.env[SPAWN_TOKEN_ENV], -1, 0)).toEqual([]);
  });

  it('two proxies escaping at the same moment are each found and named (one scan serves both)', async () => {
    const [a, b] = [
      spec('/bin/sh', ['-c', 'setsid sleep 300 & sleep 1; exit 0']),
      spec('/bin/sh', ['-c', 'setsid sleep 300 & sleep 1; exit 0']),
    ];
    const errors: Array<Record<string, unknown>> = [];
    const exits = await Promise.all([run(a, errors), run(b, errors)]);
    for (const exit of exits) expect(exit.escaped).toMatch(/left 1 process running outside its process group/);
    expect(errors).toHaveLength(2);
    for (const s of [a, b]) await waitUntil(async () => (await escapedSoon(s.env[SPAWN_TOKEN_ENV], -1, 0)).length === 0, 5_000);
  });

  it('a crash is reported at once, without waiting for the scan; what it left outside its group is stopped after', async () => {
    const s = spec('/bin/sh', ['-c', 'setsid sleep 300 & sleep 1; exit 3']);
    const errors: Array<Record<string, unknown>> = [];
    expect(await run(s, errors)).toEqual({ code: 3, escaped: undefined });
    await waitUntil(() => errors.length === 1, 5_000);
    expect(errors[0]).toMatchObject({ proxy_id: 'esc', exit_code: 3 });
    await waitUntil(async () => (await escapedSoon(s.env[SPAWN_TOKEN_ENV], -1, 0)).length === 0, 5_000);
  });

  it('a proxy that keeps to its group leaves nothing behind and gets no note, crashing or not', async () => {
    for (const [script, code] of [
      ['sleep 0.1', 0],
      ['sleep 0.1; exit 3', 3],
    ] as const) {
      const errors: Array<Record<string, unknown>> = [];
      expect(await run(spec('/bin/sh', ['-c', script]), errors)).toEqual({ code, escaped: undefined });
      await new Promise((resolve) => setTimeout(resolve, 100)); // the scan after a crash
      expect(errors).toEqual([]);
    }
  });

  it("finds only the processes carrying exactly this token, outside the leader's group", async () => {
    const token = randomUUID();
    const started: number[] = [];
    const start = (script: string, env: Record<string, string>) => {
      const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
      child.unref();
      started.push(child.pid!);
      return child.pid!;
    };
    try {
      const leader = start('sleep 300 & exec sleep 300', { [SPAWN_TOKEN_ENV]: token }); // the group, with a child in it
      const escaped = start('exec sleep 300', { [SPAWN_TOKEN_ENV]: token });
      start('exec sleep 300', { [`X${SPAWN_TOKEN_ENV}`]: token }); // another variable that ends like it
      start('exec sleep 300', { [SPAWN_TOKEN_ENV]: `${token}-2` }); // another token that begins like it
      await waitUntil(() => started.every((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')), 5_000);
      expect(await escapedSoon(token, leader, 0)).toEqual([escaped]);
    } finally {
      for (const pid of started) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
    }
  });

  it.skipIf(!existsSync('/usr/bin/ss-server'))('ss-server -f: the note names the -f flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-esc-'));
    const s = spec(
      '/usr/bin/ss-server',
      ['-s', '127.0.0.1', '-p', '0', '-k', 'x', '-m', 'aes-256-gcm', '-f', join(dir, 'ss.pid')],
      'shadowsocks',
    );
    // ss-server forks, the parent exits, and the child calls setsid. If the leader's exit is handled
    // before that setsid, the child is still in the group and dies with it (it is named as left in
    // the group); after, it escaped and is killed. Either way nothing may be left, and the note names -f.
    const notes: Array<string | undefined> = [];
    for (let attempt = 0; attempt < 5 && !notes.some(Boolean); attempt++) {
      s.env[SPAWN_TOKEN_ENV] = randomUUID();
      notes.push((await run(s, [])).escaped);
      await waitUntil(async () => (await escapedSoon(s.env[SPAWN_TOKEN_ENV], -1, 0)).length === 0, 5_000);
    }
    expect(notes.find(Boolean)).toMatch(/remove -f/);
  });

  it('says which flag to drop for known servers', () => {
    expect(escapeNote(spec('/usr/bin/ss-server', ['-f', 'x']), [42])).toMatch(/ss-server: remove -f/);
    expect(escapeNote(spec('/bin/sh', []), [42, 43])).toBe(
      'it left 2 processes running outside its process group (pids 42, 43): it daemonizes itself and must run in the foreground' +
        ' (no daemon or fork option, no "&" or setsid in a wrapper); the escaped copies were killed',
    );
  });

  it('typed proxies never pass a daemonizing flag', () => {
    const uuid = '6f1c9a3e-0b8d-4f62-9d0a-2b7c1e5a9f40';
    const { proxies } = parseConfigText(
      `proxy:\n  proxies:\n` +
        `    - { id: a, type: shadowsocks, server_port: 8388, password: p }\n` +
        `    - { id: b, type: trojan, local_port: 443, password: p, cert: /c, key: /k }\n` +
        `    - { id: c, type: v2ray, port: 1080, uuid: "${uuid}" }\n` +
        `    - { id: d, type: snell, listen: "127.0.0.1:6000", psk: p }\n`,
      'typed.yaml',
    );
    expect(proxies.map((p) => p.type)).toEqual(['shadowsocks', 'trojan', 'v2ray', 'snell']);
    for (const proxy of proxies) {
      for (const flag of ['-f', '-d', '--daemon', '-daemon', '--fork']) expect(proxy.args, proxy.type).not.toContain(flag);
    }
  });
});

describe('ticksSinceBoot', () => {
  it('is never after the start time of a process started from then on, and within a second of it', async () => {
    for (let i = 0; i < 5; i++) {
      const before = ticksSinceBoot();
      const child = spawn('sleep', ['5'], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('spawn', resolve));
      const started = processStartTime(child.pid!)!;
      child.kill('SIGKILL');
      expect(started).toBeGreaterThanOrEqual(before);
      expect(started - before).toBeLessThan(100);
    }
  });
});
