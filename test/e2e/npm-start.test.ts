// The README's first command: `npm start` supervises the demo proxies of config/default.yaml, a killed
// demo proxy is seen at once and is back within a fraction of a second beyond its own start-up, and
// SIGTERM leaves nothing behind. The file is a copy of config/default.yaml with free ports put in for
// 9101, 9102 and 8080 (a later --config wins), so the test neither collides with nor touches anything
// another run started: it signals only the pids this npm and its daemon report.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, accepts, freePorts, waitUntil, type LogLine } from '../support/daemon.ts';

const API = '/api/v1/proxy/monitor';
let npm: ChildProcess;
let exited: Promise<unknown>;
let api: string;
let ports: number[];
const lines: LogLine[] = [];
const seen = new Set<number>();

const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const pidOf = async (id: string): Promise<number | null> => {
  const { pid } = await (await fetch(`${api}${API}/proxies/${id}`)).json();
  if (typeof pid === 'number') seen.add(pid);
  return pid ?? null;
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-start-'));
  ports = await freePorts(3);
  const shipped = readFileSync(join(ROOT, 'config/default.yaml'), 'utf8');
  const copy = shipped
    .replaceAll('9101', String(ports[0]))
    .replaceAll('9102', String(ports[1]))
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports[2]}`);
  expect(copy).not.toMatch(/9101|9102|:8080/);
  const configFile = join(dir, 'default.yaml');
  writeFileSync(configFile, copy);
  // A state dir of its own: the shipped ./state keeps the hourly cap across runs, by design.
  npm = spawn('npm', ['start', '--', '--config', configFile, '--state-dir', join(dir, 'state')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((done) => npm.once('exit', done));
  let buffer = '';
  npm.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (buffer + chunk).split('\n');
    buffer = parts.pop()!;
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part));
  });
  api = `http://127.0.0.1:${ports[2]}`;
  await waitUntil(async () => (await accepts(ports[0])) && (await accepts(ports[1])) && (await accepts(ports[2])), 60_000, 100);
});

afterAll(async () => {
  if (npm?.exitCode === null) process.kill(-npm.pid!, 'SIGTERM');
  await exited;
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

it('supervises the demo proxies; a killed one is back at once; SIGTERM stops them all', async () => {
  const pid = (await pidOf('demo-1'))!;
  await pidOf('demo-2');
  expect(lines.find((l) => l.message === 'proxy monitor started')).toMatchObject({ proxies: 2 });

  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  const crash = await waitFor((l) => l.message === 'proxy crash detected' && l.proxy_id === 'demo-1');
  expect(Date.now() - killedAt).toBeLessThan(1_000); // seen at once: a child's exit, not a check round
  expect(String(crash.reason)).toMatch(/SIGKILL/);
  const restart = await waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'demo-1');
  expect(restart.reason).toBe('exited');
  await waitUntil(() => accepts(ports[0]), 5_000, 10);
  // Back within the proxy's own start-up (the restart's duration: spawn to first passed check) and a
  // fraction of a second: no cooldown or backoff delays a first crash.
  expect(Date.now() - killedAt).toBeLessThan(Number(restart.duration_ms) + 1_000);
  expect(await pidOf('demo-1')).not.toBe(pid);

  process.kill(-npm.pid!, 'SIGTERM');
  await exited;
  // npm may exit before the daemon has finished stopping its proxies.
  await waitUntil(() => [...seen].every((p) => !alive(p)), 30_000, 50);
  expect(await accepts(ports[0])).toBe(false);
  expect(await accepts(ports[1])).toBe(false);
});

function waitFor(predicate: (line: LogLine) => boolean): Promise<LogLine> {
  return waitUntil(() => lines.some(predicate), 30_000, 10).then(() => lines.find(predicate)!);
}
