// Where the CLI finds its daemon, as `supervisorctl -c` does: the daemon's own config file says
// where its API listens (api.listen) and which token it wants (api.token). The file is --config,
// else $PROXY_MONITOR_CONFIG, else the first of DEFAULT_CONFIGS that exists; --url/--token and
// $PROXY_MONITOR_URL/$PROXY_MONITOR_TOKEN still win. Only yaml is loaded (lazily): the CLI must
// start fast, so nothing of the daemon (schema, fastify, xstate, sqlite, pino) is imported here.
import { SENDABLE_TOKEN, TOKEN_EXPECTED } from '../config/token.ts';
import { connectableHost, hostPortExpected, parseHostPort } from '../config/host-port.ts';
import { readConfigText } from '../config/read.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_CONFIGS = ['/etc/proxy-monitor/config.yaml', './config/default.yaml'];

/** A config file that cannot tell where the daemon is: a usage error (exit 2). */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

export interface DiscoveryInput {
  flags: { url?: string; token?: string; config?: string };
  env: Record<string, string | undefined>;
  /** A note for stderr (an implicit config file that exists but cannot be read). */
  warn(text: string): void;
  /** Config files tried when neither --config nor $PROXY_MONITOR_CONFIG is given. */
  defaults?: string[];
}

export interface DaemonTarget {
  url: string;
  token?: string;
  /** The config file whose api.listen gave the URL, named when the daemon cannot be reached. */
  listenFrom?: string;
}

type Read = { file: string; text: string } | { file: string; error: NodeJS.ErrnoException };

function read(file: string): Read {
  try {
    return { file, text: readConfigText(file) };
  } catch (error) {
    return { file, error: error as NodeJS.ErrnoException };
  }
}

/**
 * The config file to read: the one named, else the first default that exists (or none). A named
 * file that cannot be read is an error, unless the URL is given too (the file was wanted for its
 * token: a 0600 service file read by an operator who passes --url is said, not fatal).
 */
function configFile(input: DiscoveryInput, urlGiven: boolean): Read | undefined {
  const named = input.flags.config ?? (input.env.PROXY_MONITOR_CONFIG || undefined);
  if (named !== undefined) {
    const got = read(named);
    if ('error' in got && !urlGiven)
      throw new DiscoveryError(`cannot read the config file ${named}: ${got.error.code ?? got.error.message}`);
    return got;
  }
  for (const file of input.defaults ?? DEFAULT_CONFIGS) {
    const got = read(file);
    if (!('error' in got) || got.error.code !== 'ENOENT') return got;
  }
  return undefined;
}

export async function findDaemon(input: DiscoveryInput): Promise<DaemonTarget> {
  const { flags, env } = input;
  const url = flags.url ?? (env.PROXY_MONITOR_URL || undefined);
  const token = flags.token ?? (env.PROXY_MONITOR_TOKEN || undefined);
  if (token !== undefined && !SENDABLE_TOKEN.test(token))
    throw new DiscoveryError(`${flags.token !== undefined ? '--token' : 'PROXY_MONITOR_TOKEN'}: ${TOKEN_EXPECTED}`);
  const explicit = flags.config !== undefined || !!env.PROXY_MONITOR_CONFIG;
  if (url !== undefined && token !== undefined && !explicit) return { url, token };

  const found = configFile(input, url !== undefined);
  if (found && 'error' in found) {
    input.warn(
      `proxy-monitor: cannot read ${found.file} (${found.error.code}), so its api.listen and api.token are unknown; using ${url ?? DEFAULT_URL} (pass --config FILE, or --url and --token)\n`,
    );
  }
  const api = found && 'text' in found ? await apiSection(found.file, found.text, input.warn, url !== undefined) : {};
  if (url !== undefined || api.listen === undefined) return { url: url ?? DEFAULT_URL, token: token ?? api.token };
  return { url: urlOf(found!.file, api.listen), token: token ?? api.token, listenFrom: `api.listen in ${found!.file}` };
}

/** api.listen and api.token of a config file, checked just enough to connect. */
async function apiSection(
  file: string,
  text: string,
  warn: (text: string) => void,
  urlGiven: boolean,
): Promise<{ listen?: string; token?: string }> {
  // yaml is CommonJS under Node: its exports are the module's `default`, natively and in the
  // bundle alike (esbuild's lazy chunk of a CommonJS module exports `default` only).
  const { isMap, parseDocument } = ((await import('yaml')) as unknown as { default: typeof import('yaml') }).default;
  const doc = parseDocument(text, { merge: true });
  let api: unknown;
  if (doc.errors.length) {
    const error = `${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`;
    // A file being edited (the daemon runs on the config it loaded): its api section finds the
    // daemon, so that `status` works meanwhile, if it is whole: a mapping the errors all come after
    // (an error inside it, an unclosed quote say, would make the rest of the file its token).
    const node = doc.get('api', true);
    const whole = isMap(node) && node.range && doc.errors.every((e) => e.code !== 'DUPLICATE_KEY' && e.pos[0] > node.range![2]);
    if (!whole) throw new DiscoveryError(error);
    api = node.toJSON();
    warn(`proxy-monitor: ${error}; its api section, before the error, was still read\n`);
  } else {
    const value = doc.toJS() as { api?: { listen?: unknown } | null; proxy?: { proxies?: unknown } | null } | null;
    // Empty, or cut off after "proxy:" or "proxies:" with no api.listen before (as an editor or a
    // script leaves it mid-write: the daemon keeps its config then): it cannot say where the daemon
    // listens, and the default may be another's. (A file whose proxies are all commented out, with
    // its api.listen, says where.)
    const mapping = value !== null && typeof value === 'object' && !Array.isArray(value);
    const cut = !mapping || ((value.proxy === null || value.proxy?.proxies === null) && value.api?.listen === undefined);
    if (cut && !urlGiven)
      throw new DiscoveryError(`${file} is empty or cut off (mid-edit?): it does not say where the daemon listens; pass --url`);
    api = cut ? undefined : value.api;
  }
  if (api === undefined || api === null) return {};
  if (typeof api !== 'object') throw new DiscoveryError(`${file}: api: expected a mapping`);
  const { listen, token } = api as Record<string, unknown>;
  if (listen !== undefined && typeof listen !== 'string')
    throw new DiscoveryError(`${file}: api.listen: expected "host:port", got ${JSON.stringify(listen)}`);
  if (token !== undefined && (typeof token !== 'string' || token === ''))
    throw new DiscoveryError(`${file}: api.token: expected a non-empty string`);
  if (token !== undefined && !SENDABLE_TOKEN.test(token)) throw new DiscoveryError(`${file}: api.token: ${TOKEN_EXPECTED}`);
  return { listen, token };
}

function urlOf(file: string, listen: string): string {
  const address = parseHostPort(listen, 0);
  if (!address) throw new DiscoveryError(`${file}: api.listen: ${hostPortExpected(0)}, got "${listen}"`);
  if (address.port === 0) {
    throw new DiscoveryError(
      `${file}: api.listen is "${listen}": port 0 lets the daemon take any free port, which the file cannot tell; ` +
        'pass --url with the url of the daemon\'s "api listening" log line',
    );
  }
  const host = connectableHost(address.host);
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
