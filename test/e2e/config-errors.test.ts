// A bad config is refused with one line naming the file and the key, exit code 2, nothing started.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, pidsMatching, writeConfig } from '../support/daemon.ts';

const proxy = (id: string) => ({ id, type: 'exec', command: process.execPath, args: ['-e', 'setInterval(()=>{},1000)', `marker-${id}`] });

const cases: Array<[string, (file: string) => void, RegExp]> = [
  ['bad YAML', (f) => writeFileSync(f, 'proxy:\n  monitor: { enable: true\n'), /:\d+:\d+: invalid YAML/],
  [
    'a wrong type',
    (f) => writeConfig({ proxy: { monitor: { enable: 'yes' }, proxies: [proxy('a1')] } }, dirOf(f)),
    /proxy\.monitor\.enable: expected/,
  ],
  [
    'a negative interval',
    (f) => writeConfig({ proxy: { monitor: { check_interval: -5 }, proxies: [proxy('a2')] } }, dirOf(f)),
    /proxy\.monitor\.check_interval: expected seconds from 1 to 86400 \(1 s to 1 day\), got -5/,
  ],
  [
    'an unknown key',
    (f) => writeConfig({ proxy: { monitor: { check_intervall: 5 }, proxies: [proxy('a3')] } }, dirOf(f)),
    /proxy\.monitor\.check_intervall: unknown key/,
  ],
  [
    'duplicate ids',
    (f) => writeConfig({ proxy: { proxies: [proxy('a4'), proxy('a4')] } }, dirOf(f)),
    /proxy\.proxies\[1\]\.id: duplicate id "a4"/,
  ],
  // What a truncated file looks like: the defaults and no proxy, which nobody writes to mean that.
  ['an empty file', (f) => writeFileSync(f, '# nothing but a comment\n'), /: the file is empty: expected a configuration/],
  [
    'a file cut off after "proxies:"',
    (f) => writeFileSync(f, 'proxy:\n  proxies:\n'),
    /: proxy\.proxies: expected a list of proxies, got nothing \(write "proxy: \{proxies: \[\]\}" for a daemon with no proxy\)/,
  ],
];

function dirOf(file: string) {
  return file.slice(0, file.lastIndexOf('/'));
}

describe('config errors', () => {
  for (const [name, write, expected] of cases) {
    it(`${name}: one line with file and key path, exit 2, nothing started`, () => {
      const { configFile } = writeConfig({});
      write(configFile);
      const result = spawnSync(process.execPath, [CLI, 'run', '--config', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].startsWith(`${configFile}`)).toBe(true);
      expect(lines[0]).toMatch(expected);
      expect(result.stdout).toBe('');
      expect(pidsMatching('marker-a')).toEqual([]);
      const validate = spawnSync(process.execPath, [CLI, 'validate', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
      expect(validate.status).toBe(2);
      expect(validate.stderr.trim()).toBe(lines[0]);
    });
  }

  it('several problems: a start names the first and how many more, validate lists every one, each with the key meant', () => {
    const { configFile } = writeConfig({
      proxy: { monitor: { chek_interval: 5 }, proxies: [{ ...proxy('a5'), comand: 'x' }] },
      api: { listne: 1 },
    });
    const run = spawnSync(process.execPath, [CLI, 'run', '--config', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      `${configFile}: proxy.monitor.chek_interval: unknown key, did you mean check_interval? (and 2 more: \`proxy-monitor validate ${configFile}\` lists every one)\n`,
    );
    const validate = spawnSync(process.execPath, [CLI, 'validate', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(validate.status).toBe(2);
    expect(validate.stderr.trim().split('\n')).toEqual([
      `${configFile}: proxy.monitor.chek_interval: unknown key, did you mean check_interval?`,
      `${configFile}: proxy.proxies[0].comand: unknown key, did you mean command?`,
      `${configFile}: api.listne: unknown key, did you mean listen?`,
    ]);
  });
});
