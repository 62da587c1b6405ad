import type { ProxyMemory, ProxyStats } from '../proxy/context.ts';
import { HOUR_MS, type RestartPolicy } from '../proxy/policy.ts';

/** The `proxy.monitor` settings, in the config file's names and units (seconds). */
export interface MonitorSettings {
  enable: boolean;
  check_interval: number;
  restart_cooldown: number;
  max_restarts: number;
  health_timeout: number;
  check_concurrency: number;
  failure_threshold: number;
  start_grace: number;
  min_uptime: number;
  stop_timeout: number;
  stable_uptime: number;
  /** systemd's Restart= words: `on-failure` leaves a clean exit stopped. */
  restart: 'always' | 'on-failure';
  backoff: { initial: number; factor: number; max: number };
  /** Memory watchdog limit of proxies without their own ("256MiB" or bytes); src/ measures, the proxy machine decides. */
  max_memory?: string | number;
}

/** The settings a proxy entry may set for itself; the monitor's settings are the defaults. */
export type ProxySettings = Partial<
  Pick<
    MonitorSettings,
    | 'stop_timeout'
    | 'health_timeout'
    | 'failure_threshold'
    | 'start_grace'
    | 'min_uptime'
    | 'restart'
    | 'restart_cooldown'
    | 'max_restarts'
    | 'stable_uptime'
  >
>;

/** A proxy as the monitor knows it: no command, no secrets, just what the decisions need. */
export interface ProxyEntry {
  id: string;
  monitored: boolean;
  /** Its own settings (config overrides), over the monitor's. */
  settings?: ProxySettings;
  memory?: Partial<ProxyMemory>;
}

export interface MonitorInput {
  settings: MonitorSettings;
  proxies: ProxyEntry[];
  /** The stored counters of proxies removed before this run (not among `proxies`): the totals include them. */
  retired?: Record<string, ProxyStats>;
}

export interface MonitorContext {
  settings: MonitorSettings;
  /** Check rounds (ticks) of this run; the status counts checks, from the proxies' counters. */
  checkRounds: number;
  lastCheckAt: number | null;
  /** Each proxy's own settings (see ProxyEntry), kept so that a change of the monitor's applies under them. */
  proxySettings: Record<string, ProxySettings>;
  /** When the current check interval began: the last round, or the moment watching began. */
  intervalStartedAt: number;
  /** When the pending check round is due (epoch ms). */
  nextTickAt: number;
  /**
   * Counters of the proxies removed, by id, as they were when removed: the totals must not shrink
   * when a proxy leaves, nor count it twice when it comes back (its actor has them again).
   */
  retiredStats: Record<string, ProxyStats>;
  /** The proxies to spawn when the machine starts (consumed once). */
  initialProxies: ProxyEntry[];
}

/** A proxy's restart policy: the monitor's settings under the proxy's own. */
export function policyFrom(monitor: MonitorSettings, own: ProxySettings = {}): RestartPolicy {
  const settings = { ...monitor, ...own };
  return {
    cooldownMs: settings.restart_cooldown * 1000,
    maxRestarts: settings.max_restarts,
    windowMs: HOUR_MS,
    backoff: { initialMs: settings.backoff.initial * 1000, factor: settings.backoff.factor, maxMs: settings.backoff.max * 1000 },
    stableUptimeMs: settings.stable_uptime * 1000,
    failureThreshold: settings.failure_threshold,
    startGraceMs: settings.start_grace * 1000,
    restart: settings.restart,
    minUptimeMs: settings.min_uptime * 1000,
  };
}

export function initialContext(input: MonitorInput): MonitorContext {
  const configured = new Set(input.proxies.map((p) => p.id));
  return {
    settings: input.settings,
    checkRounds: 0,
    lastCheckAt: null,
    intervalStartedAt: 0,
    nextTickAt: 0,
    proxySettings: Object.fromEntries(input.proxies.map((p) => [p.id, p.settings ?? {}])),
    retiredStats: Object.fromEntries(Object.entries(input.retired ?? {}).filter(([id]) => !configured.has(id))),
    initialProxies: input.proxies,
  };
}

export function addStats(a: ProxyStats, b: ProxyStats): ProxyStats {
  return {
    checks: a.checks + b.checks,
    restarts: a.restarts + b.restarts,
    successes: a.successes + b.successes,
    failures: a.failures + b.failures,
  };
}
