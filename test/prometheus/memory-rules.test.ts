// The memory watchdog's alert rule, checked and unit-tested by promtool.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { ROOT } from '../support/daemon.ts';

const promtool = (...args: string[]) =>
  spawnSync('/usr/bin/promtool', args, { cwd: join(ROOT, 'config/prometheus'), encoding: 'utf8', timeout: 60_000 });

describeWith(['/usr/bin/promtool'])('config/prometheus/memory-alerts.yml', () => {
  it('passes promtool check rules and its unit tests', () => {
    const check = promtool('check', 'rules', 'memory-alerts.yml');
    expect(check.stdout + check.stderr).toContain('SUCCESS: 1 rules found');
    const test = promtool('test', 'rules', 'memory-alerts.test.yml');
    expect(test.stdout + test.stderr).toContain('SUCCESS');
    expect([check.status, test.status]).toEqual([0, 0]);
  });
});
