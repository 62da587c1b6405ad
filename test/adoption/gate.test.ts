// Starts held while the previous run's leftovers stop: they start once those are gone, and one
// stopped meanwhile never starts.
import { describe, expect, it, vi } from 'vitest';
import { startsAfter } from '../../src/adoption/gate.ts';
import type { Driver, ProcessEvents, ProcessHandle } from '../../src/supervisor/ports.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';

const spec = { id: 'p' } as ProxySpec;
const events = () => ({ onSpawn: vi.fn(), onSpawnError: vi.fn(), onExit: vi.fn(), onOutput: vi.fn() }) as unknown as ProcessEvents;

function fakeDriver() {
  const handle: ProcessHandle = { pid: 42, exited: false, stop: vi.fn() };
  const driver: Driver = { start: vi.fn(() => handle), adopt: vi.fn(), stopAll: vi.fn(async () => {}) };
  return { driver, handle };
}

describe('startsAfter', () => {
  it('holds a start until the leftovers are gone, then starts it; later starts go straight through', async () => {
    const { driver, handle } = fakeDriver();
    let gone!: () => void;
    const gated = startsAfter(driver, new Promise<void>((resolve) => (gone = resolve)));
    const held = gated.start(spec, events());
    expect(driver.start).not.toHaveBeenCalled();
    expect(held.pid).toBeUndefined();
    gone();
    await new Promise((r) => setTimeout(r, 0));
    expect(driver.start).toHaveBeenCalledTimes(1);
    expect(held.pid).toBe(42);
    held.stop(1_000);
    expect(handle.stop).toHaveBeenCalledWith(1_000);
    await gated.stopAll([held], 1_000);
    expect(driver.stopAll).toHaveBeenCalledWith([handle], 1_000);
    expect(gated.start(spec, events())).toBe(handle);
  });

  it('a start stopped while held never happens, and says so as a start that failed (nothing to wait for)', async () => {
    const { driver } = fakeDriver();
    let gone!: () => void;
    const gated = startsAfter(driver, new Promise<void>((resolve) => (gone = resolve)));
    const heard = events();
    const held = gated.start(spec, heard);
    held.stop(1_000);
    expect(held.exited).toBe(true);
    expect(heard.onSpawnError).toHaveBeenCalledWith('stopped before it was started');
    gone();
    await new Promise((r) => setTimeout(r, 0));
    expect(driver.start).not.toHaveBeenCalled();
  });

  it('is the driver itself when there is nothing to wait for', () => {
    const { driver } = fakeDriver();
    expect(startsAfter(driver, undefined)).toBe(driver);
  });
});
