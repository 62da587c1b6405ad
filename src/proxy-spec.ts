// The resolved description of one proxy: what the config loader produces from a `proxy.proxies[]`
// entry and what the process driver and the health probes consume. Secrets stay here, in src/;
// the machines only ever see the proxy's id.
import type { ProxySettings } from '../machines/monitor/context.ts';

export type HealthSpec =
  | { kind: 'process' }
  | { kind: 'tcp'; host: string; port: number; send?: string; expect?: string }
  | { kind: 'http'; url: string; status?: number }
  | { kind: 'exec'; command: string[] }
  | { kind: 'shadowsocks'; host: string; port: number; password: string; method: string }
  | { kind: 'tls'; host: string; port: number; servername?: string };

export type ProxyType = 'shadowsocks' | 'trojan' | 'v2ray' | 'snell' | 'exec';

/** A file the proxy needs before it starts (generated server config), written with mode 0600. */
export interface GeneratedFile {
  path: string;
  content: string;
}

export interface ProxySpec {
  id: string;
  type: ProxyType;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  health: HealthSpec;
  /** false: started, but never checked or restarted automatically. */
  monitor: boolean;
  /** The entry's own proxy.monitor settings (stop_timeout, restart, ...); the global ones apply to the rest. */
  settings?: ProxySettings;
  /** Values that must never appear in a log line, API reply or metric label. */
  secrets: string[];
  files: GeneratedFile[];
}
