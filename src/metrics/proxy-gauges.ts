// The per-proxy gauges (state, enabled, wanted up, restarts in the window, cap reached), kept as
// Prometheus text per proxy. Through prom-client every scrape walked every actor once per gauge and
// formatted ~1,800 series: ~17 ms at 200 proxies, with supervision waiting behind it (bench/README.md,
// "Reads under load"). Here a proxy's lines are written again only when its actor's context or the
// sliding window's count changes; a scrape joins them. They describe the present, so nothing is
// copied per event and they cannot drift from what `status` and `proxies` report.
import { proxyEnabled, type ProxyPhase } from '../../machines/proxy/context.ts';
import { attemptsInWindow } from '../../machines/proxy/policy.ts';
import type { Clock } from '../clock.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { ProxyView } from '../../machines/monitor/status.ts';

const PHASES = ['unknown', 'running', 'stopped', 'crashed', 'restarting'] as const satisfies readonly ProxyPhase[];

const FAMILIES = [
  ['proxy_monitor_proxy_state', 'The state each proxy is in: 1 for its current state, 0 for the others.'],
  [
    'proxy_monitor_proxy_enabled',
    "1 while a proxy's own monitoring is on (the API's `enabled`: its config flag or the operator's enable/disable), else 0.",
  ],
  [
    'proxy_monitor_proxy_wanted_up',
    '1 while the operator wants a proxy running, 0 after a stop through the API or the CLI (until a start).',
  ],
  ['proxy_monitor_restarts_in_window', 'Automatic restart attempts of each proxy in the sliding hour that the cap counts.'],
  ['proxy_monitor_restart_cap_reached', '1 while a proxy has used every restart attempt the hourly cap allows.'],
] as const;

const HEADERS = FAMILIES.map(([name, help]) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`);

/** Prometheus label value escaping (backslash, double quote, newline). */
const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

interface Entry {
  context: unknown;
  /** What the lines say; a new context that says the same (a check passed) keeps them. */
  says: string;
  /** The window's count is good until then (the oldest counted attempt leaves the hour). */
  until: number;
  /** One block of lines per family, in FAMILIES' order. */
  lines: string[];
}

export type ProxyGauges = ReturnType<typeof createProxyGauges>;

export function createProxyGauges(supervisor: Pick<Supervisor, 'states' | 'revision'>, clock: Pick<Clock, 'now'>) {
  const entries = new Map<string, Entry>();
  /** The text of the last scrape, good while no actor changed and no window count moved. */
  let last: { revision: number; until: number; entries: Entry[]; text: string } | undefined;

  /** The proxy's entry at `now`; `changed` when its lines are not the ones it had. */
  function entryOf(view: ProxyView, now: number): { entry: Entry; changed: boolean } {
    const known = entries.get(view.id);
    if (known && known.context === view.context && now < known.until) return { entry: known, changed: false };
    const c = view.context;
    const counted = attemptsInWindow(c, c.policy, now);
    const enabled = proxyEnabled(c);
    const capReached = counted.length >= c.policy.maxRestarts;
    const until = counted.length ? Math.min(...counted) + c.policy.windowMs : Infinity;
    const says = `${view.phase} ${enabled} ${c.wanted} ${counted.length} ${capReached}`;
    if (known && known.says === says) {
      Object.assign(known, { context: c, until });
      return { entry: known, changed: false };
    }
    const id = `proxy_id="${label(view.id)}"`;
    const entry = {
      context: c,
      says,
      until,
      lines: [
        PHASES.map((state) => `${FAMILIES[0][0]}{${id},state="${state}"} ${view.phase === state ? 1 : 0}\n`).join(''),
        `${FAMILIES[1][0]}{${id}} ${enabled ? 1 : 0}\n`,
        `${FAMILIES[2][0]}{${id}} ${c.wanted === 'up' ? 1 : 0}\n`,
        `${FAMILIES[3][0]}{${id}} ${counted.length}\n`,
        `${FAMILIES[4][0]}{${id}} ${capReached ? 1 : 0}\n`,
      ],
    };
    entries.set(view.id, entry);
    return { entry, changed: true };
  }

  return {
    /** The five families as exposition text, each block ending in a newline. */
    render(): string {
      const revision = supervisor.revision();
      const now = clock.now();
      if (last && last.revision === revision && now < last.until) return last.text;
      const views = supervisor.states();
      let changed = !last || views.length !== last.entries.length;
      const current = views.map((view, i) => {
        const found = entryOf(view, now);
        if (found.changed || found.entry !== last?.entries[i]) changed = true;
        return found.entry;
      });
      if (entries.size > views.length) {
        const live = new Set(views.map((view) => view.id));
        for (const id of entries.keys()) if (!live.has(id)) entries.delete(id);
      }
      const text =
        changed || !last ? HEADERS.map((header, i) => header + current.map((entry) => entry.lines[i]).join('')).join('\n') : last.text;
      last = { revision, until: Math.min(...current.map((entry) => entry.until)), entries: current, text };
      return text;
    },
  };
}
