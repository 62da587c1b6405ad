// What a running daemon holds in memory: the code of paths it does not take stays out (bench/README.md,
// "Memory"). Node's TLS and HTTP/2 stacks load only for https and tls checks, never for the API;
// prom-client's cluster aggregator and Pushgateway (node:zlib) never; of zod's messages, only the
// English ones are in the build.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { API_BASE } from '../../src/api/base.ts';
import { ROOT, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

let daemon: TestDaemon | undefined;
afterAll(async () => {
  await daemon?.stop('SIGKILL');
});

it("loads none of Node's TLS, HTTP/2 or zlib modules for a daemon that serves its API and checks its proxy", async () => {
  const { dir, configFile } = writeConfig({
    proxy: {
      monitor: { enable: true, check_interval: 1 },
      proxies: [{ id: 'p', type: 'exec', command: 'sleep', args: ['300'], health: { process: true } }],
    },
    api: { listen: '127.0.0.1:0' },
  });
  // A preload that writes the daemon's list of loaded built-in modules as it exits.
  const loaded = join(dir, 'loaded.txt');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));\n`,
  );
  daemon = startDaemon(configFile, dir, [], ['env', `NODE_OPTIONS=--import=${preload}`]);
  const root = String((await daemon.waitFor((l) => l.message === 'api listening', 60_000)).url);
  const url = root + API_BASE;
  // Checked at least once: the check path ran.
  await waitUntil(async () => (await (await fetch(`${url}/proxies/p`)).json()).last_check?.ok === true, 30_000, 100);
  for (const path of ['/status', '/proxies', '/history']) expect((await fetch(url + path)).status).toBe(200);
  expect((await fetch(`${root}/metrics`)).status).toBe(200);
  expect(await daemon.stop()).toBe(0);

  const modules = readFileSync(loaded, 'utf8').split('\n');
  expect(modules).toContain('NativeModule http');
  for (const absent of ['https', 'tls', 'http2', 'zlib']) expect(modules).not.toContain(`NativeModule ${absent}`);
}, 90_000);

it("builds zod's English messages only, and none of prom-client's cluster aggregator or Pushgateway", () => {
  const dist = join(ROOT, 'dist');
  const text = readdirSync(dist)
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(dist, name), 'utf8'))
    .join('\n');
  // One phrase of zod's English locale, of its German and of its Japanese.
  expect(text).toContain('Invalid input');
  expect(text).not.toContain('Ungültige Eingabe');
  expect(text).not.toContain('無効な入力');
  expect(text).not.toMatch(/AggregatorRegistry|Pushgateway/);
});
