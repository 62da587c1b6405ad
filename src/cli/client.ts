// The CLI's HTTP client for the daemon's API (global fetch). Every failure becomes a ClientError
// whose message is one line an operator can act on.
import { API_BASE, type ErrorReply } from '../api/schemas.ts';

export class ClientError extends Error {
  override name = 'ClientError';
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

function networkReason(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'no answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (cause?.code && NETWORK_ERRORS[cause.code]) ?? cause?.message ?? (error as Error).message;
}

export function createClient({ url, token, source, timeoutMs = 10_000 }: ClientOptions) {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(path, url), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ClientError(`cannot reach the proxy-monitor daemon at ${url}${source ? ` (${source})` : ''}: ${networkReason(error)}`);
    }
    const text = await response.text();
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new ClientError(`${method} ${path}: HTTP ${response.status}, not a proxy-monitor API answer`);
    }
    if (!response.ok) {
      const message = (payload as Partial<ErrorReply>).message ?? `HTTP ${response.status}`;
      const hint = response.status === 401 ? ' (pass --token or set PROXY_MONITOR_TOKEN)' : '';
      throw new ClientError(`${message}${hint}`);
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
