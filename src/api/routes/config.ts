// Runtime changes: PATCH of proxy.monitor (no proxy restarted; a new check_interval counts from the
// last check round) and a reload of the config file (what SIGHUP does). A PATCH lasts until the next reload or restart,
// which take the file's values again.
import { parseOptions } from '../../config/errors.ts';
import { monitorSettingsSchema } from '../../config/schema.ts';
import { setLogLevel } from '../../logging/logger.ts';
import { callerOf } from '../auth.ts';
import { BadRequest, HttpError, issuesOf } from '../errors.ts';
import { API_BASE } from '../base.ts';
import { configPatch, configReply, errorReplies, noBody, noQuery, reloadReply } from '../schemas.ts';
import type { RoutePlugin } from '../context.ts';

export const configRoutes: RoutePlugin = (app, { deps, audit }, done) => {
  const { supervisor } = deps;

  app.patch(`${API_BASE}/config`, { schema: { body: configPatch, response: { 200: configReply, ...errorReplies } } }, (request) => {
    const current = supervisor.settings();
    const { logger: loggerPatch, ...patch } = request.body;
    const candidate = { ...current, ...patch, backoff: { ...current.backoff, ...patch.backoff } };
    if (candidate.max_memory === null) delete candidate.max_memory; // null removes the limit
    const merged = monitorSettingsSchema.safeParse(candidate, parseOptions);
    if (!merged.success) throw new BadRequest(issuesOf(merged.error.issues, 'body'));
    const next = merged.data;
    // Both sides' keys: a removed max_memory is a change too.
    const changed = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter(
      (key) => JSON.stringify(next[key as keyof typeof next]) !== JSON.stringify(current[key as keyof typeof current]),
    ) as Array<keyof typeof next>;
    const before: Record<string, unknown> = Object.fromEntries(changed.map((key) => [key, current[key] ?? null]));
    const after: Record<string, unknown> = Object.fromEntries(changed.map((key) => [key, next[key] ?? null]));
    const levelBefore = deps.logger.level;
    if (loggerPatch && loggerPatch.level !== levelBefore) {
      before['logger.level'] = levelBefore;
      after['logger.level'] = loggerPatch.level;
    }
    if (changed.length) supervisor.configure(next);
    if (Object.keys(after).length) {
      audit(callerOf(request), { action: 'config_update', reason: 'runtime change through the API', detail: { before, after } });
    }
    // After the audit line: a change to `warn` must not hide its own record.
    if (loggerPatch) setLogLevel(deps.logger, loggerPatch.level, 'api');
    return { config: next, logger: { level: deps.logger.level }, changed: Object.keys(after) };
  });

  app.post(
    `${API_BASE}/reload`,
    { schema: { querystring: noQuery, body: noBody, response: { 200: reloadReply, ...errorReplies } } },
    async (request) => {
      // The daemon audits the reload, whoever asked (this request or SIGHUP).
      const outcome = await deps.reload(callerOf(request));
      if (!outcome.ok) throw new HttpError(422, 'reload_failed', `config not reloaded, the running config is kept: ${outcome.error}`);
      return outcome.changes;
    },
  );
  done();
};
