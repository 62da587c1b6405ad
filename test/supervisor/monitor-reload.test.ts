// The operator's monitor stop and start last until the next reload: then the file says whether the
// monitor runs (README, "Changing things at run time"). A runtime change of other settings does not.
import { describe, expect, it } from 'vitest';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness, testSettings } from '../support/harness.ts';

describe('monitor stop / start and a reload', () => {
  it('a monitor stopped by the operator runs again on a reload of a file that enables it', async () => {
    const h = await startHarness({ settings: { enable: true } });
    h.supervisor.stopMonitor();
    await h.settle();
    expect(h.supervisor.status().running).toBe(false);
    h.supervisor.configure({ ...h.supervisor.settings(), check_interval: 7 }); // a runtime change: still stopped
    await h.settle();
    expect(h.supervisor.status().running).toBe(false);
    h.supervisor.reconcile([fakeSpec('ss-1')], { ...testSettings, enable: true });
    await h.settle();
    expect(h.supervisor.status().running).toBe(true);
  });

  it('a monitor started by the operator over enable: false stops again on a reload of that file', async () => {
    const h = await startHarness({ settings: { enable: false } });
    expect(h.supervisor.status().running).toBe(false);
    h.supervisor.startMonitor();
    await h.settle();
    expect(h.supervisor.status().running).toBe(true);
    h.supervisor.reconcile([fakeSpec('ss-1')], { ...testSettings, enable: false });
    await h.settle();
    expect(h.supervisor.status().running).toBe(false);
  });
});
