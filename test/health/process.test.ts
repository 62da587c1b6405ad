import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.ts';

describe('process probe', () => {
  it('passes for a live process', async () => {
    expect(await probe({ kind: 'process' }, { pid: process.pid, timeoutMs: 100 })).toMatchObject({ ok: true });
  });

  it('fails without a pid, or for a process that is gone', async () => {
    expect(await probe({ kind: 'process' }, { timeoutMs: 100 })).toMatchObject({ ok: false, error: 'no pid' });
    const child = spawn('true');
    await once(child, 'exit');
    const result = await probe({ kind: 'process' }, { pid: child.pid, timeoutMs: 100 });
    expect(result).toMatchObject({ ok: false, error: `process ${child.pid} is gone` });
  });

  it('fails for a zombie', async () => {
    // sleep 0 exits at once; its parent becomes `sleep 5`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(chunk.toString().trim());
      await new Promise((resolve) => setTimeout(resolve, 200));
      const result = await probe({ kind: 'process' }, { pid: zombie, timeoutMs: 100 });
      expect(result).toMatchObject({ ok: false, error: `process ${zombie} is a zombie` });
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
