// The resolved description of one proxy: what the config loader produces from a `proxy.proxies[]`
// entry and what the process driver and the health probes consume. Secrets stay here, in src/;
// the machines only ever see the proxy's id.
import type { ProxySettings } from '../machines/monitor/context.ts';

export type HealthSpec =
  | { kind: 'process' }
  | { kind: 'tcp'; host: string; port: number; send?: string; expect?: string }
  /** A connect to a unix socket (a typed entry that listens on one: v2ray's `listen: /path`). */
  | { kind: 'unix'; path: string }
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

/** The account a proxy runs as, resolved from `user` / `group` when the config is loaded. */
export interface RunAs {
  uid: number;
  gid: number;
  /** The user's name; null for a numeric id without a passwd entry (then no supplementary groups). */
  user: string | null;
  group: string | null;
}

/** Resource limits (soft = hard), applied before exec; "unlimited" is RLIM_INFINITY. */
export interface Limits {
  nofile?: number;
  nproc?: number | 'unlimited';
  core?: number | 'unlimited';
  memlock?: number | 'unlimited';
}

/** Who the proxy runs as and what it may do; src/process/wrappers.ts turns this into argv. */
export interface Privileges {
  /** Absent: the daemon's own user. */
  runAs?: RunAs;
  /** Ambient capabilities (e.g. "net_bind_service"): the only ones the proxy holds. */
  capabilities: string[];
  limits: Limits;
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
  /** Absent: the daemon's own user, capabilities and limits. */
  privileges?: Privileges;
  /** The proxy's own memory watchdog limit in bytes (absent: proxy.monitor.max_memory, if any). */
  maxMemory?: number;
}
