// The spawn path alone: N starts of /bin/true through child_process and through the spawn helper,
// from a process holding 0 to 400 MiB of extra heap. Prints, per way and heap: wall ms from the
// first request until every exit was reported, and how long the spawn calls held the event loop.
// Run: node --import tsx bench/spawn-cost.ts [N] [rounds]
import { startSpawnHelper } from '../src/process/helper.ts';
import { childProcessSpawner, type Spawner } from '../src/process/spawner.ts';

const N = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 3);
const helper = await startSpawnHelper(() => {});
// The helper never keeps a process alive by itself (helper.ts): this does, while the bench runs.
const keepAlive = setInterval(() => {}, 1000);
const ways: Record<string, Spawner> = { child_process: childProcessSpawner, 'spawn helper': helper };
const ballast: unknown[] = [];

function burst(spawner: Spawner): Promise<{ ms: number; blockedMs: number }> {
  const start = performance.now();
  let blockedMs = 0;
  let exited = 0;
  return new Promise((resolve) => {
    const done = () => {
      if (++exited === N) resolve({ ms: performance.now() - start, blockedMs });
    };
    for (let i = 0; i < N; i++) {
      spawner.spawn(
        { command: '/bin/true', args: [], cwd: undefined, env: process.env },
        { spawned: () => {}, failed: done, output: () => {}, outputDropped: () => {}, outputEnd: () => {}, exited: done },
      );
    }
    blockedMs = performance.now() - start;
  });
}

const rss = () => Math.round(process.memoryUsage().rss / 1048576);
for (const extraMiB of [0, 100, 400]) {
  while (process.memoryUsage().rss / 1048576 < 50 + extraMiB) ballast.push(Array.from({ length: 1 << 16 }, (_, i) => ({ i })));
  for (const [name, spawner] of Object.entries(ways)) {
    const results = [];
    for (let round = 0; round < ROUNDS; round++) results.push(await burst(spawner));
    const ms = results.map((r) => Math.round(r.ms)).sort((a, b) => a - b);
    const block = results.map((r) => Math.round(r.blockedMs)).sort((a, b) => a - b);
    console.log(
      `rss ${rss()} MiB  ${name.padEnd(13)} ${N} spawns: ${ms.join('/')} ms (rounds, sorted); event loop blocked in the spawn calls ${block.join('/')} ms`,
    );
  }
}
helper.close();
clearInterval(keepAlive);
