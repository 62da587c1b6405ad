// The inspector page (src/inspector/) behind its routes, loaded on the first request under /inspect:
// its layout engine (elkjs) and charts cost ~25 MiB of RSS (bench/README.md, "Memory") that a daemon
// nobody inspects should not pay. Fastify takes no routes once listening, so the page's plugin runs
// in a fastify instance of its own, built on first use, and requests under /inspect are handed to it.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { InspectorOptions } from '../inspector/plugin.ts';
import type { Logger } from '../logging/logger.ts';
import { errorHandler, notFoundHandler, routeMethods } from './errors.ts';
import type { ApiApp } from './context.ts';

export function lazyInspector(app: ApiApp, options: InspectorOptions, logger: Logger): void {
  let inner: Promise<FastifyInstance> | undefined;
  const load = () =>
    (inner ??= (async () => {
      const { inspectorPlugin } = await import('../inspector/plugin.ts');
      const page = Fastify({ logger: false });
      page.setErrorHandler(errorHandler(logger));
      page.setNotFoundHandler(notFoundHandler(routeMethods(page)));
      await page.register(inspectorPlugin, options);
      await page.ready();
      return page;
    })());

  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    const page = await load();
    reply.hijack();
    page.routing(request.raw, reply.raw);
  };
  app.get('/inspect', handOver);
  // What people type: relative, so that it also lands behind a reverse proxy's prefix.
  app.get('/inspect/', (_request, reply) => reply.redirect('../inspect'));
  app.get('/inspect/*', handOver);
  // Its event streams are connections of our server: the page's own preClose ends them.
  app.addHook('preClose', async () => {
    if (inner) await (await inner).close();
  });
}
