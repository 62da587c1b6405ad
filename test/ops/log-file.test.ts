// log.file: the daemon's JSON lines go to a size-rotated file (pino-roll), with a bounded number of
// files, old runs' files included; a log file that cannot be written is refused at start.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';
import { ENVELOPE, fieldProblems } from '../support/log-contract.ts';

const numbered = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^proxy-monitor\.\d+\.log$/.test(f))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));

describe('logging to a rotated file', () => {
  let daemon: TestDaemon;
  let logDir: string;

  beforeAll(async () => {
    const { dir, configFile } = writeConfig({
      log: { file: 'placeholder', max_size: '2k', max_files: 3, output_rate: 1000 },
      proxy: {
        // About 40 KiB of log: twenty times max_size.
        proxies: [
          {
            id: 'talker',
            type: 'exec',
            command: '/bin/sh',
            args: ['-c', 'for i in $(seq 1 200); do echo "line $i of a proxy that talks"; sleep 0.01; done; exec sleep 600'],
          },
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    logDir = join(dir, 'logs');
    // Files an earlier run left: rotation must count them too.
    mkdirSync(logDir);
    for (let i = 1; i <= 4; i++) writeFileSync(join(logDir, `proxy-monitor.${i}.log`), '{"old":true}\n');
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('placeholder', join(logDir, 'proxy-monitor.log')));
    daemon = startDaemon(configFile, dir);
    // The daemon rotates meanwhile: a file listed may be deleted before it is read.
    const contents = (f: string) => {
      try {
        return readFileSync(join(logDir, f), 'utf8');
      } catch {
        return '';
      }
    };
    const logged = (text: string) => numbered(logDir).some((f) => contents(f).includes(text));
    await waitUntil(() => logged('line 200 of'), 60_000, 100);
    expect(await daemon.stop('SIGTERM')).toBe(0);
  }, 90_000);
  afterAll(() => daemon?.stop('SIGKILL'));

  it('writes nothing to stdout', () => {
    expect(daemon.lines).toEqual([]);
  });

  it("keeps at most max_files files, deleting the oldest (an earlier run's too)", () => {
    const files = numbered(logDir);
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.length).toBeLessThanOrEqual(3);
    expect(files).not.toContain('proxy-monitor.1.log');
    for (const f of files) expect(readFileSync(join(logDir, f), 'utf8')).not.toContain('"old"');
  });

  it('rolls files over near max_size and points current.log at the live one, which ends with the stop', () => {
    const files = numbered(logDir);
    // The live file may exceed the size by one write; the rolled ones were cut at it.
    for (const f of files.slice(0, -1)) expect(statSync(join(logDir, f)).size).toBeLessThan(2048 + 4096);
    expect(lstatSync(join(logDir, 'current.log')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(logDir, 'current.log'))).toBe(files.at(-1));
    // pino-roll rolls right after the write that reaches max_size: when the stop's line is that
    // write, the live file is a new, empty one and the line ends the file before it.
    const lines = (f: string) => readFileSync(join(logDir, f), 'utf8').split('\n').filter(Boolean);
    const live = lines('current.log');
    const last = (live.length > 0 ? live : lines(files.at(-2)!)).map((l) => JSON.parse(l)).at(-1);
    expect(last).toMatchObject({ message: 'proxy monitor stopped', component: 'proxy-monitor' });
    expect(statSync(join(logDir, files.at(-1)!)).mode & 0o777).toBe(0o640);
  });

  it("holds the proxy output lines as JSON, every line in the design document's envelope", () => {
    const all = numbered(logDir).flatMap((f) =>
      readFileSync(join(logDir, f), 'utf8')
        .split('\n')
        .filter(Boolean) // an empty live file (see above) holds no line
        .map((l) => JSON.parse(l)),
    );
    expect(all.some((l) => l.message === 'proxy output' && l.line === 'line 200 of a proxy that talks' && l.component === 'proxy')).toBe(
      true,
    );
    for (const line of all) expect(fieldProblems(line, ENVELOPE)).toEqual([]);
  });
});

describe('a log file that cannot be written', () => {
  it('is refused at start, naming the key', () => {
    const { configFile } = writeConfig({ log: { file: '/etc/hostname/proxy-monitor.log' }, api: { listen: '127.0.0.1:0' } });
    const r = spawnSync(process.execPath, [CLI, 'run', '--config', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/log\.file: cannot write to \/etc\/hostname: (ENOTDIR|EEXIST)/);
    // Under /proc, where Node's recursive mkdir never returns: refused the same way, at once.
    const proc = writeConfig({ log: { file: '/proc/no-such-dir/pm.log' }, api: { listen: '127.0.0.1:0' } });
    const p = spawnSync(process.execPath, [CLI, 'run', '--config', proc.configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/log\.file: cannot write to \/proc\/no-such-dir: ENOENT/);
    // A directory is not a log file's name: its files would land in its parent.
    const dir = writeConfig({ api: { listen: '127.0.0.1:0' } });
    const named = writeConfig({ log: { file: dir.dir }, api: { listen: '127.0.0.1:0' } });
    const d = spawnSync(process.execPath, [CLI, 'run', '--config', named.configFile], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(d.status).toBe(2);
    expect(d.stderr).toContain(`log.file: ${dir.dir} is a directory; expected the path of a log file`);
  });
});
