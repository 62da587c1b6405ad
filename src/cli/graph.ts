// `proxy-monitor graph`: a statechart drawn from the real machine definition.
import { parseArgs } from 'node:util';
import { chartOf, FORMATS, MACHINES, type ChartFormat, type MachineName } from '../inspector/graph.ts';

export function graph(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { machine: { type: 'string', default: 'proxy' }, format: { type: 'string', default: 'mermaid' } },
  });
  if (!Object.hasOwn(MACHINES, values.machine)) return refuse('--machine', values.machine, Object.keys(MACHINES));
  if (!Object.hasOwn(FORMATS, values.format)) return refuse('--format', values.format, Object.keys(FORMATS));
  process.stdout.write(FORMATS[values.format as ChartFormat](chartOf(MACHINES[values.machine as MachineName])));
  return 0;
}

function refuse(option: string, given: string, expected: string[]): number {
  process.stderr.write(`proxy-monitor: ${option}: expected one of ${expected.join(', ')}, got ${JSON.stringify(given)}\n`);
  return 2;
}
