// `npm run bench`: proxy-monitor against supervisord and PM2 on the same real servers, in one run.
// Each round storms every supervisor in turn (the order rotates) and runs the bare loops, so a busy
// machine slows all of them alike. Everything started is killed at the end, whatever happens.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup } from './lib/cleanup.ts';
import { serverPorts, waitAllAccept } from './lib/ports.ts';
import { machineInfo, rssBytes } from './lib/proc.ts';
import { chooseServer, serverTable, type ServerTable } from './lib/servers.ts';
import { MiB } from './lib/stats.ts';
import { renderConsole, renderMarkdown, type Results, type SystemResult } from './report.ts';
import { isolatedDetection, stormDetection } from './scenarios/crash.ts';
import { bareLoop } from './scenarios/floor.ts';
import { idleCost } from './scenarios/idle.ts';
import { profiledStorms } from './scenarios/profile.ts';
import { spread, storm, summarize, type Storm } from './scenarios/storm.ts';
import { checkTick } from './scenarios/tick.ts';
import { startOurs, type Ours } from './systems/ours.ts';
import { startPm2 } from './systems/pm2.ts';
import { startSupervisord } from './systems/supervisord.ts';
import type { Supervised } from './systems/system.ts';

const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '20' },
    'tick-n': { type: 'string', default: '1000' },
    only: { type: 'string', default: 'supervisord,pm2' },
    /** Idle window (s) with checks every 5 s; the one at the default 30 s interval is twice as long. */
    idle: { type: 'string', default: '30' },
    out: { type: 'string', default: join(import.meta.dirname, 'RESULTS.md') },
  },
});
const N = Number(opts.n);
const ROUNDS = Number(opts.rounds);
const TICK_N = Number(opts['tick-n']);
const IDLE_MS = Number(opts.idle) * 1000;
const OTHERS = opts.only.split(',').filter(Boolean);
for (const [key, value] of [['n', N], ['rounds', ROUNDS], ['tick-n', TICK_N], ['idle', IDLE_MS]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${key}: expected a positive integer, got ${opts[key]}`);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x);

interface Entry {
  system: Supervised;
  table: ServerTable;
  ports: number[];
  storms: Storm[];
  rssAfterFirst: number;
}

async function startOthers(entries: Entry[], skipped: string[], server: ReturnType<typeof chooseServer>, portsFor: () => Promise<number[]>) {
  const starters: Record<string, (ports: number[]) => Supervised | Promise<Supervised>> = {
    supervisord: (ports) => startSupervisord(server, ports, log),
    pm2: (ports) => startPm2(server, ports, log),
  };
  for (const name of OTHERS) {
    const start = starters[name];
    if (!start) throw new Error(`--only: unknown supervisor ${name} (expected supervisord, pm2)`);
    const ports = await portsFor();
    try {
      const system = await start(ports);
      entries.push({ system, table: serverTable(server, ports), ports, storms: [], rssAfterFirst: 0 });
    } catch (error) {
      skipped.push(`${name} (${(error as Error).message.split('\n')[0]})`);
      log(`${name}: not measured: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

async function main(): Promise<Results> {
  installCleanup();
  const began = performance.now();
  const server = chooseServer();
  log(`servers: ${server.name} (${server.version}), ${N} per supervisor, ${ROUNDS} rounds`);
  const allPorts = await serverPorts(N * (2 + OTHERS.length));
  let next = 0;
  const portsFor = async () => allPorts.slice(next, (next += N));

  const floorPorts = await portsFor();
  const floorTable = serverTable(server, floorPorts);
  const floors = { bash: [] as ReturnType<typeof spread>[], node: [] as ReturnType<typeof spread>[] };
  const skipped: string[] = [];
  const oursPorts = await portsFor();
  const ours: Ours = startOurs({ label: 'ours', server, ports: oursPorts, checkInterval: 5, logLevel: 'warn' });
  const entries: Entry[] = [{ system: ours, table: serverTable(server, oursPorts), ports: oursPorts, storms: [], rssAfterFirst: 0 }];
  const crashStorm: number[] = [];
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled(entries.map((e) => e.system.stop()));
  };
  try {
    await startOthers(entries, skipped, server, portsFor);
    for (const e of entries) {
      await waitAllAccept(e.ports, () => e.table.children(e.system.pid), 120_000);
      log(`${e.system.name} (${e.system.version}): ${N} servers up`);
    }

    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['bash', 'node'] as const) floors[kind].push(await bareLoop(kind, server, floorTable, floorPorts));
      for (let k = 0; k < entries.length; k++) {
        const e = entries[(r + k) % entries.length];
        const from = ours.lines.length;
        const s = await storm(e.system, e.table, e.ports);
        e.storms.push(s);
        await sleep(500);
        if (e.system === ours) crashStorm.push(...stormDetection(ours.lines.slice(from), s.killedAt));
        if (r === 0) e.rssAfterFirst = rssBytes(e.system.pid);
      }
      log(`round ${r + 1}/${ROUNDS}: ` + entries.map((e) => `${e.system.name} p50 ${round(e.storms[r].p50)} max ${round(e.storms[r].max)} ms`).join(', ') +
        `; bash loop max ${round(floors.bash[r].max)} ms, node loop max ${round(floors.node[r].max)} ms`);
    }

    log('crash detection, one at a time');
    const isolated = await isolatedDetection(ours, entries[0].table, oursPorts, 100);

    log(`idle: ${IDLE_MS / 1000} s, every daemon at once (proxy-monitor checks every 5 s)`);
    await sleep(5000);
    const rssAfterLast = entries.map((e) => rssBytes(e.system.pid));
    const idle = await idleCost(entries.map((e) => e.system.pid), IDLE_MS);
    log(`idle: ${(2 * IDLE_MS) / 1000} s, proxy-monitor at the default 30 s interval`);
    ours.setCheckInterval(30);
    await sleep(2000);
    const [idleDefault] = await idleCost([ours.pid], 2 * IDLE_MS);

    const systems: SystemResult[] = entries.map((e, i) => ({
      name: e.system.name,
      version: e.system.version,
      storm: summarize(e.storms),
      rssAfterFirstMiB: e.rssAfterFirst / MiB,
      rssAfterLastMiB: rssAfterLast[i] / MiB,
      idle: idle[i],
    }));
    await stopAll();

    log(`check tick: ${TICK_N} proxies`);
    const tick = await checkTick(server, await serverPorts(TICK_N), 3);
    log('profile: proxy-monitor under --cpu-prof, 5 storms');
    const profile = await profiledStorms(server, oursPorts, 5);

    return {
      date: new Date().toISOString(),
      durationS: (performance.now() - began) / 1000,
      machine: machineInfo(),
      node: process.version,
      server: { name: server.name, version: server.version },
      n: N,
      rounds: ROUNDS,
      floors: { bash: summarize(floors.bash), node: summarize(floors.node) },
      systems,
      idleDefault,
      crash: { isolated, storm: crashStorm },
      tick,
      profile,
      skipped,
    };
  } finally {
    await stopAll();
  }
}

const results = await main();
log(`\n${renderConsole(results)}`);
writeFileSync(opts.out, renderMarkdown(results));
log(`\nwritten to ${opts.out}`);
