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
  node: string;
  server: { name: string; version: string };
  n: number;
  rounds: number;
  floors: { bash: StormSummary; node: StormSummary };
  /** proxy-monitor first. */
  systems: SystemResult[];
  /** proxy-monitor with the default 30 s check interval. */
  idleDefault: Idle;
  crash: { isolated: number[]; storm: number[] };
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

function targets(r: Results): Target[] {
  const [ours] = r.systems;
  const sup = r.systems.find((s) => s.name === 'supervisord');
  const growth = ours.rssAfterLastMiB - ours.rssAfterFirstMiB;
  const isolatedP99 = percentile(r.crash.isolated, 99);
  const tickMax = r.tick ? Math.max(...r.tick.durationsMs) : NaN;
  const vsSup = (mine: number, theirs: number | undefined, bound: number) =>
    theirs === undefined ? { measured: 'supervisord not measured', met: undefined } : { measured: `${ms(mine)} vs ${ms(theirs)}: ${ratio(mine, theirs)}`, met: mine <= bound * theirs };
  return [
    { target: 'storm, all back <= 0.5 x supervisord', ...vsSup(ours.storm.max, sup?.storm.max, 0.5) },
    { target: 'storm, p50 <= 0.35 x supervisord p50', ...vsSup(ours.storm.p50, sup?.storm.p50, 0.35) },
    {
      target: 'storm, all back <= 2 x bare bash loop',
      measured: `${ms(ours.storm.max)} vs ${ms(r.floors.bash.max)}: ${ratio(ours.storm.max, r.floors.bash.max)}`,
      met: ours.storm.max <= 2 * r.floors.bash.max,
    },
    { target: `daemon RSS <= 80 MiB with ${r.n} proxies`, measured: mib(ours.idle.rssMiB), met: ours.idle.rssMiB <= 80 },
    {
      target: `RSS growth <= 5 MiB over ${r.rounds} storms`,
      measured: `${mib(ours.rssAfterFirstMiB)} -> ${mib(ours.rssAfterLastMiB)}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB`,
      met: growth <= 5,
    },
    { target: `idle CPU <= 2 % (${r.n} TCP checks every 5 s)`, measured: pct(ours.idle.cpuPct), met: ours.idle.cpuPct <= 2 },
    { target: 'idle CPU <= 0.5 % (default 30 s interval)', measured: pct(r.idleDefault.cpuPct), met: r.idleDefault.cpuPct <= 0.5 },
    {
      target: `one tick of ${r.tick?.proxies ?? 1000} TCP checks <= 1 s, no failed check`,
      measured: r.tick ? `max ${ms(tickMax)} over ${r.tick.durationsMs.length} rounds, ${r.tick.crashes} crashes` : 'not measured',
      met: r.tick ? tickMax <= 1000 && r.tick.crashes === 0 : undefined,
    },
    {
      target: 'crash seen by its actor <= 10 ms after the kill (p99, one at a time)',
      measured: `p99 ${ms(isolatedP99)} over ${r.crash.isolated.length} crashes`,
      met: isolatedP99 <= 10,
    },
  ];
}

function stormRows(r: Results): string[][] {
  const rows: string[][] = [];
  const fig = (label: string, pick: (s: StormSummary) => number) => {
    const ours = pick(r.systems[0].storm);
    const row = [label, ms(ours)];
    for (const other of r.systems.slice(1)) row.push(ms(pick(other.storm)), ratio(ours, pick(other.storm)));
    row.push(ms(pick(r.floors.bash)), ms(pick(r.floors.node)));
    rows.push(row);
  };
  fig('p50', (s) => s.p50);
  fig('p99', (s) => s.p99);
  fig('all back (max)', (s) => s.max);
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
  fig('idle CPU', (s) => s.idle.cpuPct, pct);
  fig('daemon RSS, idle', (s) => s.idle.rssMiB, mib);
  fig(`RSS after storm 1`, (s) => s.rssAfterFirstMiB, mib);
  fig(`RSS after storm ${r.rounds}`, (s) => s.rssAfterLastMiB, mib);
  return rows;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function theirHeaders(r: Results): string[] {
  return r.systems.slice(1).flatMap((s) => [s.name, 'ours/theirs']);
}

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const stormDetectP99 = percentile(r.crash.storm, 99);
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${r.date} (the run took ${Math.round(r.durationS)} s). See bench/README.md for what each scenario does.`,
    '',
    '## Machine and versions',
    '',
    `- ${m.model}, ${m.cores} cores, ${m.memGiB} GiB; ${m.os}, kernel ${m.kernel}; Node ${r.node}`,
    `- servers: ${r.n} x ${r.server.name} (${r.server.version}) per supervisor`,
    ...r.systems.map((s) => `- ${s.name}: ${s.version}`),
    ...r.skipped.map((s) => `- not measured: ${s}`),
    '',
    `## Restart storm (${r.rounds} rounds, medians over rounds)`,
    '',
    `All ${r.n} servers SIGKILLed at once; per server, the time until its port accepts TCP again.`,
    'The bare loops start the same servers with no supervisor (time from their first spawn).',
    '',
    table(['', 'proxy-monitor', ...theirHeaders(r), 'bare bash loop', 'bare node spawn loop'], stormRows(r)),
    '',
    `## Resources (idle window ${Math.round(r.systems[0].idle.windowS)} s, all daemons at once; proxy-monitor checks every proxy every 5 s)`,
    '',
    table(['', 'proxy-monitor', ...theirHeaders(r)], resourceRows(r)),
    '',
    `proxy-monitor with the default 30 s check interval: CPU ${pct(r.idleDefault.cpuPct)}, RSS ${mib(r.idleDefault.rssMiB)} (window ${Math.round(r.idleDefault.windowS)} s).`,
    '',
    '## Crash detection (proxy-monitor)',
    '',
    `- one crash at a time: p50 ${ms(percentile(r.crash.isolated, 50))}, p99 ${ms(percentile(r.crash.isolated, 99))}, max ${ms(Math.max(...r.crash.isolated))} (${r.crash.isolated.length} crashes)`,
    `- during the storms (${r.n} exits at once, queued behind each other's restarts): p50 ${ms(percentile(r.crash.storm, 50))}, p99 ${ms(stormDetectP99)} (${r.crash.storm.length} crashes)`,
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
  lines.push('## Targets', '', table(['target', 'measured', 'met'], targets(r).map((t) => [t.target, t.measured, verdict(t)])), '');
  if (r.profile) {
    lines.push(
      '## Where the daemon spends its CPU during storms',
      '',
      `\`node --cpu-prof\` of a separate proxy-monitor run (start-up, storms, shutdown): main thread busy ${ms(r.profile.busyMs)}; top frames by self time:`,
      '',
      table(['self', 'share', 'frame'], r.profile.frames.map((f) => [ms(f.selfMs), `${f.percent.toFixed(1)} %`, `\`${f.frame}\``])),
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
    plain(['target', 'measured', 'met'], targets(r).map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO'])),
  ].join('\n');
}
