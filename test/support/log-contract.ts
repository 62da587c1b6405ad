// The design document's log contract (section 日志和监控), as data: the envelope every line has, and
// each event it shows with the fields it gives it. Tests check real daemon output against it, so a
// renamed field, a changed type or a wrong `component` fails them.

/** A field's expected value: a literal, or the JSON type (`iso` is an ISO-8601 UTC time string). */
export type Expect = string | number | boolean | { type: 'string' | 'number' | 'boolean' | 'object' | 'iso' };
const string = { type: 'string' } as const;
const number = { type: 'number' } as const;
const iso = { type: 'iso' } as const;

/** 日志和监控 > 关键日志事件: every example has these four (the performance and audit ones omit
 * `component`; the issue asks for it on every line, `proxy-monitor` for the monitor's own). */
export const ENVELOPE: Record<string, Expect> = { timestamp: iso, level: string, message: string, component: string };

export interface DocumentedEvent {
  /** Where the design document shows it. */
  section: string;
  /** Our message for it (the document's are Chinese; messages may be English). */
  message: string;
  /** Dotted paths into the line. */
  fields: Record<string, Expect>;
}

export function documentedEvents(proxyType: string): DocumentedEvent[] {
  const proxy = { proxy_id: string, proxy_type: proxyType };
  return [
    {
      section: '日志和监控 > 关键日志事件 > 1. 监控启动 (component start)',
      message: 'proxy monitor started',
      fields: {
        level: 'info',
        component: 'proxy-monitor',
        'config.check_interval': number,
        'config.restart_cooldown': number,
        'config.max_restarts': number,
      },
    },
    {
      section: '日志和监控 > 关键日志事件 > 2. 进程崩溃检测 (crash detected)',
      message: 'proxy crash detected',
      fields: { level: 'warn', component: 'proxy', ...proxy },
    },
    {
      section: '日志和监控 > 关键日志事件 > 3. 自动重启 (restart succeeded)',
      message: 'proxy restart succeeded',
      fields: { level: 'info', component: 'proxy', ...proxy, duration_ms: number, reason: string },
    },
    {
      section: '日志和监控 > 关键日志事件 > 4. 性能指标 (performance)',
      message: 'health check round finished',
      fields: {
        level: 'info',
        component: 'proxy-monitor',
        operation: 'proxy_health_check',
        duration_ms: number,
        checked_proxies: number,
        performance: true,
      },
    },
    {
      section: '日志和监控 > 关键日志事件 > 5. 审计日志 (audit)',
      message: 'audit',
      fields: {
        level: 'info',
        component: 'proxy-monitor',
        action: 'proxy_auto_restart',
        user: 'system',
        ...proxy,
        reason: string,
        audit: true,
      },
    },
    {
      section: '日志和监控 > 状态变更日志 (state change): component is the proxy type',
      message: 'proxy state changed',
      fields: { level: 'info', component: proxyType, ...proxy, state_from: string, state_to: string, reason: string, state_change: true },
    },
  ];
}

const at = (line: Record<string, unknown>, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), line);

/** What is wrong with a line against the expected fields: one message per field, empty when it conforms. */
export function fieldProblems(line: Record<string, unknown>, fields: Record<string, Expect>): string[] {
  const problems: string[] = [];
  for (const [path, expected] of Object.entries(fields)) {
    const value = at(line, path);
    const ok =
      typeof expected !== 'object'
        ? value === expected
        : expected.type === 'iso'
          ? typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value))
          : expected.type === 'object'
            ? value !== null && typeof value === 'object'
            : typeof value === expected.type;
    if (!ok) problems.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(value)}`);
  }
  return problems;
}

/** A raw line's keys, top level, in order: a duplicate would be a line ELK reads differently than jq. */
export function topLevelKeys(raw: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i];
    if (ch === '"') {
      let j = i + 1;
      while (raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      if (depth === 1 && raw[j + 1] === ':') keys.push(JSON.parse(raw.slice(i, j + 1)));
      i = j + 1;
      continue;
    }
    if (ch === '{' || ch === '[') depth++;
    if (ch === '}' || ch === ']') depth--;
    i++;
  }
  return keys;
}
