// The read routes' replies kept as JSON text. /status and /proxies are read far more often than
// proxies change (dashboards, `watch proxy-monitor status`): building 200 replies, checking them
// against their schemas and serializing them took ~25 ms per request at 200 proxies, and supervision
// waited behind the reads (bench/README.md, "Reads under load"). Here each proxy's reply is checked
// and serialized once per change of its actor (a new context or state value), of the settings or of
// its spec; a request only adds what moves with the clock (as_of, uptime, the window, the cooldown).
// The supervisor's revision says whether anything changed at all since the last read.
import type { ProxySpec } from '../proxy-spec.ts';
import type { Supervisor, SupervisedProxy } from '../supervisor/supervisor.ts';
import { proxyReply as proxySchema, statusReply as statusSchema } from './schemas.ts';
import { iso, lastingState, privilegesReply, timedFields } from './views.ts';

type Sources = Pick<Supervisor, 'proxies' | 'proxy' | 'spec' | 'status' | 'settings' | 'revision'>;

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

export function createReadCache(supervisor: Sources) {
  const entries = new Map<string, Entry>();
  let fleet: { revision: number; entries: Entry[] } | undefined;
  let status: { revision: number; json: string } | undefined;

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
    /** GET /proxies at `now`. */
    proxies(now: number): string {
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
      return `{"as_of":"${iso(now)}","proxies":[${fleet.entries.map((entry) => withTime(entry, now)).join(',')}]}`;
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
