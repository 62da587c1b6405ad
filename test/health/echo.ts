// Starts the demo echo server on a free loopback port and waits for its start line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface EchoServer {
  port: number;
  child: ChildProcess;
  /** SIGTERM, then wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startEchoServer(port = 0): Promise<EchoServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/echo-server.ts', '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const match = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
  if (!match) throw new Error(`unexpected start line: ${line}`);
  return {
    port: Number(match[1]),
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
