// The port poller in a light process of its own: the bench's event loop (which also reads the
// daemon's log and kills servers) and the supervisors' loops never delay the measurement, and the
// poller's own work is not charged to any of them. One poller serves the whole run; each request
// names the supervisor (or loop) whose children to watch. Times cross the process boundary as epoch
// ms with sub-ms precision (performance.timeOrigin + performance.now()), one clock in both processes.
import { fork } from 'node:child_process';
import { recoveryTimes } from './ports.ts';
import { serverTable, type ServerKind, type ServerTable } from './servers.ts';

export const epochNow = () => performance.timeOrigin + performance.now();

interface Request {
  id: number;
  /** The process whose children serve the ports. */
  parent: number;
  ports: number[];
  /** Each port's server command line, in the order of `ports`. */
  commands: string[][];
  /** Killed servers, never to be counted again even as unreaped zombies. */
  retired: number[];
  /** Epoch ms the times count from. */
  since: number;
  timeoutMs: number;
}

export interface Poller {
  /**
   * Per port, ms from `since` (epoch ms) until it accepted a TCP connection once its new server
   * process exists among `parent`'s children; null: not within timeoutMs.
   */
  recoveryTimes(
    kind: ServerKind,
    request: Pick<Request, 'parent' | 'ports' | 'retired' | 'since' | 'timeoutMs'>,
  ): Promise<(number | null)[]>;
  close(): void;
}

export function startPoller(): Poller {
  const child = fork(import.meta.filename, ['--poller'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (times: (number | null)[]) => void>();
  child.on('message', (reply: { id: number; times: (number | null)[] }) => {
    waiting.get(reply.id)?.(reply.times);
    waiting.delete(reply.id);
  });
  let next = 0;
  return {
    recoveryTimes(kind, request) {
      const id = next++;
      const commands = request.ports.map((port) => [kind.command, ...kind.args(port)]);
      return new Promise((resolve, reject) => {
        waiting.set(id, resolve);
        child.send({ id, commands, ...request } satisfies Request, (error) => error && reject(error));
      });
    },
    close: () => child.kill('SIGKILL'),
  };
}

function serve(): void {
  const tables = new Map<string, ServerTable>();
  process.on('message', async (request: Request) => {
    const key = request.ports.join(',');
    let table = tables.get(key);
    if (!table) {
      const lineOf = new Map(request.ports.map((port, i) => [port, request.commands[i]]));
      const kind = { name: '', version: '', command: request.commands[0][0], args: (port: number) => lineOf.get(port)!.slice(1) };
      table = serverTable(kind, request.ports);
      tables.set(key, table);
    }
    table.retire(request.retired);
    const since = performance.now() - (epochNow() - request.since);
    const times = await recoveryTimes(request.ports, () => table.children(request.parent), since, request.timeoutMs);
    process.send!({ id: request.id, times });
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === '--poller') serve();
