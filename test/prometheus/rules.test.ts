// The alert rules, checked and unit-tested by Prometheus's own promtool; the example Prometheus and
// Alertmanager configs, checked by promtool and amtool.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWith } from '../support/binaries.ts';
import { ROOT } from '../support/daemon.ts';

const DIR = join(ROOT, 'config/prometheus');
const run = (tool: string, ...args: string[]) => spawnSync(tool, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
const promtool = (...args: string[]) => run('/usr/bin/promtool', ...args);

describeWith(['/usr/bin/promtool'])('config/prometheus/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('passes its unit tests (promtool test rules alerts.test.yml)', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  it('has a unit test for every alert', () => {
    const rules = parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8'));
    const tests = parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8'));
    const alerts = rules.groups.flatMap((g: { rules: { alert: string }[] }) => g.rules.map((r) => r.alert));
    const tested = new Set(
      tests.tests.flatMap((t: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect(alerts.filter((a: string) => !tested.has(a))).toEqual([]);
  });
});

describeWith(['/usr/bin/promtool', '/usr/bin/amtool'])('the example fleet configs', () => {
  it('config/prometheus/prometheus.yml passes promtool check config, alerts.yml and memory-alerts.yml included', () => {
    const r = promtool('check', 'config', 'prometheus.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS: 2 rule files found');
    expect(r.status).toBe(0);
  });

  it('config/prometheus/alertmanager.yml passes amtool check-config', () => {
    const r = run('/usr/bin/amtool', 'check-config', 'alertmanager.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
