import type { ProxyStats } from '../proxy/context.ts';
import type { MonitorSettings, ProxyEntry, ProxySettings } from './context.ts';

export type MonitorEvent =
  | { type: 'BOOT'; at: number }
  | { type: 'TICK'; at: number }
  // The whole monitor, from the operator: checks and automatic restarts off / on.
  | { type: 'STOP'; at: number }
  | { type: 'START'; at: number }
  // From a reload: `monitored` and `proxySettings` name every proxy; a runtime change leaves them out.
  | {
      type: 'CONFIGURE';
      at: number;
      settings: MonitorSettings;
      monitored?: Record<string, boolean>;
      proxySettings?: Record<string, ProxySettings>;
    }
  | { type: 'ADD_PROXY'; at: number; proxy: ProxyEntry }
  | { type: 'REMOVE_PROXY'; at: number; id: string }
  // From a proxy once its process is gone after RETIRE.
  | { type: 'PROXY_RETIRED'; at: number; id: string; stats: ProxyStats };
