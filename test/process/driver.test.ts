import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adoptProcess, startProcess, stopAll } from '../../src/process/driver.ts';
import { isAliveNotZombie, processStartTime } from '../../src/process/proc.ts';
import type { ProcessEvents, ProcessHandle } from '../../src/supervisor/ports.ts';
import { startSpawnHelper, type HelperSpawner } from '../../src/process/helper.ts';
import { childProcessSpawner, type Spawner } from '../../src/process/spawner.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';

function spec(command: string, args: string[], extra: Partial<ProxySpec> = {}): ProxySpec {
  return {
    id: 'p1',
    type: 'exec',
    command,
    args,
    env: {},
    health: { kind: 'process' },
    monitor: true,
    secrets: [],
    files: [],
    ...extra,
  };
}

/** Records every event and lets a test wait for one. */
function recorder() {
  const log = {
    spawned: undefined as number | undefined,
    spawnError: undefined as string | undefined,
    exit: undefined as { code: number | null; signal: string | null; at: number; left?: string } | undefined,
    lines: [] as { stream: string; line: string }[],
    dropped: 0,
  };
  const events: ProcessEvents = {
    onSpawn: (pid) => (log.spawned = pid),
    onSpawnError: (error) => (log.spawnError = error),
    onExit: (code, signal, left) => (log.exit = { code, signal, at: performance.now(), ...(left !== undefined && { left }) }),
    onOutput: (stream, line) => log.lines.push({ stream, line }),
    onOutputDropped: (_stream, lines) => (log.dropped += lines),
  };
  return { log, events };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const node = (code: string) => spec(process.execPath, ['-e', code]);
const handles: ProcessHandle[] = [];
const track = (handle: ProcessHandle) => {
  handles.push(handle);
  return handle;
};

afterEach(async () => {
  await stopAll(handles.splice(0), 200);
});

// Every case runs on both ways of starting a process: the spawn helper (what the daemon uses when it
// could be built) and child_process (its fallback).
describe.each(['spawn helper', 'child_process'] as const)('with %s', (way) => {
  let spawner: Spawner = childProcessSpawner;
  let helper: HelperSpawner | undefined;
  beforeAll(async () => {
    if (way === 'spawn helper') spawner = helper = await startSpawnHelper(() => {});
  });
  afterAll(() => helper?.close());
  const start = (s: ProxySpec, events: ProcessEvents) => startProcess(s, events, spawner);

  describe('startProcess', () => {
    it('reports the spawn, and an exit by kill -9 within milliseconds', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sleep', ['300']), events));
      await until(() => log.spawned !== undefined);
      expect(log.spawned).toBe(handle.pid);
      expect(isAliveNotZombie(handle.pid!)).toBe(true);

      const killedAt = performance.now();
      process.kill(handle.pid!, 'SIGKILL');
      await until(() => log.exit !== undefined);
      expect(log.exit!.at - killedAt).toBeLessThan(2_000); // an exit event, not a poll: well under the 2 s slack a loaded machine needs
      expect(log.exit).toMatchObject({ code: null, signal: 'SIGKILL' });
      expect(handle.exited).toBe(true);
    });

    it('kills what a leader that forks and exits left in its group, and says so with its exit', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sh', ['-c', 'sleep 300 & exit 0']), events));
      await until(() => log.exit !== undefined);
      expect(log.exit).toMatchObject({
        code: 0,
        left: 'it left processes running in its process group, which were killed: it forks and exits, and must run in the foreground',
      });
      await until(() => {
        try {
          process.kill(-handle.pid!, 0);
          return false;
        } catch {
          return true; // the group is gone
        }
      });
      // A leader alone in its group leaves nothing to say.
      const alone = recorder();
      track(start(spec('sh', ['-c', 'exit 3']), alone.events));
      await until(() => alone.log.exit !== undefined);
      expect(alone.log.exit).toMatchObject({ code: 3 });
      expect(alone.log.exit!.left).toBeUndefined();
    });

    it('reports a missing binary through onSpawnError, without onExit', async () => {
      const { log, events } = recorder();
      const handle = start(spec('/nonexistent/proxy-binary', []), events);
      expect(handle.pid).toBeUndefined();
      await until(() => log.spawnError !== undefined);
      expect(log.spawnError).toContain('ENOENT');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(log.exit).toBeUndefined();
      expect(() => handle.stop(100)).not.toThrow();
    });

    it("reports a generated config it cannot write (its state_dir's fault) as the daemon's, not the proxy's", async () => {
      let fault: boolean | undefined;
      const { log, events } = recorder();
      const files = [{ path: '/dev/null/generated/ss-1.json', content: '{}' }];
      const onSpawnError = (error: string, daemonFault?: boolean) => {
        log.spawnError = error;
        fault = daemonFault;
      };
      track(start({ ...spec('sleep', ['1']), files }, { ...events, onSpawnError }));
      await until(() => log.spawnError !== undefined);
      expect(log.spawnError).toMatch(/ENOTDIR/);
      expect(fault).toBe(true);
    });

    it('refuses a NUL inside an argument or a variable, as Node does, and starts nothing', async () => {
      for (const bad of [spec('echo', ['a\0b', 'c']), spec('echo', ['x'], { env: { PROXY_VAR: 'x\0y' } })]) {
        const { log, events } = recorder();
        const handle = start(bad, events);
        await until(() => log.spawnError !== undefined);
        expect(log.spawnError).toMatch(/null bytes/);
        expect(handle.pid).toBeUndefined();
        expect(log.spawned).toBeUndefined();
      }
    });

    it('names a missing working directory', async () => {
      const { log, events } = recorder();
      start(spec('sleep', ['1'], { cwd: '/nonexistent/dir' }), events);
      await until(() => log.spawnError !== undefined);
      expect(log.spawnError).toContain('/nonexistent/dir');
    });

    it('captures stdout and stderr line by line, cutting long lines', async () => {
      const { log, events } = recorder();
      track(
        start(spec('sh', ['-c', 'echo hello; echo oops >&2; head -c 10000 /dev/zero | tr "\\0" a; echo; printf "crlf\\r\\nlast"']), events),
      );
      // Two pipes: stderr's line may come after stdout's last one.
      await until(() => log.lines.some((l) => l.line === 'last') && log.lines.some((l) => l.stream === 'stderr'));
      const of = (stream: string) => log.lines.filter((l) => l.stream === stream).map((l) => l.line);
      expect(of('stdout')).toEqual(['hello', 'a'.repeat(4096), 'crlf', 'last']);
      expect(of('stderr')).toEqual(['oops']);
    });

    it('writes generated files with mode 0600 before the start, replacing a wider one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'driver-'));
      try {
        const path = join(dir, 'nested', 'config.json');
        const existing = join(dir, 'old.json');
        writeFileSync(existing, 'old');
        chmodSync(existing, 0o644);
        const { log, events } = recorder();
        track(
          start(
            spec('cat', [path, existing], {
              files: [
                { path, content: '{"password":"s3cret"}\n' },
                { path: existing, content: 'new\n' },
              ],
            }),
            events,
          ),
        );
        await until(() => log.exit !== undefined && log.lines.length === 2);
        expect(log.lines.map((l) => l.line)).toEqual(['{"password":"s3cret"}', 'new']);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        expect(statSync(existing).mode & 0o777).toBe(0o600);
        expect(readFileSync(existing, 'utf8')).toBe('new\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('passes env and cwd', async () => {
      const { log, events } = recorder();
      track(start(spec('sh', ['-c', 'echo "$PROXY_VAR $(pwd)"'], { env: { PROXY_VAR: 'v1' }, cwd: '/tmp' }), events));
      await until(() => log.lines.length === 1);
      expect(log.lines[0].line).toBe('v1 /tmp');
    });
  });

  describe('stop', () => {
    it('kills a process that ignores SIGTERM once the timeout is over', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sh', ['-c', "trap '' TERM; echo ready; exec sleep 300"]), events));
      await until(() => log.lines.length === 1);
      const stoppedAt = performance.now();
      handle.stop(300);
      await until(() => log.exit !== undefined);
      expect(log.exit!.signal).toBe('SIGKILL');
      expect(log.exit!.at - stoppedAt).toBeGreaterThanOrEqual(290);
      expect(log.exit!.at - stoppedAt).toBeLessThan(300 + 2_000);
    });

    it('a second stop can shorten the grace period, never lengthen it', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sh', ['-c', "trap '' TERM; echo ready; exec sleep 300"]), events));
      await until(() => log.lines.length === 1);
      const stoppedAt = performance.now();
      handle.stop(60_000);
      handle.stop(300); // shortens: killed after 300 ms, not a minute
      handle.stop(60_000); // does not lengthen it again
      await until(() => log.exit !== undefined, 10_000);
      expect(log.exit!.signal).toBe('SIGKILL');
      expect(log.exit!.at - stoppedAt).toBeGreaterThanOrEqual(290);
      expect(log.exit!.at - stoppedAt).toBeLessThan(300 + 5_000);
    });

    it('wakes a stopped process with SIGCONT so its SIGTERM handler runs', async () => {
      const { log, events } = recorder();
      const handle = track(
        start(node("process.on('SIGTERM', () => process.exit(3)); console.log('ready'); setInterval(() => {}, 1000)"), events),
      );
      await until(() => log.lines.length === 1);
      process.kill(handle.pid!, 'SIGSTOP');
      const stoppedAt = performance.now();
      handle.stop(5000);
      await until(() => log.exit !== undefined);
      expect(log.exit!.code).toBe(3);
      expect(log.exit!.at - stoppedAt).toBeLessThan(4_000); // before the 5 s stop timeout's KILL
    });

    it('leaves no grandchild behind, even one that ignores SIGTERM', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sh', ['-c', "(trap '' TERM; exec sleep 300) & echo $!; exec sleep 300"]), events));
      await until(() => log.lines.length === 1);
      const grandchild = Number(log.lines[0].line);
      expect(isAliveNotZombie(grandchild)).toBe(true);
      handle.stop(5000);
      await until(() => log.exit !== undefined);
      await until(() => !isAliveNotZombie(grandchild), 1000);
    });

    it('also clears the group when the leader crashes on its own', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sh', ['-c', 'sleep 300 & echo $!; exec sleep 300']), events));
      await until(() => log.lines.length === 1);
      const grandchild = Number(log.lines[0].line);
      process.kill(handle.pid!, 'SIGKILL');
      await until(() => log.exit !== undefined);
      await until(() => !isAliveNotZombie(grandchild), 1000);
    });

    it('a stop asked for before the process has its pid waits for it, then stops it', async () => {
      const { log, events } = recorder();
      const handle = track(start(spec('sleep', ['300']), events));
      handle.stop(5_000);
      expect(log.spawned).toBeUndefined();
      await until(() => log.exit !== undefined, 10_000);
      expect(log.spawned).toBeDefined();
      expect(log.exit!.signal).toBe('SIGTERM');
    });

    it('stopAll resolves once every process has exited', async () => {
      const started = Array.from({ length: 5 }, () => {
        const { log, events } = recorder();
        return { log, handle: start(spec('sleep', ['300']), events) };
      });
      await until(() => started.every((s) => s.log.spawned !== undefined));
      await stopAll(
        started.map((s) => s.handle),
        2000,
      );
      expect(started.every((s) => s.handle.exited && s.log.exit?.signal === 'SIGTERM')).toBe(true);
    });
  });
});

describe('adoptProcess', () => {
  /** A process that is not our child and leads its own group, as a proxy left by an earlier run. */
  async function orphan(): Promise<number> {
    const sh = spawn('sh', ['-c', 'setsid sleep 300 >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    sh.stdout.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => sh.once('close', resolve));
    const pid = Number(out.trim());
    await until(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'));
    return pid;
  }

  it('reports the exit of a process that is not our child', async () => {
    const pid = await orphan();
    expect(processStartTime(pid)).toBeGreaterThan(0);
    let exitedAt: number | undefined;
    const handle = track(adoptProcess(pid, { onExit: () => (exitedAt = performance.now()) }, 50));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(exitedAt).toBeUndefined();
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await until(() => exitedAt !== undefined);
    expect(exitedAt! - killedAt).toBeLessThan(50 + 2_000); // one 50 ms poll, and slack for a loaded machine
    expect(handle.exited).toBe(true);
  });

  it('reports a detached, unreferenced child of ours too', async () => {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    child.unref();
    let exited = false;
    track(adoptProcess(child.pid!, { onExit: () => (exited = true) }, 50));
    process.kill(child.pid!, 'SIGKILL');
    await until(() => exited);
  });

  it('stops the adopted process group', async () => {
    const pid = await orphan();
    let exited = false;
    const handle = track(adoptProcess(pid, { onExit: () => (exited = true) }, 50));
    handle.stop(2000);
    await until(() => exited, 5_000);
    expect(isAliveNotZombie(pid)).toBe(false);
  });

  it('treats a pid that is already gone as exited', async () => {
    let exited = false;
    track(adoptProcess(2 ** 22 + 1, { onExit: () => (exited = true) }, 50));
    await until(() => exited, 5_000);
  });
});

describe("the spawn helper's output budget", () => {
  let helper: HelperSpawner | undefined;
  afterAll(() => helper?.close());

  it('passes on at most 100000 lines a second of a proxy that writes without pause, counts the rest, and cuts no line in two', async () => {
    helper = await startSpawnHelper(() => {});
    const { log, events } = recorder();
    const handle = track(startProcess(spec('yes', []), events, helper));
    await until(() => log.dropped > 0);
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    handle.stop(1_000);
    await until(() => log.exit !== undefined);
    const seconds = Math.ceil((performance.now() - began) / 1000) + 2; // the second before and the one it ended in
    // Within budget, plus one 64 KiB read (32768 lines of "y") of overshoot per second.
    expect(log.lines.length).toBeLessThanOrEqual(seconds * (100_000 + 32_768));
    expect(log.dropped).toBeGreaterThan(0);
    expect(log.lines.filter((l) => l.line !== 'y')).toEqual([]);
  });
});
