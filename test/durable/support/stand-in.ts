// Runs support/spawner.ts, a stand-in for the daemon that starts one proxy, and reads the proxy's pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, waitUntil } from '../../support/daemon.ts';

export async function standIn(argv: string[], spawner: 'helper' | 'child_process'): Promise<{ daemon: ChildProcess; pid: number }> {
  const daemon = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'spawner.ts'), ...argv], {
    cwd: ROOT,
    env: { ...process.env, SPAWNER: spawner },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  daemon.stdout!.on('data', (chunk) => (out += chunk));
  await waitUntil(() => out.includes('\n'), 10_000);
  return { daemon, pid: Number(out.trim()) };
}
