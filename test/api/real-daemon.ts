// A real daemon (test/support/daemon.ts) supervising copies of the demo echo server, and the base
// URL of its API as it logged it.
import { pidsMatching, type TestDaemon } from '../support/daemon.ts';

export { API_BASE as API } from '../../src/api/base.ts';

/** A proxy entry running demo/echo-server.ts on `port`, checked with PING/PONG. */
export function echoProxy(id: string, port: number) {
  return {
    id,
    type: 'exec',
    command: process.execPath,
    args: ['--import', 'tsx', 'demo/echo-server.ts', '--host', '127.0.0.1', '--port', String(port)],
    health: { tcp: `127.0.0.1:${port}`, send: 'PING\n', expect: 'PONG' },
  };
}

export async function apiUrl(daemon: TestDaemon): Promise<string> {
  const line = await daemon.waitFor((l) => l.message === 'api listening' || l.message === 'api cannot listen');
  if (typeof line.url !== 'string') throw new Error(`the daemon's API did not start: ${JSON.stringify(line)}`);
  return line.url;
}

/** Echo servers left behind by a failed test: killed so the next run finds its ports free. */
export function killEchoServers(ports: number[]): void {
  for (const port of ports) for (const pid of pidsMatching(`--port ${port}`)) process.kill(pid, 'SIGKILL');
}

export async function getJson(url: string) {
  const response = await fetch(url);
  return { status: response.status, json: await response.json() };
}
