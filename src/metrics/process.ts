// The process's own metrics (CPU, memory, fds, heap, GC, event-loop lag), from prom-client's default
// collectors minus the families that mislead: the event-loop delay histogram's min/mean/stddev/
// percentiles read 9223372036.85 and NaN when no sample fell between two scrapes, and the
// nodejs_active_*_total gauges break the naming rule (`_total` is for counters; promtool flags them;
// nodejs_active_handles and friends carry the same values). nodejs_eventloop_lag_seconds stays: it
// is measured at each scrape.
import { collectDefaultMetrics, Registry } from './prom.ts';

const DROPPED = /^nodejs_eventloop_lag_(min|max|mean|stddev|p\d+)_seconds$|^nodejs_active_\w+_total$/;

export function registerProcessMetrics(registry: Registry): void {
  const defaults = new Registry();
  // The event-loop delay sampler's timer wakes the daemon at this period: at prom-client's default
  // (10 ms) it alone cost an idle daemon ~0.3-0.7 % CPU (bench/RESULTS.md).
  collectDefaultMetrics({ register: defaults, eventLoopMonitoringPrecision: 1000 });
  for (const { name } of defaults.getMetricsAsArray()) {
    if (!DROPPED.test(name)) registry.registerMetric(defaults.getSingleMetric(name)!);
  }
}
