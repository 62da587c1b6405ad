// What the bench found: printed as it ends, and written to bench/RESULTS.md with the machine, the
// versions and the date. Ratios are ours/theirs from the same run (interleaved rounds), so they hold
// on a busy machine even when the absolute figures do not.
import type { machineInfo } from './lib/proc.ts';
import type { Frame } from './lib/profile.ts';
import { percentile } from './lib/stats.ts';
import type { Idle } from './scenarios/idle.ts';
import type { StormSummary } from './scenarios/storm.ts';
import type { Tick } from './scenarios/tick.ts';

export interface SystemResult {
  name: string;
  version: string;
  storm: StormSummary;
  rssAfterFirstMiB: number;
  rssAfterLastMiB: number;
  /** While proxy-monitor checked every proxy every 5 s. */
  idle: Idle;
}

export interface Results {
  date: string;
  durationS: number;
  machine: ReturnType<typeof machineInfo>;
  /** 1, 5 and 15 min load averages when the run began and ended: other work on the machine. */
  load: { before: number[]; after: number[] };
  node: string;
  server: { name: string; version: string };
  n: number;
  rounds: number;
  /** Storms in a row of one long-lived proxy-monitor, for its memory growth. */
  growthStorms: number;
  floors: { bash: StormSummary; node: StormSummary };
  /** proxy-monitor first. */
  systems: SystemResult[];
  /** proxy-monitor with the default 30 s check interval. */
  idleDefault: Idle;
  /**
   * stormFloor: the same kills of the bare node loop's servers, each exit's arrival in that loop
   * (nothing restarts). Storm latencies are from each server's own kill (`own`) and from the storm's
   * first kill (`fromFirst`).
   */
  crash: { isolated: number[]; storm: StormCrashes; stormFloor: StormCrashes };
  /** Latencies of GET /status sent one at a time during proxy-monitor's storms (ms). */
  statusDuringStorms: number[];
  tick?: Tick;
  profile?: { busyMs: number; frames: Frame[] };
  skipped: string[];
}

interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'never');
const mib = (x: number) => `${x.toFixed(1)} MiB`;
const pct = (x: number) => `${x.toFixed(2)} %`;
const ratio = (ours: number, theirs: number) => (theirs > 0 && Number.isFinite(theirs) ? `${(ours / theirs).toFixed(2)} x` : 'n/a');

const loads = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');

export interface StormCrashes {
  own: number[];
  fromFirst: number[];
}

function targets(r: Results): Target[] {
  const [ours] = r.systems;
  const find = (name: string) => r.systems.find((s) => s.name === name && s.storm.rounds > 0);
  const sup = find('supervisord');
  const pm2 = find('pm2');
  const growth = ours.rssAfterLastMiB - ours.rssAfterFirstMiB;
  const isolatedP99 = percentile(r.crash.isolated, 99);
  const stormP99 = percentile(r.crash.storm.own, 99);
  const tickMax = r.tick ? Math.max(...r.tick.durationsMs) : NaN;
  const vs = (who: string, mine: number, theirs: number | undefined, bound: number) =>
    theirs === undefined
      ? { measured: `${who} not measured`, met: undefined }
      : { measured: `${ms(mine)} vs ${ms(theirs)}: ${ratio(mine, theirs)}`, met: mine <= bound * theirs };
  return [
    { target: `daemon RSS <= 64 MiB with ${r.n} proxies, idle`, measured: mib(ours.idle.rssMiB), met: ours.idle.rssMiB <= 64 },
    {
      target: `RSS growth <= 5 MiB over ${r.growthStorms} storms`,
      measured: `${mib(ours.rssAfterFirstMiB)} -> ${mib(ours.rssAfterLastMiB)}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB`,
      met: growth <= 5,
    },
    { target: 'storm, all back <= 0.5 x supervisord (default capture)', ...vs('supervisord', ours.storm.max, sup?.storm.max, 0.5) },
    { target: 'storm, p50 <= 0.4 x supervisord p50', ...vs('supervisord', ours.storm.p50, sup?.storm.p50, 0.4) },
    { target: 'storm, all back <= 1.5 x the bare node spawn loop', ...vs('node loop', ours.storm.max, r.floors.node.max, 1.5) },
    { target: 'storm, all back ahead of PM2', ...vs('pm2', ours.storm.max, pm2?.storm.max, 1) },
    { target: 'storm, p50 ahead of PM2', ...vs('pm2', ours.storm.p50, pm2?.storm.p50, 1) },
    {
      target: 'crash seen by its actor, p99 <= 5 ms (one at a time)',
      measured: `p99 ${ms(isolatedP99)} over ${r.crash.isolated.length} crashes`,
      met: isolatedP99 <= 5,
    },
    {
      target: 'crash seen by its actor, p99 <= 50 ms during a storm',
      measured: `p99 ${ms(stormP99)} over ${r.crash.storm.own.length} crashes, each from its own kill (the bare node loop's floor: p99 ${ms(percentile(r.crash.stormFloor.own, 99))})`,
      met: stormP99 <= 50,
    },
    {
      target: 'GET /status p99 <= 20 ms during a storm',
      measured: `p99 ${ms(percentile(r.statusDuringStorms, 99))} over ${r.statusDuringStorms.length} requests`,
      met: percentile(r.statusDuringStorms, 99) <= 20,
    },
    {
      target: `idle CPU <= 2 % (${r.n} TCP checks every 5 s)`,
      measured: ours.idle.helper
        ? `${pct(ours.idle.cpuPct)} (of which the spawn helper ${pct(ours.idle.helper.cpuPct)})`
        : pct(ours.idle.cpuPct),
      met: ours.idle.cpuPct <= 2,
    },
    {
      target: `one tick of ${r.tick?.proxies ?? 1000} TCP checks <= 1 s, no failed check`,
      measured: r.tick ? `max ${ms(tickMax)} over ${r.tick.durationsMs.length} rounds, ${r.tick.crashes} crashes` : 'not measured',
      met: r.tick ? tickMax <= 1000 && r.tick.crashes === 0 : undefined,
    },
  ];
}

function stormRows(r: Results): string[][] {
  const rows: string[][] = [];
  const withRange = (x: number, range: [number, number]) =>
    Number.isNaN(range[0]) ? ms(x) : `${ms(x)} (${Math.round(range[0])}-${Number.isFinite(range[1]) ? Math.round(range[1]) : 'never'})`;
  const fig = (label: string, pick: (s: StormSummary) => number, span: (s: StormSummary) => [number, number]) => {
    const ours = r.systems[0].storm;
    const row = [label, withRange(pick(ours), span(ours))];
    for (const other of r.systems.slice(1)) row.push(withRange(pick(other.storm), span(other.storm)), ratio(pick(ours), pick(other.storm)));
    row.push(withRange(pick(r.floors.bash), span(r.floors.bash)), withRange(pick(r.floors.node), span(r.floors.node)));
    rows.push(row);
  };
  fig(
    'p50',
    (s) => s.p50,
    (s) => s.range.p50,
  );
  fig(
    'p99',
    (s) => s.p99,
    () => [NaN, NaN],
  );
  fig(
    'all back (max)',
    (s) => s.max,
    (s) => s.range.max,
  );
  return rows;
}

function resourceRows(r: Results): string[][] {
  const rows: string[][] = [];
  const fig = (label: string, pick: (s: SystemResult) => number, unit: (x: number) => string) => {
    const ours = pick(r.systems[0]);
    const row = [label, unit(ours)];
    for (const other of r.systems.slice(1)) row.push(unit(pick(other)), ratio(ours, pick(other)));
    rows.push(row);
  };
  fig('idle CPU (with its helper processes)', (s) => s.idle.cpuPct, pct);
  fig('daemon RSS, idle', (s) => s.idle.rssMiB, mib);
  const helper = r.systems[0].idle.helper;
  if (helper)
    rows.push([
      'its spawn helper: CPU (in the above), RSS',
      `${pct(helper.cpuPct)}, ${mib(helper.rssMiB)}`,
      ...r.systems.slice(1).flatMap(() => ['-', '-']),
    ]);
  fig('RSS after its first storm', (s) => s.rssAfterFirstMiB, mib);
  fig('RSS after its last storm', (s) => s.rssAfterLastMiB, mib);
  return rows;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join(
    '\n',
  );
}

function theirHeaders(r: Results): string[] {
  return r.systems.slice(1).flatMap((s) => [s.name, 'ours/theirs']);
}

const spreadOf = (samples: number[]) =>
  `p50 ${ms(percentile(samples, 50))}, p99 ${ms(percentile(samples, 99))}, max ${ms(Math.max(...samples))}`;

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${r.date} (the run took ${Math.round(r.durationS)} s). See bench/README.md for what each scenario does.`,
    '',
    '## Machine and versions',
    '',
    `- ${m.model}, ${m.cores} cores, ${m.memGiB} GiB; ${m.os}, kernel ${m.kernel}; Node ${r.node}`,
    `- load average (1/5/15 min) at the start ${loads(r.load.before)}, at the end ${loads(r.load.after)}: other work shared the machine, so absolute times are inflated; the ratios come from interleaved rounds`,
    `- servers: ${r.n} x ${r.server.name} (${r.server.version}) per supervisor`,
    ...r.systems.map((s) => `- ${s.name}: ${s.version}`),
    ...r.skipped.map((s) => `- not measured: ${s}`),
    '',
    `## Restart storm (${r.rounds} rounds: median over rounds, range in brackets)`,
    '',
    `All ${r.n} servers SIGKILLed at once; per server, the time until its port accepts TCP again. Each`,
    'supervisor is started afresh for its round and is alone on the machine while it is stormed.',
    'The bare loops start the same servers with no supervisor (time from their first spawn).',
    '',
    table(['', 'proxy-monitor', ...theirHeaders(r), 'bare bash loop', 'bare node spawn loop'], stormRows(r)),
    '',
    `## Resources (idle window ${Math.round(r.systems[0].idle.windowS)} s, each daemon alone; proxy-monitor checks every proxy every 5 s)`,
    '',
    `proxy-monitor's RSS after its first and last storms are of one daemon over ${r.growthStorms} storms in a row; the others' are from their first and last rounds. Every RSS figure is the median of readings every 250 ms, over the idle window or over 3 s after the storm (a Node daemon's RSS rises and falls with its garbage: bench/README.md).`,
    '',
    table(['', 'proxy-monitor', ...theirHeaders(r)], resourceRows(r)),
    '',
    `proxy-monitor with the default 30 s check interval: CPU ${pct(r.idleDefault.cpuPct)} (with its spawn helper), RSS ${mib(r.idleDefault.rssMiB)} (window ${Math.round(r.idleDefault.windowS)} s).`,
    '',
    '## Crash detection (proxy-monitor)',
    '',
    `- one crash at a time: p50 ${ms(percentile(r.crash.isolated, 50))}, p99 ${ms(percentile(r.crash.isolated, 99))}, max ${ms(Math.max(...r.crash.isolated))} (${r.crash.isolated.length} crashes)`,
    `- during the storms (${r.n} servers SIGKILLed one after another as fast as the bench can, which takes it 150-200 ms here: bench/README.md), from each server's own kill: ${spreadOf(r.crash.storm.own)} (${r.crash.storm.own.length} crashes); from the storm's first kill: ${spreadOf(r.crash.storm.fromFirst)}`,
    `- the floor: the bare node spawn loop's ${r.n} servers killed the same way, each exit's arrival in that event loop (nothing restarts them), from each server's own kill: ${spreadOf(r.crash.stormFloor.own)} (${r.crash.stormFloor.own.length} exits); from the first kill: ${spreadOf(r.crash.stormFloor.fromFirst)}`,
    `- GET /status during the same storms, one request at a time from a process of its own: p50 ${ms(percentile(r.statusDuringStorms, 50))}, p99 ${ms(percentile(r.statusDuringStorms, 99))}, max ${ms(Math.max(...r.statusDuringStorms))} (${r.statusDuringStorms.length} requests)`,
    '',
  ];
  if (r.tick) {
    lines.push(
      `## Check tick (proxy-monitor, ${r.tick.proxies} proxies with TCP checks)`,
      '',
      `- round durations: ${r.tick.durationsMs.map(ms).join(', ')}; crashes meanwhile: ${r.tick.crashes}; daemon RSS ${mib(r.tick.rssMiB)}`,
      '',
    );
  }
  const verdict = (t: Target) => (t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**');
  lines.push(
    '## Targets',
    '',
    table(
      ['target', 'measured', 'met'],
      targets(r).map((t) => [t.target, t.measured, verdict(t)]),
    ),
    '',
  );
  if (r.profile) {
    lines.push(
      '## Where the daemon spends its CPU during storms',
      '',
      `\`node --cpu-prof\` of a separate proxy-monitor run (start-up, storms, shutdown): main thread busy ${ms(r.profile.busyMs)}; top frames by self time:`,
      '',
      table(
        ['self', 'share', 'frame'],
        r.profile.frames.map((f) => [ms(f.selfMs), `${f.percent.toFixed(1)} %`, `\`${f.frame}\``]),
      ),
      '',
    );
  }
  return lines.join('\n');
}

export function renderConsole(r: Results): string {
  const plain = (header: string[], rows: string[][]) => {
    const all = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
    return all.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
  };
  return [
    `restart storm, ${r.n} servers, ${r.rounds} rounds (medians):`,
    plain(['', 'proxy-monitor', ...theirHeaders(r), 'bash loop', 'node loop'], stormRows(r)),
    '',
    'resources:',
    plain(['', 'proxy-monitor', ...theirHeaders(r)], resourceRows(r)),
    `proxy-monitor idle CPU at the default 30 s interval: ${pct(r.idleDefault.cpuPct)}`,
    '',
    'targets:',
    plain(
      ['target', 'measured', 'met'],
      targets(r).map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO']),
    ),
  ].join('\n');
}
