// The floor: the same servers started by a bare loop, no supervisor. `bash` forks them in a shell
// loop; `node` calls child_process.spawn in a loop with the options proxy-monitor uses (own process
// group, stdout/stderr piped), which is the least any Node supervisor can spend on its spawn path.
// The node loop also hears its servers die: when the bench kills them all at once, as it storms a
// supervisor, the time each 'exit' event reaches that bare event loop is the floor of "crash seen
// during a storm" (nothing restarts them).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isAliveNotZombie, killAll } from '../lib/proc.ts';
import { epochNow, type Poller } from '../lib/poller.ts';
import type { ServerKind, ServerTable } from '../lib/servers.ts';
import { spread } from './storm.ts';

export type LoopKind = 'bash' | 'node';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

// Each launcher prints its clock (epoch ms) right before its first spawn, so its own start-up
// (bash or node booting) is not counted.
const NODE_LOOP = `
const { spawn } = require('node:child_process');
const servers = JSON.parse(process.argv[1]);
console.log(performance.timeOrigin + performance.now());
for (const [command, args] of servers) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.on('exit', () => console.log('exit', child.pid, performance.timeOrigin + performance.now()));
}
`;

function launch(kind: LoopKind, server: ServerKind, ports: number[]) {
  if (kind === 'node') {
    const servers = ports.map((port) => [server.command, server.args(port)]);
    return spawn(process.execPath, ['-e', NODE_LOOP, JSON.stringify(servers)], { stdio: ['ignore', 'pipe', 'ignore'] });
  }
  const loop = ports.map((port) => `${[server.command, ...server.args(port)].map(quote).join(' ')} >/dev/null 2>&1 &`).join('\n');
  const script = `echo "\${EPOCHREALTIME/./}"\n${loop}\nwait`;
  return spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One round: ms from the loop's first spawn until each port accepts; for the node loop, also ms from
 * the kill of all its servers at once (as `storm` kills) until each exit reached its event loop,
 * from each server's own kill and from the first.
 */
export async function bareLoop(kind: LoopKind, server: ServerKind, table: ServerTable, ports: number[], poller: Poller) {
  const spawnedAt = epochNow();
  const launcher = launch(kind, server, ports);
  const lines: string[] = [];
  createInterface({ input: launcher.stdout }).on('line', (line) => lines.push(line));
  const live = () => table.children(launcher.pid!);
  const times = await poller.recoveryTimes(server, { parent: launcher.pid!, ports, retired: [], since: spawnedAt, timeoutMs: 30_000 });
  // The launcher's clock, epoch ms, against ours: what its own start-up took.
  const offset = Number(lines[0]) / (kind === 'bash' ? 1000 : 1) - spawnedAt;
  const pids = [...live().values()];
  const killedAt = Date.now();
  const killedAtByPid = killAll(pids);
  table.retire(pids);
  const exits = () => lines.filter((line) => line.startsWith('exit '));
  const deadline = Date.now() + 10_000;
  while (kind === 'node' && exits().length < pids.length && Date.now() < deadline) await sleep(5);
  process.kill(launcher.pid!, 'SIGKILL');
  while ([...pids, launcher.pid!].some(isAliveNotZombie)) await sleep(5);
  if (times.includes(null)) throw new Error(`${kind} loop: ${times.filter((t) => t === null).length} servers never accepted`);
  const seen = exits().map((line) => line.split(' ').map(Number) as [number, number, number]);
  const crashSeen = {
    own: seen.map(([, pid, at]) => at - killedAtByPid.get(pid)!),
    fromFirst: seen.map(([, , at]) => at - killedAt),
  };
  return { ...spread((times as number[]).map((t) => t - offset)), crashSeen };
}
