// Which containment the daemon runs in (src/process/cgroup.ts), read from this process's own /proc:
// its cgroup v2 directory (the one whose cgroup.procs lists it), and the fallback to process groups,
// with the reason, where the daemon has no delegated cgroup of its own. A delegated tree (systemd
// Delegate=yes) is not what tests run in; its part is tested on a stand-in tree in cgroup.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupOf, proxyCgroupOf, setUpContainment } from '../../src/process/cgroup.ts';

const own = cgroupOf('self');
const inRoot = /^0::\/$/m.test(readFileSync('/proc/self/cgroup', 'utf8'));

describe('cgroupOf', () => {
  it.skipIf(own === undefined)('is the cgroup v2 directory whose cgroup.procs lists the process, without a trailing slash', () => {
    expect(cgroupOf(process.pid)).toBe(own);
    expect(own!.endsWith('/')).toBe(false);
    expect(readFileSync(join(own!, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(process.pid));
  });

  it('is undefined for a process that is not there', () => {
    expect(cgroupOf(2 ** 22 + 1)).toBeUndefined();
  });

  it.skipIf(own === undefined)('a cgroup that is not a proxy-<id> child of the tree is none of ours', () => {
    expect(proxyCgroupOf({ root: dirname(own!), controllers: [] }, process.pid)).toBeUndefined();
    expect(proxyCgroupOf({ root: own!, controllers: [] }, process.pid)).toBeUndefined();
    expect(proxyCgroupOf({ root: own!, controllers: [] }, 2 ** 22 + 1)).toBeUndefined();
  });
});

describe('setUpContainment', () => {
  it.skipIf(own === undefined || !inRoot)('falls back to process groups in the root cgroup, saying why and what to do', () => {
    expect(setUpContainment()).toEqual({
      mode: 'process-group',
      why: `the daemon is in the root cgroup (${own}), not in a delegated one (systemd: Delegate=yes)`,
    });
  });

  it.skipIf(own !== undefined)('falls back to process groups without a cgroup v2 hierarchy', () => {
    expect(setUpContainment()).toEqual({ mode: 'process-group', why: 'no cgroup v2 hierarchy is mounted' });
  });
});
