// The API server over the simulated supervisor (test/support/harness.ts), a real SQLite store in a
// temp dir, and a logger whose lines the test can read; listening on 127.0.0.1, port 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller } from '../../src/api/auth.ts';
import type { ReloadOutcome } from '../../src/api/context.ts';
import { createApiServer } from '../../src/api/server.ts';
import Fastify from 'fastify';
import { createRecent } from '../../src/inspector/recent.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { registerGauges } from '../../src/metrics/gauges.ts';
import { createLiveness } from '../../src/metrics/liveness.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { createRecorder } from '../../src/store/recorder.ts';
import { openStore } from '../../src/store/sqlite.ts';
import { startHarness, type HarnessOptions } from '../support/harness.ts';

export interface ApiHarnessOptions extends HarnessOptions {
  token?: string;
  allowedHosts?: string[];
  listen?: string;
  reload?: (by: Caller) => Promise<ReloadOutcome>;
}

export type LogLine = Record<string, unknown> & { message: string };

export async function startApi(options: ApiHarnessOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-api-'));
  const store = openStore(dir, { maxAgeMs: 30 * 86_400_000, maxRecords: 10_000 });
  const logLines: LogLine[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } });
  const metrics = createMetrics();
  let now = () => 0;
  const recent = createRecent(() => now());
  const { record } = createRecorder(store, (text) => text);
  const harness = await startHarness({
    ...options,
    hooks: {
      onReport: (report) => {
        record(report);
        metrics.onReport(report);
        recent.onReport(report);
      },
      onOutput: recent.onOutput,
      onCheckRound: (durationMs, checked) => {
        metrics.onCheckRound();
        recent.onCheckRound(durationMs, checked);
      },
    },
  });
  const { clock } = harness.world;
  now = () => clock.now();
  // Liveness reads a clock that can run ahead of the simulated one: time passing with no timer firing,
  // as in a daemon whose tick loop died.
  let stalledMs = 0;
  const liveness = createLiveness(harness.supervisor, { now: () => clock.now() + stalledMs });
  registerGauges(metrics.registry, { supervisor: harness.supervisor, liveness, clock });
  const server = createApiServer({
    supervisor: harness.supervisor,
    store,
    logger,
    clock,
    liveness,
    recent,
    metrics: metrics.registry,
    reload: options.reload ?? (async () => ({ ok: false, error: 'no config file in this test' })),
    token: () => options.token,
    allowedHosts: () => options.allowedHosts ?? [],
    degraded: () => [],
    listen: options.listen ?? '127.0.0.1:0',
  });
  const url = await server.listen();

  async function call(method: string, path: string, init: { body?: unknown; token?: string; rawBody?: string } = {}) {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, { method, headers, body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, text, json: type.includes('json') ? JSON.parse(text) : undefined };
  }

  return {
    ...harness,
    /** The fastify instance, for what only it knows (its routes). */
    app: server.app,
    /** The inspector page's own fastify instance, as /inspect builds it on first use (for its routes). */
    async inspectorApp() {
      const { inspectorPlugin } = await import('../../src/inspector/plugin.ts');
      const page = Fastify({ logger: false });
      await page.register(inspectorPlugin, { supervisor: harness.supervisor, clock, liveness, recent, metrics: metrics.registry });
      return page;
    },
    url,
    server: server.app,
    store,
    logLines,
    metrics,
    recent,
    call,
    get: (path: string) => call('GET', path),
    audits: () => logLines.filter((line) => line.audit === true),
    /** Let `ms` pass for the liveness check only, with no timer of the monitor firing. */
    stall(ms: number) {
      stalledMs += ms;
    },
    async close() {
      await server.close();
      await harness.shutdown();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type ApiHarness = Awaited<ReturnType<typeof startApi>>;

export { API_BASE as API } from '../../src/api/base.ts';

/**
 * Every route fastify has, as `METHOD /path` (HEAD left out: fastify adds one to every GET), read
 * from its own route tree, so a route registered any way at all is listed.
 */
export async function routesOf(app: ApiHarness['app']): Promise<string[]> {
  await app.ready();
  const routes: string[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const path = (parents[depth - 1] ?? '') + m[2];
    parents[depth] = path;
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD' && method !== '-') routes.push(`${method} ${path}`);
  }
  return routes;
}
