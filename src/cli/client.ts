// The CLI's HTTP client for the daemon's API (node:http). Every failure becomes a ClientError
// whose message is one line an operator can act on.
import { API_BASE } from '../api/base.ts';
import type { ErrorReply } from '../api/schemas.ts';

export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    message: string,
    /** The fields the daemon refused, when it named them (a 400). */
    readonly issues?: ErrorReply['issues'],
  ) {
    super(message);
  }
}

/** A command that changes state was sent and not answered: it may have been carried out, or not. */
export class OutcomeUnknown extends ClientError {
  override name = 'OutcomeUnknown';
}

export interface ClientOptions {
  url: string;
  token?: string;
  /** Where the URL came from ("api.listen in /etc/proxy-monitor/config.yaml"), named when it cannot be reached. */
  source?: string;
  timeoutMs?: number;
}

export type Client = ReturnType<typeof createClient>;

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the daemon running, and is this its api.listen?)',
  ENOTFOUND: 'unknown host',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
};

function networkReason(error: NodeJS.ErrnoException): string {
  return (error.code && NETWORK_ERRORS[error.code]) ?? error.message;
}

/** One HTTP exchange with node:http: global fetch (undici) alone costs the CLI ~200 ms of start-up. */
async function exchange(method: string, target: URL, headers: Record<string, string>, body: string | undefined, timeoutMs: number) {
  // node:https loads TLS: only for an https:// --url.
  const { request: send } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = send(target, { method, headers, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
    // Written whole: from then on the daemon may act on it, answered or not.
    request.on('error', (error) => reject(Object.assign(error, { sent: request.writableFinished })));
    request.end(body);
  });
}

/**
 * `path` under the URL's own path, not in place of it: behind a reverse proxy the daemon may be at
 * http://host/prefix (new URL('/api/...', base) would drop /prefix).
 */
function endpoint(url: string, path: string): URL {
  const base = new URL(url);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const target = new URL(path.replace(/^\//, ''), base);
  // A query in --url (a reverse proxy's own key, say) goes with every request, beside the command's.
  for (const [key, value] of base.searchParams) if (!target.searchParams.has(key)) target.searchParams.append(key, value);
  return target;
}

/**
 * The URL as an error message may show it: a password in it and the values of its query (a reverse
 * proxy's key) are secrets, and stderr ends up in cron mails and CI logs.
 */
export function shownUrl(url: string | URL): string {
  let shown: URL;
  try {
    shown = new URL(url);
  } catch {
    return String(url);
  }
  if (!shown.password && !shown.search) return String(url);
  if (shown.password) shown.password = '***';
  for (const key of new Set(shown.searchParams.keys())) shown.searchParams.set(key, '***');
  return shown.href.replace(/%2A%2A%2A/g, '***');
}

export function createClient({ url, token, source, timeoutMs = 10_000 }: ClientOptions) {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: { status: number; text: string };
    const target = endpoint(url, path);
    try {
      response = await exchange(method, target, headers, body === undefined ? undefined : JSON.stringify(body), timeoutMs);
    } catch (error) {
      const where = `the proxy-monitor daemon at ${shownUrl(url)}${source ? ` (${source})` : ''}`;
      const reason = networkReason(error as NodeJS.ErrnoException);
      // A read can be asked again; a change sent may have been made: asking again could make it twice.
      if (method !== 'GET' && (error as { sent?: boolean }).sent)
        throw new OutcomeUnknown(
          `${method} ${path} was sent to ${where}, ${(error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `not answered within ${timeoutMs / 1000} s` : `and the connection ended (${reason})`}: it may still be carried out; check with \`proxy-monitor status\` before sending it again`,
        );
      throw new ClientError(`cannot reach ${where}: ${reason}`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(response.text);
    } catch {
      // The whole URL: behind a reverse proxy, the path asked is not the API's own.
      throw new ClientError(`${method} ${shownUrl(target)}: HTTP ${response.status}, not a proxy-monitor API answer`);
    }
    if (response.status < 200 || response.status > 299) {
      const message = (payload as Partial<ErrorReply>).message ?? `HTTP ${response.status}`;
      // Without a token, where to give one; with one, the daemon says it was refused.
      const hint = response.status === 401 && !token ? ' (pass --token or set PROXY_MONITOR_TOKEN)' : '';
      throw new ClientError(`${message}${hint}`, (payload as Partial<ErrorReply>).issues);
    }
    return payload as T;
  }

  return {
    url,
    get: <T>(path: string) => request<T>('GET', `${API_BASE}${path}`),
    post: <T>(path: string) => request<T>('POST', `${API_BASE}${path}`),
    patch: <T>(path: string, body: unknown) => request<T>('PATCH', `${API_BASE}${path}`, body),
  };
}
