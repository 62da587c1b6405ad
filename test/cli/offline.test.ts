// The commands that need no daemon: `validate` on good files (the shipped presets and a written one)
// and `graph`, in this process, and `graph` once through bin/proxy-monitor.js.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { memory } from '../../src/cli/format.ts';
import { graph } from '../../src/cli/graph.ts';
import { validate } from '../../src/cli/validate.ts';
import { chartOf, toDot, toMermaid } from '../../src/inspector/graph.ts';
import { CLI, ROOT, writeConfig } from '../support/daemon.ts';

/** Runs `fn` with stdout and stderr captured. */
function captured(fn: () => number) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    return { code: fn(), stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}
afterEach(() => vi.restoreAllMocks());

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('validate on a good file', () => {
  it('says ok with the proxy count and whether monitoring is on, exit 0, for a written file and every shipped preset', () => {
    const { configFile } = writeConfig({
      proxy: {
        monitor: { enable: false },
        proxies: [
          { id: 'a', type: 'exec', command: '/bin/true' },
          { id: 'b', type: 'exec', command: '/bin/true' },
          { id: 'c', type: 'exec', command: '/bin/true' },
        ],
      },
    });
    expect(captured(() => validate(configFile))).toEqual({
      code: 0,
      stdout: `${configFile}: ok (3 proxies, monitoring disabled)\n`,
      stderr: '',
    });
    const file = join(ROOT, 'config/default.yaml');
    expect(captured(() => validate(file))).toEqual({ code: 0, stdout: `${file}: ok (2 proxies, monitoring enabled)\n`, stderr: '' });
    for (const preset of ['development', 'production', 'high-availability']) {
      const result = captured(() => validate(join(ROOT, `config/${preset}.yaml`)));
      expect(result.code, preset).toBe(0);
      expect(result.stdout, preset).toMatch(/: ok \(\d+ prox(y|ies), monitoring (enabled|disabled)\)\n$/);
    }
  });
  it('warns of a program that cannot be run (exit 0: it may be installed before the daemon starts)', () => {
    const { configFile } = writeConfig({
      proxy: {
        proxies: [
          { id: 'a', type: 'exec', command: '/usr/bin/perll' },
          { id: 'b', type: 'exec', command: '/bin/true', cwd: '/nonexistent/dir' },
          { id: 'c', type: 'exec', command: '/bin/true', health: { exec: ['/no/such-check.sh'] } },
        ],
      },
    });
    expect(captured(() => validate(configFile))).toEqual({
      code: 0,
      stdout: `${configFile}: ok (3 proxies, monitoring disabled)\n`,
      stderr:
        `${configFile}: proxy.proxies[0].command: warning: spawn /usr/bin/perll ENOENT (on this shell's PATH): the proxy cannot be started as things are\n` +
        `${configFile}: proxy.proxies[1].cwd: warning: working directory /nonexistent/dir does not exist: the proxy cannot be started as things are\n` +
        `${configFile}: proxy.proxies[2].health.exec: warning: spawn /no/such-check.sh ENOENT: every health check would fail\n`,
    });
  });
  it('warns of a trojan certificate trojan would refuse, as of a program that cannot be run', () => {
    const { configFile } = writeConfig({
      proxy: {
        proxies: [
          {
            id: 'tj',
            type: 'trojan',
            binary: '/bin/true',
            local_port: 4430,
            password: ['p'],
            cert: '/nonexistent/cert.pem',
            key: '/nonexistent/key.pem',
          },
        ],
      },
    });
    expect(captured(() => validate(configFile))).toEqual({
      code: 0,
      stdout: `${configFile}: ok (1 proxy, monitoring disabled)\n`,
      stderr: `${configFile}: proxy.proxies[0].cert: warning: cannot read /nonexistent/cert.pem: no such file: the proxy cannot be started as things are\n`,
    });
  });
  it('takes the file as run does, after --config or -c, through the command line', () => {
    const file = join(ROOT, 'config/default.yaml');
    for (const args of [
      ['--config', file],
      ['-c', file],
    ]) {
      expect(cli('validate', ...args)).toMatchObject({ status: 0, stdout: `${file}: ok (2 proxies, monitoring enabled)\n`, stderr: '' });
    }
    const two = cli('validate', '-c', file, file);
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/^proxy-monitor: validate needs one FILE\n/);
  });
  // `validate` of bad files through the command line is run by test/e2e/config-errors.test.ts.
});

describe('usage', () => {
  it('no command is a usage mistake (exit 2), as a script with an empty variable would call it; help is not', () => {
    for (const args of [[], ['--json']]) {
      const none = cli(...args);
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/^proxy-monitor: a command is needed.*\nusage:/);
    }
    for (const args of [['help'], ['--help'], ['-h']]) expect(cli(...args)).toMatchObject({ status: 0, stderr: '' });
  });
});

describe('graph', () => {
  it('prints the proxy chart as Mermaid by default, and either machine in every format', () => {
    expect(captured(() => graph([]))).toEqual({ code: 0, stdout: toMermaid(chartOf(proxyMachine)), stderr: '' });
    expect(captured(() => graph(['--machine', 'monitor', '--format', 'dot']))).toEqual({
      code: 0,
      stdout: toDot(chartOf(monitorMachine)),
      stderr: '',
    });
    const json = captured(() => graph(['--machine', 'monitor', '--format', 'json']));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(chartOf(monitorMachine))));
  });

  it('refuses an unknown machine or format with exit 2, naming the choices', () => {
    expect(captured(() => graph(['--machine', 'router']))).toEqual({
      code: 2,
      stdout: '',
      stderr: 'proxy-monitor: --machine: expected one of proxy, monitor, got "router"\n',
    });
    expect(captured(() => graph(['--format', 'svg']))).toEqual({
      code: 2,
      stdout: '',
      stderr: 'proxy-monitor: --format: expected one of mermaid, dot, json, got "svg"\n',
    });
  });

  it('through the command line: exit 0 and the chart on stdout', () => {
    const result = cli('graph', '--format', 'dot');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(toDot(chartOf(proxyMachine)));
  });
});

describe('a memory figure', () => {
  it("of a process that has ended is said to be its last reading, not a process's use now", () => {
    const reading = { bytes: 5 * 1024 * 1024, limit_bytes: null, checks_above_limit: 0 };
    expect(memory(reading)).toBe('5MiB (no limit)');
    expect(memory(reading, false)).toBe('5MiB (no limit), at the last check of its process, which has ended');
    expect(memory(null, false)).toBe('-');
  });
});
