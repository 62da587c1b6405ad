// Where proxy-monitor's CPU goes during restart storms: a separate daemon run under
// `node --cpu-prof` (profiling slows it, so the measured storms run without), its main thread's top
// frames by self time. The profile covers the daemon's whole life: start-up, the storms, shutdown.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/support/daemon.ts';
import { RUN_DIR } from '../lib/cleanup.ts';
import type { Poller } from '../lib/poller.ts';
import { waitAllAccept } from '../lib/ports.ts';
import { topFrames } from '../lib/profile.ts';
import { serverTable, type ServerKind } from '../lib/servers.ts';
import { startOurs } from '../systems/ours.ts';
import { storm } from './storm.ts';

export async function profiledStorms(server: ServerKind, ports: number[], storms: number, poller: Poller) {
  const dir = join(RUN_DIR, 'profile');
  mkdirSync(dir, { recursive: true });
  const table = serverTable(server, ports);
  const ours = startOurs({ label: 'profile', server, ports, checkInterval: 5, logLevel: 'warn', profileDir: dir });
  try {
    await waitAllAccept(ports, () => table.children(ours.pid), 60_000);
    for (let i = 0; i < storms; i++) {
      await storm(ours, table, ports, poller, server);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await ours.stop();
  }
  // node names the main thread's profile CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile
  const main = readdirSync(dir).find((file) => file.includes(`.${ours.pid}.0.`));
  if (!main) throw new Error('proxy-monitor wrote no CPU profile (it did not exit on SIGTERM in time)');
  return topFrames(join(dir, main), ROOT, 15);
}
