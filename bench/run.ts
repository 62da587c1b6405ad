// `npm run bench`: proxy-monitor against supervisord and PM2 on the same real servers, in one run.
// Each round runs the bare loops, then each supervisor in turn (the order rotates), each started
// afresh and alone on the machine while it is stormed, so that drift on a busy machine hits all
// alike and none pays for another's idle work. Everything started is killed at the end, whatever happens.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup, MARKER } from './lib/cleanup.ts';
import { startPoller } from './lib/poller.ts';
import { serverPorts, waitAllAccept } from './lib/ports.ts';
import { machineInfo, rssBytes, rssMedian } from './lib/proc.ts';
import { chooseServer, serverTable, type ServerTable } from './lib/servers.ts';
import { MiB } from './lib/stats.ts';
import { renderConsole, renderMarkdown, type Results, type StormCrashes, type SystemResult } from './report.ts';
import { isolatedDetection, stormDetection } from './scenarios/crash.ts';
import { loadRoute, READ_ROUTES } from './scenarios/reads.ts';
import { bareLoop } from './scenarios/floor.ts';
import { idleCost } from './scenarios/idle.ts';
import { profiledStorms } from './scenarios/profile.ts';
import { storm, summarize, type Storm } from './scenarios/storm.ts';
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
    /** Besides proxy-monitor: its child_process fallback, supervisord as shipped and tuned, PM2. */
    with: { type: 'string', default: 'child_process,supervisord,supervisord-tuned,pm2' },
    'growth-storms': { type: 'string', default: '20' },
    isolated: { type: 'string', default: '100' },
    /** Idle window (s) with checks every 5 s; the one at the default 30 s interval is twice as long, 60 s at least. */
    idle: { type: 'string', default: '30' },
    out: { type: 'string', default: join(import.meta.dirname, 'RESULTS.md') },
  },
});
const N = Number(opts.n);
const ROUNDS = Number(opts.rounds);
const TICK_N = Number(opts['tick-n']);
const IDLE_MS = Number(opts.idle) * 1000;
const WITH = opts.with.split(',').filter(Boolean);
const STATUS_ROUTE = READ_ROUTES[0];
const GROWTH_STORMS = Number(opts['growth-storms']);
const ISOLATED = Number(opts.isolated);
for (const [key, value] of [
  ['n', N],
  ['rounds', ROUNDS],
  ['tick-n', TICK_N],
  ['idle', IDLE_MS],
  ['growth-storms', GROWTH_STORMS],
  ['isolated', ISOLATED],
] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${key}: expected a positive integer, got ${opts[key]}`);
}

/** How long RSS is sampled after a storm (its median is reported). */
const RSS_WINDOW_MS = 3000;
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x);

/** A supervisor under test, started afresh for each of its rounds so that it is alone on the machine. */
interface Contender {
  name: string;
  start(ports: number[]): Supervised | Promise<Supervised>;
  ports: number[];
  table: ServerTable;
  storms: Storm[];
  rssAfterStorm: number[];
  version?: string;
}

/** Starts it, waits for every server, lets start-up settle: the caller stops it. */
async function bringUp(c: Contender): Promise<Supervised> {
  const system = await c.start(c.ports);
  c.version = system.version;
  await waitAllAccept(c.ports, () => c.table.children(system.pid), 180_000);
  await sleep(2000);
  return system;
}

async function main(): Promise<Results> {
  installCleanup();
  const poller = startPoller();
  const began = performance.now();
  const loadBefore = loadavg();
  const server = chooseServer(MARKER);
  log(
    `servers: ${server.name} (${server.version}), ${N} per supervisor, ${ROUNDS} rounds; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')}`,
  );
  const contenders: Contender[] = [];
  const skipped: string[] = [];
  const add = async (name: string, start: Contender['start']) => {
    const ports = await serverPorts(N, contenders.flatMap((c) => c.ports).concat(floorPorts, [apiPort]));
    contenders.push({ name, start, ports, table: serverTable(server, ports), storms: [], rssAfterStorm: [] });
  };
  const floorPorts = await serverPorts(N);
  const floorTable = serverTable(server, floorPorts);
  type Floor = Awaited<ReturnType<typeof bareLoop>>;
  const floors = { bash: [] as Floor[], node: [] as Floor[] };
  let ours: Ours | undefined;
  // A port of its own for the API: at log level warn the daemon does not say where it listens.
  const [apiPort] = await serverPorts(1, floorPorts);
  const startOursOn = (spawn: 'helper' | 'child_process') => (ports: number[]) =>
    (ours = startOurs({
      label: `ours-${spawn}`,
      server,
      ports,
      checkInterval: 5,
      logLevel: 'warn',
      spawn,
      listen: `127.0.0.1:${apiPort}`,
    }));
  await add('proxy-monitor', startOursOn('helper'));
  if (WITH.includes('child_process')) await add('proxy-monitor (child_process)', startOursOn('child_process'));
  if (WITH.includes('supervisord')) await add('supervisord', (ports) => startSupervisord(server, ports, log, 'default'));
  if (WITH.includes('supervisord-tuned'))
    await add('supervisord (stdout_logfile=NONE)', (ports) => startSupervisord(server, ports, log, 'tuned'));
  if (WITH.includes('pm2')) await add('pm2', (ports) => startPm2(server, ports, log));
  const crashStorm: StormCrashes = { own: [], fromFirst: [] };
  const addCrashes = (to: StormCrashes, from: StormCrashes) => {
    to.own.push(...from.own);
    to.fromFirst.push(...from.fromFirst);
  };
  let running: Supervised | undefined;
  const stopRunning = async () => {
    await running?.stop();
    running = undefined;
  };

  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['bash', 'node'] as const) floors[kind].push(await bareLoop(kind, server, floorTable, floorPorts, poller));
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(r + k) % contenders.length];
        if (skipped.some((s) => s.startsWith(c.name))) continue;
        try {
          running = await bringUp(c);
        } catch (error) {
          await stopRunning();
          skipped.push(`${c.name} (${(error as Error).message.split('\n')[0]})`);
          log(`${c.name}: not measured: ${(error as Error).message.split('\n')[0]}`);
          continue;
        }
        const from = ours?.lines.length ?? 0;
        let s: Storm;
        try {
          s = await storm(running, c.table, c.ports, poller, server);
        } catch (error) {
          // A round that could not be measured (servers not back in time on a swamped machine) is
          // said, not fatal.
          log(`${c.name}: round ${r + 1} not measured: ${(error as Error).message}`);
          await stopRunning();
          continue;
        }
        c.storms.push(s);
        await sleep(500);
        if (c.name === 'proxy-monitor') addCrashes(crashStorm, stormDetection(ours!.lines.slice(from), s));
        c.rssAfterStorm.push(await rssMedian(running.pid, RSS_WINDOW_MS));
        await stopRunning();
      }
      log(
        `round ${r + 1}/${ROUNDS}: ` +
          contenders
            .filter((c) => c.storms.at(-1))
            .map((c) => `${c.name} p50 ${round(c.storms.at(-1)!.p50)} max ${round(c.storms.at(-1)!.max)} ms`)
            .join(', ') +
          `; bash loop max ${round(floors.bash[r].max)} ms, node loop max ${round(floors.node[r].max)} ms`,
      );
    }

    // proxy-monitor alone and long-lived: memory at rest and over GROWTH_STORMS storms, crash
    // detection one at a time, idle CPU at a 5 s and at the default 30 s interval.
    const [mine] = contenders;
    running = await bringUp(mine);
    await sleep(5000);
    const [oursIdle] = await idleCost([running.pid], IDLE_MS);
    log(
      `proxy-monitor alone: idle RSS ${(oursIdle.rssMiB).toFixed(1)} MiB, CPU ${oursIdle.cpuPct.toFixed(2)} %; ${GROWTH_STORMS} storms for memory growth`,
    );
    const growth: number[] = [];
    const statusDuringStorms: number[] = [];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    for (let i = 0; i < GROWTH_STORMS; i++) {
      const from = ours!.lines.length;
      // An operator's `status` while the storm runs: 300 GETs one after another, from the kills on.
      let reads: ReturnType<typeof loadRoute> | undefined;
      const s = await storm(running, mine.table, mine.ports, poller, server, () => {
        reads = loadRoute(apiUrl, STATUS_ROUTE, 300, 1);
      });
      statusDuringStorms.push(...(await reads!).latencies);
      await sleep(500);
      addCrashes(crashStorm, stormDetection(ours!.lines.slice(from), s));
      // The first and the last are reported: each a median over a few seconds, as for the others.
      growth.push(i === 0 || i === GROWTH_STORMS - 1 ? await rssMedian(running.pid, RSS_WINDOW_MS) : rssBytes(running.pid));
    }
    log('crash detection, one at a time');
    const isolated = await isolatedDetection(ours!, mine.table, mine.ports, ISOLATED, poller, server);
    ours!.setCheckInterval(30);
    await sleep(2000);
    // At least two rounds of the 30 s interval, whatever --idle says: a shorter window may hold none.
    const [idleDefault] = await idleCost([running.pid], Math.max(2 * IDLE_MS, 60_000));
    await stopRunning();

    // Every other supervisor alone, at rest.
    const idles = [oursIdle];
    for (const c of contenders.slice(1)) {
      if (skipped.some((s) => s.startsWith(c.name))) {
        idles.push({ cpuPct: NaN, rssMiB: NaN, windowS: 0 });
        continue;
      }
      running = await bringUp(c);
      await sleep(5000);
      idles.push((await idleCost([running.pid], IDLE_MS))[0]);
      await stopRunning();
    }

    const systems: SystemResult[] = contenders.map((c, i) => ({
      name: c.name,
      version: c.version ?? 'not started',
      storm: summarize(c.storms),
      rssAfterFirstMiB: (i === 0 ? growth[0] : c.rssAfterStorm[0]) / MiB,
      rssAfterLastMiB: (i === 0 ? growth.at(-1)! : c.rssAfterStorm.at(-1)!) / MiB,
      idle: idles[i],
    }));

    const stormFloor: StormCrashes = { own: [], fromFirst: [] };
    for (const floor of floors.node) addCrashes(stormFloor, floor.crashSeen);

    log(`check tick: ${TICK_N} proxies`);
    const tick = await checkTick(server, await serverPorts(TICK_N), 3);
    log('profile: proxy-monitor under --cpu-prof, 5 storms');
    const profile = await profiledStorms(server, mine.ports, 5, poller);

    return {
      date: new Date().toISOString(),
      durationS: (performance.now() - began) / 1000,
      machine: machineInfo(),
      load: { before: loadBefore, after: loadavg() },
      node: process.version,
      server: { name: server.name, version: server.version },
      n: N,
      rounds: ROUNDS,
      growthStorms: GROWTH_STORMS,
      floors: { bash: summarize(floors.bash), node: summarize(floors.node) },
      systems,
      idleDefault,
      crash: { isolated, storm: crashStorm, stormFloor },
      statusDuringStorms,
      tick,
      profile,
      skipped,
    };
  } finally {
    poller.close();
    await stopRunning();
  }
}

const results = await main();
log(`\n${renderConsole(results)}`);
writeFileSync(opts.out, renderMarkdown(results));
log(`\nwritten to ${opts.out}`);
