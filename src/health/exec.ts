// Runs an operator's check command; exit 0 is healthy. The command leads its own process group,
// which is killed once the command exits, so a helper it left behind cannot hold stderr open and
// keep the probe waiting past its timeout. One that left the group (setsid, a daemonizing tool)
// carries the check's token in its environment: it is found by that token once the command exits
// and killed, whether or not it kept stderr open (one started in the background with its output
// redirected would otherwise be left running, one per check round), and the check ends all the
// same. execa is loaded by the first such check: ~5 MiB of RSS (bench/README.md, "Memory") that a
// daemon with no exec check does not pay.
import { randomUUID } from 'node:crypto';
import { escapedSoon, killWithGroup, SPAWN_TOKEN_ENV } from '../process/escape.ts';
import { ticksSinceBoot } from '../process/proc.ts';
import { signalGroup } from '../process/signal.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';

const STDERR_TAIL = 4096;
/** How long stderr may stay open after the command's group is gone (its holders killed) before it is closed. */
const STDERR_GRACE_MS = 100;
const MAX_ERROR_LINE = 300;

/** How long a stopping daemon looks for what its checks left outside their group. */
const SCAN_BOUND_MS = 2_000;

interface Check {
  token: string;
  startedAt: number;
}

/** The checks running now, by process group: a daemon that stops kills them (killRunningChecks). */
const running = new Map<number, Check>();

/** SIGKILL to a check's group, then to what it started outside it (a setsid child, found by its token). */
async function killCheck(pid: number, { token, startedAt }: Check): Promise<void> {
  signalGroup(pid, 'SIGKILL');
  (await escapedSoon(token, pid, startedAt)).forEach(killWithGroup);
}

/** Every check command still running killed, with what it started; resolves once they are. */
export async function killRunningChecks(): Promise<void> {
  const checks = [...running];
  running.clear();
  if (checks.length === 0) return;
  // Bounded: a look at /proc that fails (EMFILE) must not keep the daemon from exiting.
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, SCAN_BOUND_MS)));
  await Promise.race([Promise.all(checks.map(([pid, check]) => killCheck(pid, check))), givenUp]);
  clearTimeout(timer);
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return (lines.at(-1) ?? '').slice(0, MAX_ERROR_LINE);
}

export async function probeExec(command: string[], target: ProbeTarget): Promise<ProbeResult> {
  const [file, ...args] = command;
  if (file === undefined) return { ok: false, durationMs: 0, error: 'empty command' };
  const { execa } = await import('execa');
  const began = performance.now();

  const token = `check:${randomUUID()}`;
  // What it leaves is no older than this: the search for it reads only younger processes.
  const startedAt = ticksSinceBoot() - 1;
  const subprocess = execa(file, args, {
    env: { [SPAWN_TOKEN_ENV]: token },
    timeout: target.timeoutMs,
    cancelSignal: target.signal,
    killSignal: 'SIGKILL',
    reject: false,
    buffer: false,
    detached: true,
    stdin: 'ignore',
    stdout: 'ignore',
  });
  let stderr = '';
  subprocess.stderr?.setEncoding('utf8');
  subprocess.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));
  const { pid } = subprocess;
  if (pid !== undefined) {
    running.set(pid, { token, startedAt });
    subprocess.once('exit', () => {
      // Not running any more: killed by killRunningChecks, which looks for what it left itself.
      if (running.delete(pid)) void killCheck(pid, { token, startedAt });
      // A holder of stderr that carries no token (its environment replaced) is not waited for.
      if (!subprocess.stderr || subprocess.stderr.closed) return;
      const holder = setTimeout(() => subprocess.stderr?.destroy(), STDERR_GRACE_MS);
      subprocess.stderr?.once('close', () => clearTimeout(holder));
    });
  }

  const result = await subprocess;
  const durationMs = performance.now() - began;
  // Timed out, yet exited 0 by itself: it had ended before the kill, its exit not yet taken (a
  // stalled daemon runs its timers before its I/O); the daemon's delay is not the proxy's failure.
  if (!result.failed || (result.timedOut && result.exitCode === 0)) return { ok: true, durationMs };

  const why = result.timedOut
    ? `timed out after ${target.timeoutMs} ms`
    : result.isCanceled
      ? 'aborted'
      : result.exitCode !== undefined
        ? `exit code ${result.exitCode}`
        : result.signal !== undefined
          ? `killed by ${result.signal}`
          : (result.originalMessage ?? 'could not run');
  const detail = lastLine(stderr);
  return { ok: false, durationMs, error: detail === '' ? why : `${why}: ${detail}` };
}
