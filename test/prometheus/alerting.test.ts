// The monitoring chain end to end, with Debian's servers: a real daemon serves /metrics, Prometheus
// scrapes it every second and evaluates config/prometheus/alerts.yml, Alertmanager receives the
// alert when a proxy that exits at once has used up its restart cap.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { describeWith } from '../support/binaries.ts';
import { freePorts, ROOT, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string };
}

describeWith(['/usr/bin/prometheus', '/usr/bin/prometheus-alertmanager'])('Prometheus and Alertmanager watching a daemon', () => {
  let daemon: TestDaemon;
  const servers: ChildProcess[] = [];
  let api: string;
  let prometheus: string;
  let alertmanager: string;

  /** A server of ours, its output kept for the failure message. */
  function serve(command: string, args: string[]): () => string {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output = (output + d).slice(-4000)));
    child.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
    servers.push(child);
    return () => output;
  }

  const getJson = async (url: string) => (await fetch(url)).json();

  beforeAll(async () => {
    const [apiPort, promPort, amPort] = await freePorts(3);
    [api, prometheus, alertmanager] = [apiPort, promPort, amPort].map((p) => `127.0.0.1:${p}`);
    const { dir, configFile } = writeConfig({
      proxy: {
        monitor: { enable: true, check_interval: 1, max_restarts: 2, restart_cooldown: 0, backoff: { initial: 1, factor: 1, max: 1 } },
        // Exits at once: every restart fails, and the hourly cap is reached within seconds.
        proxies: [{ id: 'crasher', type: 'exec', command: '/bin/sh', args: ['-c', 'exit 1'] }],
      },
      api: { listen: api },
    });

    writeFileSync(
      join(dir, 'alertmanager.yml'),
      stringify({ route: { receiver: 'null', group_wait: '1s' }, receivers: [{ name: 'null' }] }),
    );
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(ROOT, 'config/prometheus/alerts.yml')],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
        scrape_configs: [{ job_name: 'proxy-monitor', static_configs: [{ targets: [api] }] }],
      }),
    );
    mkdirSync(join(dir, 'am-data'));
    mkdirSync(join(dir, 'tsdb'));
    const amOutput = serve('/usr/bin/prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=${alertmanager}`,
      '--cluster.listen-address=', // no clustering: a single instance, no gossip port
    ]);
    const promOutput = serve('/usr/bin/prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=${prometheus}`,
    ]);
    daemon = startDaemon(configFile, dir);
    const ready = async (url: string) => (await fetch(url).catch(() => undefined))?.ok === true;
    await waitUntil(() => ready(`http://${alertmanager}/-/ready`), 20_000, 100).catch(() => {
      throw new Error(`alertmanager did not start: ${amOutput()}`);
    });
    await waitUntil(() => ready(`http://${prometheus}/-/ready`), 20_000, 100).catch(() => {
      throw new Error(`prometheus did not start: ${promOutput()}`);
    });
  });

  afterAll(async () => {
    await daemon?.stop('SIGTERM');
    await Promise.all(
      servers.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
  });

  it('Prometheus scrapes the daemon', async () => {
    await waitUntil(
      async () => {
        const targets = await getJson(`http://${prometheus}/api/v1/targets`);
        return targets.data.activeTargets.some(
          (t: { labels: { job: string }; health: string }) => t.labels.job === 'proxy-monitor' && t.health === 'up',
        );
      },
      20_000,
      250,
    );
    const query = await getJson(`http://${prometheus}/api/v1/query?query=proxy_monitor_max_restarts`);
    expect(query.data.result).toEqual([expect.objectContaining({ value: [expect.any(Number), '2'] })]);
  });

  it('the proxy driven to its cap shows up in Alertmanager as ProxyRestartCapReached', async () => {
    await daemon.waitFor((l) => l.proxy_id === 'crasher' && l.guard === 'restart_cap', 30_000);
    let alert: AmAlert | undefined;
    await waitUntil(
      async () => {
        const alerts: AmAlert[] = await getJson(`http://${alertmanager}/api/v2/alerts`);
        alert = alerts.find((a) => a.labels.alertname === 'ProxyRestartCapReached');
        return alert !== undefined;
      },
      30_000,
      250,
    );
    expect(alert!.labels).toMatchObject({ proxy_id: 'crasher', severity: 'critical', job: 'proxy-monitor', instance: api });
    expect(alert!.status.state).toBe('active');
  });
});
