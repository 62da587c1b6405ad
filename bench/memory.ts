// `node --import tsx bench/memory.ts [--n 2,200] [--runs 3] [--settle 15] [--window 20] [--storms 0] [--variant NAME=FLAGS]...`
// The daemon's footprint as shipped and with other Node flags: for each variant and fleet size, a
// fresh daemon supervising N servers with TCP checks every 5 s; once every server accepts and
// start-up has settled, its RSS, then its CPU share over a window (idle cost at N checks / 5 s),
// then (--storms K) K restart storms (scenarios/storm.ts): all back (max) and the CPU they took.
// The CPU figures are the daemon's and its spawn helper's; the RSS figures the daemon's.
// A variant is NAME=FLAGS (space-separated node flags; ENV=VALUE words go to the environment).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { installCleanup, MARKER } from './lib/cleanup.ts';
import { startPoller } from './lib/poller.ts';
import { serverPorts, waitAllAccept } from './lib/ports.ts';
import { cpuSeconds, rssBytes, rssSamples, spawnHelperOf } from './lib/proc.ts';
import { chooseServer, serverTable } from './lib/servers.ts';
import { MiB } from './lib/stats.ts';
import { storm } from './scenarios/storm.ts';
import { SHIPPED_NODE_FLAGS, startOurs } from './systems/ours.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2,200' },
    runs: { type: 'string', default: '3' },
    settle: { type: 'string', default: '15' },
    window: { type: 'string', default: '20' },
    storms: { type: 'string', default: '0' },
    variant: { type: 'string', multiple: true },
  },
});
installCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const variants = (values.variant ?? [`shipped=${SHIPPED_NODE_FLAGS.join(' ')}`]).map((text) => {
  const [name, words = ''] = text.split(/=(.*)/s);
  const all = words.split(' ').filter(Boolean);
  const env = Object.fromEntries(all.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => w.split(/=(.*)/s).slice(0, 2)));
  return { name, flags: all.filter((w) => !/^[A-Z_]+=/.test(w)), env };
});
const server = chooseServer(MARKER);
const poller = startPoller();
const sizes = values.n.split(',').map(Number);
const ports = await serverPorts(Math.max(...sizes));
const results = new Map<
  string,
  { rss: number[]; median: number[]; highest: number[]; cpu: number[]; allBack: number[]; stormCpu: number[] }
>();
for (let run = 0; run < Number(values.runs); run++) {
  // Interleaved: every variant once per run, so that drift on a shared machine hits all alike.
  for (const n of sizes) {
    for (const variant of variants) {
      const mine = ports.slice(0, n);
      const table = serverTable(server, mine);
      const ours = startOurs({
        label: `mem-${variant.name}-${n}-${run}`,
        server,
        ports: mine,
        checkInterval: 5,
        logLevel: 'warn',
        nodeFlags: variant.flags,
        env: variant.env,
      });
      try {
        await waitAllAccept(mine, () => table.children(ours.pid), 120_000);
        await sleep(Number(values.settle) * 1000);
        // RSS rises and falls with the garbage between full collections (lib/proc.ts): sampled over
        // the window, its median and highest are reported beside the first reading.
        const rss = rssBytes(ours.pid) / MiB;
        // The spawn helper does part of the daemon's work (the checks' connects, the spawns): counted with it.
        const helper = spawnHelperOf(ours.pid);
        const used = () => cpuSeconds(ours.pid) + (helper === undefined ? 0 : cpuSeconds(helper));
        const cpuBefore = used();
        const began = performance.now();
        const samples = (await rssSamples(ours.pid, Number(values.window) * 1000)).map((b) => b / MiB);
        const cpu = (100 * (used() - cpuBefore)) / ((performance.now() - began) / 1000);
        const median = samples[samples.length >> 1];
        const highest = samples[samples.length - 1];
        const key = `${variant.name} | ${n}`;
        const entry =
          results.get(key) ?? results.set(key, { rss: [], median: [], highest: [], cpu: [], allBack: [], stormCpu: [] }).get(key)!;
        entry.rss.push(rss);
        entry.median.push(median);
        entry.highest.push(highest);
        entry.cpu.push(cpu);
        console.log(
          `run ${run + 1} ${key}: RSS ${rss.toFixed(1)} MiB (window: median ${median.toFixed(1)}, highest ${highest.toFixed(1)}), CPU ${cpu.toFixed(2)} % (load ${loadavg()[0].toFixed(1)})`,
        );
        for (let k = 0; k < Number(values.storms); k++) {
          const before = used();
          const s = await storm(ours, table, mine, poller, server);
          await waitAllAccept(mine, () => table.children(ours.pid), 60_000);
          entry.allBack.push(s.max);
          entry.stormCpu.push(used() - before);
          console.log(
            `  storm: p50 ${s.p50.toFixed(0)} ms, all back ${s.max.toFixed(0)} ms, daemon CPU ${entry.stormCpu.at(-1)!.toFixed(2)} s`,
          );
        }
      } finally {
        await ours.stop();
      }
    }
  }
}
const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
console.log(
  '| variant | proxies | RSS MiB | RSS over the window: median, highest | idle CPU % | storm: all back ms | storm: daemon CPU s |',
);
for (const [key, { rss, median, highest, cpu, allBack, stormCpu }] of results) {
  const storms = allBack.length ? `${range(allBack, 0)} | ${range(stormCpu, 2)}` : '- | -';
  console.log(`| ${key} | ${range(rss, 1)} | ${range(median, 1)}, ${range(highest, 1)} | ${range(cpu, 2)} | ${storms} |`);
}
poller.close();
process.exit(0);
