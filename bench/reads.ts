// `node --import tsx bench/reads.ts [--n 200] [--requests 1000] [--concurrency 20] [--runs 1]`:
// the reads-under-load scenario alone (scenarios/reads.ts), printed as a table per run.
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/support/daemon.ts';
import { topFrames } from './lib/profile.ts';
import { parseArgs } from 'node:util';
import { installCleanup, MARKER } from './lib/cleanup.ts';
import { serverPorts } from './lib/ports.ts';
import { chooseServer } from './lib/servers.ts';
import { readsUnderLoad } from './scenarios/reads.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    requests: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '20' },
    runs: { type: 'string', default: '1' },
    /** Comma-separated routes (default: /status, /proxies, /metrics). */
    routes: { type: 'string' },
    /** A folder for the daemon's V8 CPU profile; its top frames are printed. */
    profile: { type: 'string' },
  },
});
installCleanup();
const server = chooseServer(MARKER);
const ports = await serverPorts(Number(values.n));
const ms = (x: number) => x.toFixed(1);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
for (let i = 0; i < Number(values.runs); i++) {
  const before = load();
  const reads = await readsUnderLoad(server, ports, {
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    routes: values.routes?.split(','),
    profileDir: values.profile,
  });
  console.log(`run ${i + 1}: ${reads.proxies} x ${server.name}, load average ${before} -> ${load()}`);
  console.log('| route | p50 ms | p99 ms | max ms | reply bytes | failures | crash seen ms |');
  for (const r of reads.routes) {
    console.log(`| ${r.route} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.bytes} | ${r.failures} | ${r.crashSeenMs} |`);
  }
  for (const r of reads.floors)
    console.log(
      `| floor: bare node:http, ${r.bytes} bytes | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.bytes} | ${r.failures} | - |`,
    );
  console.log(`crash seen with no reads going on: ${reads.idleCrashSeenMs} ms`);
  console.log(`RSS ${reads.rssBeforeMiB.toFixed(1)} -> ${reads.rssAfterMiB.toFixed(1)} MiB`);
  if (values.profile) {
    const file = readdirSync(values.profile).find((name) => name.endsWith('.cpuprofile'));
    if (file)
      for (const f of topFrames(join(values.profile, file), ROOT, 25).frames)
        console.log(`${f.selfMs.toFixed(0)} ms ${f.percent.toFixed(1)} % ${f.frame}`);
  }
}
process.exit(0);
