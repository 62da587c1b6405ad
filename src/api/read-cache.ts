// The read routes' replies kept as text. /status, /proxies and /metrics are read far more often than
// proxies change (dashboards, Prometheus, `watch proxy-monitor status`): building 200 replies, checking them
// against their schemas and serializing them took ~25 ms per request at 200 proxies, and supervision
// waited behind the reads (bench/README.md, "Reads under load"). Here each proxy's reply is checked
// and serialized once per change of its actor (a new context or state value), of the settings or of
// its spec; what moves with the clock alone (uptime, the window, the cooldown) is added when the whole
// reply is put together, which is at most once per second while nothing changes: the reply says when
// in `as_of`, and its relative figures are relative to that (the CLI reads them so). Any change (the
// supervisor's revision) makes the next read put it together afresh. /metrics likewise: one scrape's
// text serves the scrapes of the next second while no actor changes (the process's own figures, such
// as its CPU time, are that old at most; the per-proxy gauges are kept per proxy by proxy-gauges.ts).
import type { Exposition } from '../metrics/exposition.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { Supervisor, SupervisedProxy } from '../supervisor/supervisor.ts';
import { proxyReply as proxySchema, statusReply as statusSchema } from './schemas.ts';
import { iso, lastingState, privilegesReply, timedFields } from './views.ts';

type Sources = Pick<Supervisor, 'proxies' | 'proxy' | 'spec' | 'status' | 'settings' | 'revision'>;

/** How long one /proxies or /metrics reply serves while nothing changes: its clock-driven figures are this old at most. */
export const REPLY_REUSE_MS = 1000;

/** The schema is the contract: each proxy's lasting part is checked against it, once per change. */
const lastingSchema = proxySchema.omit({ as_of: true, uptime_s: true, restarts_in_window: true, cooldown_ends_at: true });

interface Entry {
  view: SupervisedProxy;
  /** What the text was made from: a new one of any means a new text. */
  from: { context: unknown; state: unknown; settings: unknown; spec: ProxySpec | undefined };
  /** The lasting fields as a JSON object without its closing brace. */
  open: string;
}

export type ReadCache = ReturnType<typeof createReadCache>;

export function createReadCache(supervisor: Sources, registry: Pick<Exposition, 'metrics' | 'families'>) {
  const entries = new Map<string, Entry>();
  let fleet: { revision: number; entries: Entry[]; reply?: { revision: number; at: number; body: Buffer } } | undefined;
  let status: { revision: number; json: string } | undefined;
  let scrape: { revision: number; families: number; at: number; body: Promise<Buffer> } | undefined;
  const fresh = (kept: { revision: number; at: number } | undefined, now: number) =>
    kept !== undefined && kept.revision === supervisor.revision() && now >= kept.at && now - kept.at < REPLY_REUSE_MS;

  function entryOf(view: SupervisedProxy): Entry {
    const from = { context: view.context, state: view.state, settings: supervisor.settings(), spec: supervisor.spec(view.id) };
    const known = entries.get(view.id);
    if (known && sameSources(known.from, from)) return known;
    const lasting = {
      ...lastingState(view),
      proxy_type: view.type,
      settings: view.settings,
      own_settings: view.ownSettings,
      ...(from.spec && { privileges: privilegesReply(from.spec) }),
    };
    const json = JSON.stringify(lastingSchema.encode(lasting));
    const entry = { view, from, open: json.slice(0, -1) };
    entries.set(view.id, entry);
    return entry;
  }

  const withTime = (entry: Entry, now: number) => `${entry.open},${JSON.stringify(timedFields(entry.view, now)).slice(1)}`;

  return {
    /** GET /status: one text per change of anything. */
    status(): string {
      const revision = supervisor.revision();
      if (status?.revision !== revision) status = { revision, json: JSON.stringify(statusSchema.encode(supervisor.status())) };
      return status.json;
    },
    /** GET /proxies at `now` (or up to REPLY_REUSE_MS before, as its as_of says). */
    proxies(now: number): Buffer {
      const revision = supervisor.revision();
      if (fleet?.revision !== revision) {
        const list = supervisor.proxies().map(entryOf);
        // Removed proxies' texts go with them.
        if (entries.size > list.length) {
          const live = new Set(list.map((entry) => entry.view.id));
          for (const id of entries.keys()) if (!live.has(id)) entries.delete(id);
        }
        fleet = { revision, entries: list };
      }
      if (fresh(fleet.reply, now)) return fleet.reply!.body;
      const body = Buffer.from(`{"as_of":"${iso(now)}","proxies":[${fleet.entries.map((entry) => withTime(entry, now)).join(',')}]}`);
      fleet.reply = { revision, at: now, body };
      return body;
    },
    /** GET /metrics at `now`: concurrent scrapes share one. */
    metrics(now: number): Promise<Buffer> {
      if (!fresh(scrape, now) || scrape?.families !== registry.families) {
        const body = registry.metrics().then((text) => Buffer.from(text));
        scrape = { revision: supervisor.revision(), families: registry.families, at: now, body };
        // A failed scrape is not kept.
        body.catch(() => {
          if (scrape?.body === body) scrape = undefined;
        });
      }
      return scrape!.body;
    },
    /** GET /proxies/ID at `now`; undefined when there is no such proxy. */
    proxy(id: string, now: number): string | undefined {
      const view = supervisor.proxy(id);
      return view && withTime(entryOf(view), now);
    },
  };
}

function sameSources(a: Entry['from'], b: Entry['from']): boolean {
  return a.context === b.context && a.state === b.state && a.settings === b.settings && a.spec === b.spec;
}
