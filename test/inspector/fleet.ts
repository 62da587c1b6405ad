// A real daemon with a fleet of tiny exec proxies (a shell that says it started, then `sleep`), and
// a headless Chromium to look at its inspector. Shared by the browser test and `npm run screenshot`.
// Every proxy carries a random token in its environment: leftovers are found by it, never by name.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { API } from '../api/real-daemon.ts';
import { startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const TOKEN_ENV = 'PM_FLEET_TOKEN';

/**
 * A GET, retried once on a reset. fetch reuses idle keep-alive connections and never retries; the
 * daemon closes an idle one after its keep-alive timeout, and while its event loop is busy with a
 * storm on a loaded 2-core machine that close can cross a request already sent on it (seen: 3 resets
 * in 24 storms, each right after the server's keep-alive timeout fired).
 */
async function get(url: string, path: string) {
  try {
    return await (await fetch(`${url}${API}${path}`)).json();
  } catch (error) {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw error;
    return (await fetch(`${url}${API}${path}`)).json();
  }
}

export interface Fleet {
  daemon: TestDaemon;
  url: string;
  ids: string[];
  // biome-ignore lint/suspicious/noExplicitAny: the replies of every route, read by the tests
  get(path: string): Promise<any>;
  post(path: string, token?: string): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * An operator's browser runs on their own machine, not on the proxies' host. On a machine with two
 * cores or more, a test can give the daemon (and so its proxies) one core and Chromium another, so
 * that a click measures the page rather than the scheduler: 400 execs in a second on the same core
 * left Chromium's main thread a third of the CPU (its longest tasks ran 20 ms on the CPU over
 * 325 ms on the clock).
 */
export const SEPARATE_CPUS = availableParallelism() >= 2 ? { daemon: 1, browser: 0 } : undefined;

/** `niceness` and `cpu`: the daemon's (and so its proxies'). */
export async function startFleet(options: {
  count: number;
  monitor?: Record<string, unknown>;
  token?: string;
  niceness?: number;
  cpu?: number;
}): Promise<Fleet> {
  const token = randomUUID();
  const ids = Array.from({ length: options.count }, (_, i) => `p${i}`);
  const proxies = ids.map((id) => ({
    id,
    type: 'exec',
    command: '/bin/sh',
    args: ['-c', 'echo "$0 started, pid $$"; exec sleep 86400', id],
    env: { [TOKEN_ENV]: token },
    health: { process: true },
  }));
  const monitor = { enable: true, check_interval: 2, restart_cooldown: 0, ...options.monitor };
  const written = writeConfig({
    proxy: { monitor, proxies },
    api: { listen: '127.0.0.1:0', ...(options.token && { token: options.token }) },
  });
  const prefix = [
    ...(options.cpu === undefined ? [] : ['taskset', '-c', String(options.cpu)]),
    ...(options.niceness ? ['nice', '-n', String(options.niceness)] : []),
  ];
  const daemon = startDaemon(written.configFile, written.dir, [], prefix);
  const stop = async () => {
    await daemon.stop('SIGTERM');
    for (const pid of pidsWithEnv(`${TOKEN_ENV}=${token}`)) process.kill(pid, 'SIGKILL');
  };
  // Spawning is synchronous in the daemon: 200 proxies take seconds, more on a loaded machine.
  let url: string;
  try {
    const line = await daemon.waitFor((l) => l.message === 'api listening' || l.message === 'api cannot listen', 120_000);
    url = line.url as string;
    await waitUntil(async () => (await get(url, '/status')).status_count.running === options.count, 120_000, 200);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    daemon,
    url,
    ids,
    get: (path) => get(url, path),
    post: (path, bearer) => fetch(`${url}${API}${path}`, { method: 'POST', headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }),
    stop,
  };
}

/** Live processes whose environment holds `entry` (this fleet's token). */
function pidsWithEnv(entry: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        return readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry) ? [Number(name)] : [];
      } catch {
        return []; // gone meanwhile, or not ours to read
      }
    });
}

/** `cpu`: the only core Chromium's processes may run on (through a wrapper calling taskset). */
export async function launchChromium(options: { cpu?: number } = {}): Promise<Browser> {
  let executablePath = '/usr/bin/chromium';
  const wrapperDir = options.cpu === undefined ? undefined : mkdtempSync(join(tmpdir(), 'pm-chromium-'));
  if (wrapperDir) {
    executablePath = join(wrapperDir, 'chromium');
    writeFileSync(executablePath, `#!/bin/sh\nexec taskset -c ${options.cpu} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
  }
  // Once launched, the wrapper has become Chromium: its file is no longer needed.
  try {
    return await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-extensions',
      ],
    });
  } finally {
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
  }
}
