// `npm run test:soak -- --minutes N [--seed S] [--path P]`: the daemon model for N minutes (default
// 10), or the replay of one failure (its seed and path, as a failing run prints them).
import { parseArgs } from 'node:util';
import { runDaemonModel } from './run.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' } } });
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
try {
  const replay = values.path !== undefined;
  await runDaemonModel({
    minutes: replay ? undefined : (number(values.minutes) ?? 10),
    seed: number(values.seed),
    path: values.path,
    runs: replay ? 1 : undefined,
  });
  process.exit(0);
} catch {
  process.exit(1);
}
