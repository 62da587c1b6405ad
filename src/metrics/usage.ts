// What each proxy uses, measured when Prometheus scrapes (all its processes together; from the
// cgroup's files in cgroup mode, else from /proc), next to the memory watchdog's limit.
import { Gauge, type Registry } from './prom.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';

export function registerUsageGauges(registry: Registry, supervisor: Pick<Supervisor, 'usage' | 'memoryLimit'>): void {
  const registers = [registry];
  // One measurement serves the three gauges of a scrape.
  let measured = { at: -Infinity, usage: new Map() as ReturnType<typeof supervisor.usage> };
  const usage = () => {
    if (Date.now() - measured.at > 1000) measured = { at: Date.now(), usage: supervisor.usage() };
    return measured.usage;
  };
  new Gauge({
    name: 'proxy_monitor_proxy_memory_bytes',
    help: 'Resident memory of all the processes of each running proxy.',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset(); // a proxy that stopped or was removed must disappear
      for (const [id, used] of usage()) this.set({ proxy_id: id }, used.memoryBytes);
    },
  });
  new Gauge({
    name: 'proxy_monitor_proxy_memory_limit_bytes',
    help: 'The memory watchdog limit of each running proxy with one (max_memory).',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const id of usage().keys()) {
        const limit = supervisor.memoryLimit(id);
        if (limit !== null) this.set({ proxy_id: id }, limit);
      }
    },
  });
  new Gauge({
    name: 'proxy_monitor_proxy_cpu_seconds',
    help: 'CPU time (user + system) used by the live processes of each running proxy since they started.',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const [id, used] of usage()) this.set({ proxy_id: id }, used.cpuSeconds);
    },
  });
}
