// A proxy adopted from the previous run is not our child: the kernel tells its exit status only to
// its real parent, so its crash says that the status is unknown rather than "code null".
import { expect, it } from 'vitest';
import { startHarness } from '../support/harness.ts';

it('an adopted proxy that exits is reported with "exit status unknown (not a child of the daemon: adopted, or its spawn helper died)"', async () => {
  const h = await startHarness({ memory: { 'ss-1': { adoptPid: 4242 } } });
  expect(h.world.log).toContain('adopt pid-4242 4242');
  h.world.running.get('pid-4242')!.events.onExit(null, null); // what the driver reports for an adopted process
  await h.settle();
  const [crash] = h.reportsOf('crash_detected');
  expect(crash.reason).toBe('process exited, exit status unknown (not a child of the daemon: adopted, or its spawn helper died)');
  expect(crash.reason).not.toMatch(/null/);
  expect(h.reportsOf('state_change').map((r) => r.reason)).toContain(
    'process exited, exit status unknown (not a child of the daemon: adopted, or its spawn helper died)',
  );
});
