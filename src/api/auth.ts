// Who may change things. Reads are open (status and metrics reveal no secret); every mutating request
// must carry the bearer token when one is configured. Without a token, mutations are accepted only
// when the API listens on loopback, where only local users can reach it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const isReadMethod = (method: string): boolean => READ_METHODS.has(method);

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export function isLoopback(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return loopback.check(mapped[1], 'ipv4');
  return loopback.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}

/** Digests first: timingSafeEqual needs equal lengths, and comparing digests leaks no length either. */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export interface Caller {
  /** For the audit log: "api:<remote address>", "signal:SIGHUP" for a reload by signal, "system" for the daemon's own. */
  user: string;
  auth: 'token' | 'loopback' | 'signal' | 'none';
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

export interface AuthOptions {
  token(): string | undefined;
  /** The address the server is bound to. */
  boundAddress(): string;
}

/** An onRequest hook: it runs before the body is read, so a refused caller cannot make us parse one. */
export function requireAuthForMutations(options: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (isReadMethod(request.method)) return;
    const user = `api:${request.ip}`;
    const token = options.token();
    if (token === undefined) {
      if (!isLoopback(options.boundAddress())) {
        throw new HttpError(
          403,
          'forbidden',
          'changes are refused: no api.token (or PROXY_MONITOR_TOKEN) is set and the API does not listen on loopback',
        );
      }
      request.caller = { user, auth: 'loopback' };
      return;
    }
    // The scheme is case-insensitive (RFC 9110 11.1); the token is not.
    const match = /^Bearer +(.+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !sameToken(match[1], token)) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(
        401,
        'unauthorized',
        match
          ? 'the token sent is not the api.token: this request changes state and is refused'
          : 'this request changes state: send "Authorization: Bearer <token>" with the api.token',
      );
    }
    request.caller = { user, auth: 'token' };
  };
}

/** The caller the auth hook admitted; every mutating route has one. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error(`${request.method} ${request.url} ran without passing the auth hook`);
  return request.caller;
}
