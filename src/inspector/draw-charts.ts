// Lays out the machines' charts when dist/ is built (scripts/build.mjs runs this, bundled, once):
// ELK takes the event loop 1-2.5 s per chart under the daemon's flags, time a daemon must not
// spend while it supervises (an exit would wait behind it). The machines do not change after the
// build, so neither do their charts. `node draw-charts.mjs DIR` writes DIR/<machine>.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartOf, type MachineName, MACHINES } from './graph.ts';
import { chartSvg } from './layout.ts';

export const drawChart = (name: MachineName) => chartSvg(chartOf(MACHINES[name]));

const [dir] = process.argv.slice(2);
if (dir !== undefined && process.argv[1]?.endsWith('draw-charts.mjs')) {
  mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(MACHINES) as MachineName[]) writeFileSync(join(dir, `${name}.svg`), await drawChart(name));
}
