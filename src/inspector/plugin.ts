// The inspector page on the daemon's own HTTP server: the page, its script and style, the charts
// (laid out when dist/ is built), and a server-sent event stream of the feed. Nothing is fetched elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from '../metrics/prom.ts';
import { createFeed, type Batch, type FeedSources } from './feed.ts';
import { MACHINES, type MachineName } from './graph.ts';

export interface InspectorOptions extends FeedSources {
  /** Where the count of dropped slow clients goes. */
  metrics?: Registry;
}

/** Bytes a page's event stream may have queued (unsent) before the page is dropped as too slow. */
export const SSE_MAX_QUEUED_BYTES = 1024 * 1024;
/**
 * Event streams open at once (a page holds one): each holds a connection for as long as the page is
 * open, and reads need no token, so without a bound anyone on the host could take all the API's
 * connections (128) and leave /healthz, /metrics and the CLI unanswered.
 */
export const SSE_MAX_STREAMS = 16;

const PUBLIC = join(import.meta.dirname, 'public');
const SCRIPT = 'text/javascript; charset=utf-8';
const ASSETS: Record<string, string> = {
  'inspector.js': SCRIPT,
  'format.js': SCRIPT,
  'table.js': SCRIPT,
  'details.js': SCRIPT,
  'timeline.js': SCRIPT,
  'paths.js': SCRIPT,
  'inspector.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};
/**
 * The charts the page shows, each machine whole (the proxy's also in the details panel): laid out
 * when dist/ was built (draw-charts.ts); from the sources (tests), here, on first request.
 */
async function chart(name: MachineName): Promise<string> {
  const built = join(import.meta.dirname, 'charts', `${name}.svg`);
  if (existsSync(built)) return readFileSync(built, 'utf8');
  return (await import('./draw-charts.ts')).drawChart(name);
}
/** The page may load only what this server serves. */
const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export async function inspectorPlugin(app: FastifyInstance, options: InspectorOptions): Promise<void> {
  const files = new Map(['index.html', ...Object.keys(ASSETS)].map((name) => [name, readFileSync(join(PUBLIC, name), 'utf8')]));
  const feed = createFeed(options);
  const charts = new Map<string, Promise<string>>();
  const streams = new Set<ServerResponse>();
  const dropped =
    options.metrics &&
    new Counter({
      name: 'proxy_monitor_inspector_clients_dropped_total',
      help: 'Inspector pages dropped because they did not read their event stream (more than 1 MiB queued).',
      registers: [options.metrics],
    });

  app.get('/inspect', (_request, reply) =>
    reply.header('content-security-policy', CSP).type('text/html; charset=utf-8').send(files.get('index.html')),
  );

  app.get<{ Params: { file: string } }>('/inspect/assets/:file', (request, reply) => {
    const { file } = request.params;
    if (!Object.hasOwn(ASSETS, file)) return reply.callNotFound();
    return reply.type(ASSETS[file]).send(files.get(file));
  });

  app.get<{ Params: { file: string } }>('/inspect/charts/:file', async (request, reply) => {
    const name = request.params.file.replace(/\.svg$/, '') as MachineName;
    if (!Object.hasOwn(MACHINES, name)) return reply.callNotFound();
    if (!charts.has(name)) charts.set(name, chart(name));
    return reply.type('image/svg+xml').send(await charts.get(name));
  });

  app.get('/inspect/events', (request, reply) => {
    if (streams.size >= SSE_MAX_STREAMS)
      return reply
        .code(503)
        .header('retry-after', '30')
        .send({ error: 'too_many_streams', message: `${SSE_MAX_STREAMS} inspector pages are open already: close one, or retry later` });
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    // A page that stops reading (a frozen tab, a stalled network) would have every batch queued in
    // the daemon's memory: past the bound it is dropped (its EventSource reconnects and starts afresh).
    const write = (batch: Batch) => {
      if (stream.writableLength > SSE_MAX_QUEUED_BYTES) {
        if (!stream.destroyed) dropped?.inc();
        stream.destroy();
        return;
      }
      stream.write(`data: ${JSON.stringify(batch)}\n\n`);
    };
    write(feed.current());
    const unsubscribe = feed.subscribe(write);
    streams.add(stream);
    request.raw.on('close', () => {
      unsubscribe();
      streams.delete(stream);
    });
  });

  // An open stream would keep the server from closing: end them all when the daemon stops.
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    done();
  });
}
