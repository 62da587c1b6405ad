// Every error leaves the API as `{ error, message, issues? }`. Bad input is a 400 that names each
// field with the same wording as config errors ("check_interval: expected seconds from 1 to 86400 (1 s to 1 day), got -5").
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type * as z from 'zod';
import { formatIssues, parseOptions } from '../config/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { ErrorReply } from './schemas.ts';

/** Raised by a route when the input is well-formed but not acceptable as a whole. */
export class BadRequest extends Error {
  readonly statusCode = 400;
  constructor(readonly issues: NonNullable<ErrorReply['issues']>) {
    super(renderIssues(issues));
  }
}

const render = (issue: { field: string; message: string }) => (issue.field ? `${issue.field}: ${issue.message}` : issue.message);

/** "querystring: since: expected ...; until: expected ...": where the input was, then each field. */
function renderIssues(issues: NonNullable<ErrorReply['issues']>): string {
  const where = new Set(issues.map((issue) => issue.in));
  return where.size === 1
    ? `${issues[0].in}: ${issues.map(render).join('; ')}`
    : issues.map((issue) => `${issue.in}: ${render(issue)}`).join('; ');
}

export function issuesOf(zodIssues: readonly z.core.$ZodIssue[], where: string): NonNullable<ErrorReply['issues']> {
  return formatIssues(zodIssues).map((issue) => ({ in: where, field: issue.path, message: issue.message }));
}

class ValidationFailure extends Error {
  constructor(readonly zodIssues: readonly z.core.$ZodIssue[]) {
    super('invalid request');
  }
}

/**
 * fastify-type-provider-zod's validator flattens zod issues into Ajv-style errors and drops the
 * input; ours keeps the issues (with their input) so formatIssues can phrase them like config errors.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data, parseOptions);
    return result.success ? { value: result.data } : { error: new ValidationFailure(result.error.issues) };
  };

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', what);

export function errorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const body = describe(error);
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 500) {
      logger.error({ err: error, method: request.method, url: request.url }, 'api request failed');
      return reply.code(500).send({ error: 'internal_error', message: 'internal error (see the daemon log)' });
    }
    return reply.code(status).send(body);
  };
}

/** Input refused as a whole, before any schema could name a field: in the shape of every bad input. */
const badInput = (where: string, message: string): ErrorReply => ({
  error: 'invalid_request',
  message: `${where}: ${message}`,
  issues: [{ in: where, field: '', message }],
});

function describe(error: FastifyError | Error): ErrorReply {
  if (error instanceof ValidationFailure) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = issuesOf(error.zodIssues, where);
    return { error: 'invalid_request', message: renderIssues(issues), issues };
  }
  if (error instanceof BadRequest) return { error: 'invalid_request', message: error.message, issues: error.issues };
  if (error instanceof HttpError) return { error: error.code, message: error.message };
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { error: 'body_too_large', message: error.message };
  // Refused by the router before any route (and its schema) is chosen (frameworkErrors).
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return badInput('path', 'a path segment longer than 100 characters (a proxy id has at most 64)');
  if (code === 'FST_ERR_BAD_URL') return badInput('path', 'not a valid URL (a bad percent-encoding)');
  // A body that does not parse is bad input like any other, in the same shape.
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return badInput('body', 'expected a JSON object, got an empty body');
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY') return badInput('body', 'expected a JSON object, got invalid JSON');
  return { error: code ? code.replace(/^FST_ERR_/, '').toLowerCase() : 'bad_request', message: error.message };
}

/**
 * No route for this method and path: 405 with `Allow` when the path is served under other methods
 * (GET of a command, say), 404 otherwise, and when a route of this method found nothing for the
 * path (`callNotFound`: an inspector asset that does not exist). `methodsOf` names the methods a
 * path is served under.
 */
export function notFoundHandler(methodsOf: (path: string) => string[]) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = methodsOf(request.url.split('?')[0]);
    if (allowed.length && !allowed.includes(request.method))
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: 'method_not_allowed',
          message: `${request.method} ${request.url}: expected ${allowed.join(' or ')}`,
        } satisfies ErrorReply);
    return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` } satisfies ErrorReply);
  };
}

/** Every route's path as a pattern with its methods, as routes are added (`onRoute`): for notFoundHandler. */
export function routeMethods(app: Pick<FastifyInstance, 'addHook'>) {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    // Parameters (":id") match one segment, a wildcard ("*") the rest.
    const escaped = route.url
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/:[^/]+/g, '[^/]+')
      .replace(/\\\*/g, '.*');
    routes.push({ pattern: new RegExp(`^${escaped}$`), methods: [route.method].flat() });
  });
  return (path: string) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
}

/**
 * What Node's HTTP parser refuses before fastify sees a request (headers over Node's 16 KiB, a
 * request that is not HTTP, one that did not arrive in time): answered in the same shape too.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reply]: [number, ErrorReply] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, { error: 'headers_too_large', message: 'request headers over 16 KiB' }]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, { error: 'request_timeout', message: 'the request did not arrive in time' }]
        : [400, { error: 'invalid_request', message: 'not a valid HTTP request' }];
  const body = JSON.stringify(reply);
  // Not on a keep-alive socket whose previous reply has begun (Node's socketOnError checks the same):
  // written now, the error would land inside that reply; the client is only cut off.
  if (socket.writable && !replyBegun(socket)) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Node's http server keeps the reply in progress on its socket as `_httpMessage`. */
const replyBegun = (socket: import('node:stream').Duplex) =>
  (socket as { _httpMessage?: import('node:http').ServerResponse | null })._httpMessage?.headersSent === true;

/**
 * A request that asks to send its body only if it will be taken (`Expect: 100-continue`, which curl
 * sends for bodies over 1 KiB): one announced over `limit` is refused before it is sent, in the
 * same shape as one that was sent; Node would answer 100 Continue, then drop the connection midway.
 */
export function checkContinue(limit: number, handle: (request: IncomingMessage, response: ServerResponse) => void) {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > limit) {
      const body = JSON.stringify({
        error: 'body_too_large',
        message: `Request body is too large (over ${limit} bytes)`,
      } satisfies ErrorReply);
      response.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(body);
      return;
    }
    response.writeContinue();
    handle(request, response);
  };
}
