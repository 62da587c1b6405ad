// Web pages must not drive the API. A page the operator opens can send requests to 127.0.0.1 (a
// cross-site POST needs no CORS preflight when its body is text/plain or a form), and a page on a
// name the attacker re-points at 127.0.0.1 (DNS rebinding) is even same-origin with us. So, before
// any route and any token check (Jupyter, Docker and Syncthing do the same):
// - every request must name us in Host: the listen address, localhost, a loopback address, an
//   address of this host when listening on a wildcard, or a name in api.allowed_hosts;
// - a request that changes state must come from no page at all (no Origin: the CLI, curl) or from
//   our own origin (the /inspect page), and not say `Sec-Fetch-Site: cross-site` or `same-site`;
// - its body, if any, must be application/json: the types a page can send without a preflight
//   (text/plain, forms) are never ours. A POST with no body and no Content-Type (what the CLI sends
//   for stop, restart...) is accepted: a page cannot send one without an Origin.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyRequest } from 'fastify';
import { isLoopback, isReadMethod } from './auth.ts';
import { HttpError } from './errors.ts';

export interface BrowserGuardOptions {
  /** The address the server is bound to. */
  boundAddress(): string;
  /** api.allowed_hosts, read per request so a reload can change it. */
  allowedHosts(): string[];
}

const forbidden = (message: string) => new HttpError(403, 'forbidden', message);

/** A name as Hosts are compared: lower-cased, without the root's trailing dot. */
const canonical = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** "Host: [::1]:8080" -> "::1"; names lower-cased, without a trailing dot. */
export function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(host);
  return canonical(bracketed ? bracketed[1] : host.replace(/:\d*$/, ''));
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

function ownAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.toLowerCase())));
}

export function hostAllowed(hostname: string, bound: string, allowed: readonly string[]): boolean {
  if (hostname === 'localhost' || hostname === bound.toLowerCase()) return true;
  if (isIP(hostname) && (isLoopback(hostname) || (WILDCARDS.has(bound) && ownAddresses().has(hostname)))) return true;
  // An entry is a name or an address without a port (config: hostnameSchema): read as hostnameOf would,
  // an IPv6 address ending in digits ("fd00::1") lost them as if they were a port.
  return allowed.some((name) => canonical(name) === hostname);
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** An onRequest hook, installed before the auth hook. */
export function refuseBrowsers(options: BrowserGuardOptions) {
  return async (request: FastifyRequest) => {
    const host = request.headers.host;
    if (!host) throw forbidden('refused: the request has no Host header');
    const hostname = hostnameOf(host);
    if (!hostAllowed(hostname, options.boundAddress(), options.allowedHosts())) {
      throw forbidden(
        `refused: Host "${hostname}" is not this daemon's address, localhost or a loopback address (a web page may have re-pointed that name here: DNS rebinding); list the name in api.allowed_hosts if you use it`,
      );
    }
    if (isReadMethod(request.method)) return;
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, host)) {
      throw forbidden(
        `refused: a request that changes state from another origin (${origin}) than this daemon's (${host}): web pages cannot drive this API`,
      );
    }
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      throw forbidden(`refused: the browser marked this request Sec-Fetch-Site: ${site}: web pages cannot drive this API`);
    }
    const type = request.headers['content-type'];
    if ((type !== undefined || hasBody(request)) && !/^application\/json\s*(;|$)/i.test(type ?? '')) {
      throw forbidden(`refused: a request body must be application/json (got ${type === undefined ? 'no Content-Type' : `"${type}"`})`);
    }
  };
}

/** The page's origin must be the one it reached us at: scheme http(s), same host and port. */
function sameOrigin(origin: string, host: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
}
