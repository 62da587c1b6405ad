// Operator commands: one proxy (enable|disable|restart|stop|start ID) and the whole monitor
// (monitor stop|start).
import type { ProxyReply, StatusReply } from '../../api/schemas.ts';
import { json, proxyPath, UsageError, type ClientCommand } from './command.ts';

const EFFECT: Record<string, (proxy: ProxyReply) => string> = {
  enable: () => 'monitoring enabled',
  // Disabling leaves the process as it is: running, it runs on; down, it stays down.
  disable: (proxy) =>
    proxy.state === 'running'
      ? 'monitoring disabled (it keeps running, unchecked and never restarted)'
      : 'monitoring disabled (it is not restarted until enabled)',
  restart: () => 'restart requested',
  // The stop may still be under way (TERM, stop_timeout, KILL; a restart being verified first).
  stop: (proxy) => (proxy.sub_state === 'stopped.down' ? 'stopped' : 'stop requested') + ' (it stays down until started)',
  start: () => 'start requested',
};

export const proxyCommands: Record<string, ClientCommand> = Object.fromEntries(
  Object.entries(EFFECT).map(([verb, effect]) => [
    verb,
    {
      usage: `${verb} ID [--json]`,
      args: { min: 1, max: 1 },
      async run({ client, args: [id], json: asJson, out }) {
        const reply = await client.post<{ action: string; proxy: ProxyReply }>(`${proxyPath(id)}/${verb}`);
        out(asJson ? json(reply) : `${id}: ${effect(reply.proxy)}; now ${reply.proxy.sub_state}\n`);
      },
    } satisfies ClientCommand,
  ]),
);

export const monitor: ClientCommand = {
  usage: 'monitor stop|start [--json]',
  args: { min: 1, max: 1 },
  async run({ client, args: [verb], json: asJson, out }) {
    if (verb !== 'stop' && verb !== 'start') throw new UsageError(`monitor takes stop or start, got "${verb}"`);
    const reply = await client.post<{ action: string; status: StatusReply }>(`/${verb}`);
    if (asJson) return out(json(reply));
    out(
      reply.status.running
        ? 'monitor watching: checks and automatic restarts on\n'
        : 'monitor paused: no checks, no automatic restarts (proxies keep running)\n',
    );
  },
};
