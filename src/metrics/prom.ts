// prom-client's classes, imported from their own files rather than from its index: the index also
// loads the Pushgateway (node:https and node:zlib with it), the cluster aggregator and Summary
// (tdigest), none of which the daemon uses (bench/README.md, "Memory"). Types come from the index.
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export { Counter, Gauge, Histogram, Registry };
