// The process's own metrics (CPU, memory, fds, heap, GC, event-loop lag), from prom-client's default
// collectors taken one by one, minus what misleads or costs for nothing:
// - its event-loop delay histogram: a sampler that woke the daemon every second to fill it, though
//   none of its families was exported (min/mean/stddev/percentiles read 9223372036.85 and NaN when
//   no sample fell between two scrapes). nodejs_eventloop_lag_seconds is measured here instead, at
//   each scrape, and reports that scrape's lag (prom-client's collector reported the previous one's).
// - the nodejs_active_*_total gauges: `_total` is for counters (promtool flags them), and
//   nodejs_active_handles and friends carry the same values.
import gc from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';
import { Gauge, Registry } from './prom.ts';

const COLLECTORS = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
  gc,
];

const DROPPED = /^nodejs_active_\w+_total$/;

export function registerProcessMetrics(registry: Registry): void {
  const defaults = new Registry();
  for (const collect of COLLECTORS) collect(defaults, {});
  for (const { name } of defaults.getMetricsAsArray()) {
    if (!DROPPED.test(name)) registry.registerMetric(defaults.getSingleMetric(name)!);
  }
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers: [registry],
    // How long a callback queued now waits for the loop: the time from here to the next check phase.
    async collect() {
      const start = process.hrtime.bigint();
      await new Promise(setImmediate);
      this.set(Number(process.hrtime.bigint() - start) / 1e9);
    },
  });
}
