// Types for the files of prom-client that src/metrics/prom.ts imports one by one (its package
// declares only its index).
declare module 'prom-client/lib/registry.js' {
  import { Registry } from 'prom-client';
  export = Registry;
}
declare module 'prom-client/lib/counter.js' {
  import { Counter } from 'prom-client';
  export = Counter;
}
declare module 'prom-client/lib/gauge.js' {
  import { Gauge } from 'prom-client';
  export = Gauge;
}
declare module 'prom-client/lib/histogram.js' {
  import { Histogram } from 'prom-client';
  export = Histogram;
}
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  /** Registers one family (or a few) of prom-client's default metrics on the registry. */
  const register: (registry: Registry, config: object) => void;
  export = register;
}
