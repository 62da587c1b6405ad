// The README's first command: `npm start` supervises the demo proxies of config/default.yaml, and a
// killed demo proxy comes back.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, accepts, pidsMatching, waitUntil } from '../support/daemon.ts';

describe('npm start', () => {
  // A state dir of its own: the shipped ./state keeps the hourly cap across runs, by design.
  const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-start-')), 'state');
  const npm = spawn('npm', ['start', '--', '--state-dir', stateDir], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout.on('data', (d) => (output += d));
  npm.stderr.on('data', (d) => (output += d));
  const exited = new Promise((done) => npm.once('exit', done));

  afterAll(async () => {
    if (npm.exitCode === null) process.kill(-npm.pid!, 'SIGTERM');
    await exited;
  });

  it('supervises the demo proxies; killing one restarts it; SIGTERM stops them all', async () => {
    await waitUntil(async () => (await accepts(9101)) && (await accepts(9102)), 20_000, 50);
    const [pid] = pidsMatching('--port 9101');
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => output.includes('"proxy_id":"demo-1","reason":"exited"'), 5_000, 20);
    await waitUntil(() => accepts(9101), 5_000, 20);
    expect(pidsMatching('--port 9101')).not.toContain(pid);
    process.kill(-npm.pid!, 'SIGTERM');
    await exited;
    // npm may exit before the daemon has finished stopping its proxies.
    const demoPids = () => [...pidsMatching('--port 9101'), ...pidsMatching('--port 9102')];
    await waitUntil(() => demoPids().length === 0, 15_000, 50);
    expect(demoPids()).toEqual([]);
  });
});
