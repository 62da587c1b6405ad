import { describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.ts';
import { isAliveNotZombie } from '../../src/process/proc.ts';
import { pidsMatching, waitUntil } from '../support/daemon.ts';
import type { HealthSpec } from '../../src/proxy-spec.ts';

const exec = (script: string): HealthSpec => ({ kind: 'exec', command: ['sh', '-c', script] });

describe('exec probe', () => {
  it('passes on exit 0', async () => {
    expect(await probe(exec('exit 0'), { timeoutMs: 2000 })).toMatchObject({ ok: true });
  });

  it('fails on exit 1 with the last stderr line', async () => {
    const result = await probe(exec('echo first >&2; echo "  upstream down  " >&2; exit 1'), { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: false, error: 'exit code 1: upstream down' });
  });

  it('times out, killing whatever the command left behind', async () => {
    const began = performance.now();
    const result = await probe(exec("trap '' TERM; sleep 30 & echo $! >&2; sleep 30"), { timeoutMs: 300 });
    expect(performance.now() - began).toBeLessThan(300 + 2_000); // the timeout, not the 30 s sleep
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^timed out after 300 ms: \d+$/);
    const helper = Number(result.error.split(': ')[1]);
    // KILLed with its group at the timeout; on a loaded machine it may take a moment to be gone.
    await waitUntil(() => !isAliveNotZombie(helper), 2_000);
  });

  it('ends at its timeout though a process it set out of its group holds stderr, and kills that process', async () => {
    const began = performance.now();
    const result = await probe(exec('setsid sleep 30 & echo $! >&2; sleep 30'), { timeoutMs: 300 });
    expect(performance.now() - began).toBeLessThan(300 + 2_000);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^timed out after 300 ms: \d+$/) });
    const escaped = Number((result as { error: string }).error.split(': ')[1]);
    await waitUntil(() => !isAliveNotZombie(escaped), 2_000);
  });

  it('passes on exit 0 though a process it set out of its group holds stderr, and kills that process', async () => {
    const result = await probe(exec("setsid sh -c 'sleep 30; : exec-check-escapee' & exit 0"), { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true });
    await waitUntil(() => pidsMatching('exec-check-escapee').length === 0, 2_000);
  });

  it('kills what it set out of its group with its output redirected (nothing holds stderr), pass or fail', async () => {
    for (const [script, ok] of [
      ["setsid sh -c 'sleep 30; : exec-check-quiet-escapee' >/dev/null 2>&1 </dev/null & exit 0", true],
      ["setsid sh -c 'sleep 30; : exec-check-quiet-escapee' >/dev/null 2>&1 </dev/null & exit 3", false],
    ] as const) {
      expect(await probe(exec(script), { timeoutMs: 2000 })).toMatchObject({ ok });
      await waitUntil(() => pidsMatching('exec-check-quiet-escapee').length === 0, 2_000);
    }
  });

  it('passes when it exited 0 in time though the daemon, stalled, saw the exit after the deadline', async () => {
    const pending = probe(exec('sleep 0.1; exit 0'), { timeoutMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // started
    // The daemon stalls past the deadline (in the check phase: the next turn runs its timers, the
    // deadline's among them, before the exit's I/O), and the check ends meanwhile.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const until = performance.now() + 600;
        while (performance.now() < until);
        resolve();
      }),
    );
    const result = await pending;
    expect(result).toMatchObject({ ok: true });
    expect(result.durationMs).toBeGreaterThan(300); // it was seen after the deadline
  });

  it('fails on a missing binary', async () => {
    const result = await probe({ kind: 'exec', command: ['/nonexistent/check'] }, { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.error).toContain('ENOENT');
  });

  it('stops at once when aborted', async () => {
    const began = performance.now();
    const result = await probe(exec('sleep 30'), { timeoutMs: 5000, signal: AbortSignal.timeout(100) });
    expect(result).toMatchObject({ ok: false, error: 'aborted' });
    expect(performance.now() - began).toBeLessThan(100 + 2_000); // the abort, not the 5 s timeout
  });
});
