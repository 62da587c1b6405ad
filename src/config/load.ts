// Reading and validating the config file. Every failure is a ConfigError whose message is one line:
// "<file>: <key path>: <expected ...>" or "<file>:<line>:<col>: invalid YAML: ...".
import { existsSync } from 'node:fs';
import { isDirectory } from '../make-dirs.ts';
import { resolve } from 'node:path';
import { isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { ProxySpec } from '../proxy-spec.ts';
import { type Unexecutable, unexecutable } from '../executable.ts';
import { tlsFileProblems } from './tls-files.ts';
import { ConfigError, formatIssues, formatPath, type ConfigIssue, parseOptions } from './errors.ts';
import type { Host } from './privileges.ts';
import { resolveProxies } from './resolve.ts';
import { readConfigText } from './read.ts';
import { configSchema, type Config } from './schema.ts';

export interface LoadedConfig {
  /** Absolute path of the file (for reloads); messages use the path as it was given. */
  file: string;
  config: Config;
  /** One per proxy.proxies[] entry, in order, with the files to write before starting it. */
  proxies: ProxySpec[];
  /** Keys still accepted under an old name: what to write instead. */
  deprecations: Deprecation[];
  /** Nothing but blanks and comments: the defaults, and no proxy (a reload refuses it, see daemon.ts). */
  empty: boolean;
  /** The file has a proxy.proxies list, if only `[]` (a key without a value is no list: see daemon.ts). */
  proxiesListed: boolean;
  /** `proxies:` with no value: a file cut off there, or every entry commented out. */
  proxiesCut: boolean;
  /**
   * Proxies that cannot be started as things are: a program that cannot be run, a trojan certificate or
   * key trojan would refuse (checked as the file is loaded, off the daemon's thread on a reload).
   */
  unexecutable: Unexecutable[];
}

/**
 * For a start and `validate`: an empty file, or one cut off after `proxies:`, loads as the defaults
 * with no proxy, which is what a truncated file looks like, not what anyone writes to mean it (a
 * reload refuses both while proxies run). No proxy at all is `proxy: {proxies: []}`.
 */
export function refuseTruncated(loaded: LoadedConfig, file: string): void {
  const none = 'write "proxy: {proxies: []}" for a daemon with no proxy';
  if (loaded.empty) throw new ConfigError(file, [{ path: '', message: `the file is empty: expected a configuration (${none})` }]);
  if (loaded.proxiesCut)
    throw new ConfigError(file, [{ path: 'proxy.proxies', message: `expected a list of proxies, got nothing (${none})` }]);
}

export interface Deprecation {
  key: string;
  use: string;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, expected a YAML file',
  ENOTREG: 'not a regular file (a FIFO, socket or device), expected a YAML file',
  ENXIO: 'not a regular file (a FIFO, socket or device), expected a YAML file',
  EFBIG: 'larger than 16 MiB, expected a YAML file',
};

/** Settings given on the command line, which win over the file's. */
export interface ConfigOverrides {
  state_dir?: string;
}

/** How a running daemon reads its file again: the state_dir it uses stays the one typed proxies' files are generated in. */
export interface ReloadOptions extends ConfigOverrides {
  /** A state_dir changed in the file takes effect at the next start, its generated files with it. */
  stateDirInUse?: string;
}

export function loadConfig(file: string, overrides: ReloadOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readConfigText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = READ_ERRORS[code] ?? (err as Error).message;
    throw new ConfigError(file, [{ path: '', message: `cannot read config file: ${why}` }]);
  }
  return parseConfigText(text, file, overrides);
}

/** `file` only names the source in messages and in the result. */
/** `host`: who the daemon is (per-proxy users and capabilities are checked against it). */
export function parseConfigText(text: string, file: string, options: ReloadOptions = {}, host?: Host): LoadedConfig {
  const { stateDirInUse, ...overrides } = options;
  const lineCounter = new LineCounter();
  // merge: `<<: *defaults` (YAML 1.1's merge key), for the many proxies that share most settings.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e): ConfigIssue => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        if (e.code === 'DUPLICATE_KEY') return { path: keyPathAt(text, e.pos[0]) ?? '', line, col, message: 'the key is given twice' };
        if (e.code === 'MULTIPLE_DOCS') return { path: '', line, col, message: 'expected one YAML document, found a second one here' };
        return { path: '', line, col, message: `invalid YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  // A section without a value ("monitor:" with every key commented out, "proxies:" with every entry)
  // counts as absent, and so does an empty file: both mean "the defaults". A setting without one
  // ("token:", a template's unset variable) is refused: read as absent, it switched the API's token off.
  const value = toJS(doc, file);
  const raw = dropNulls(value, file) ?? {};
  const isMapping = typeof raw === 'object' && !Array.isArray(raw);
  const data = isMapping ? { ...withoutExtensions(raw as Record<string, unknown>), ...overrides } : raw;
  const parsed = configSchema.safeParse(data, parseOptions);
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error.issues));
  const { proxies, issues } = resolveProxies(parsed.data, host, stateDirInUse);
  // Created when missing; something else in its place could never hold the state.
  if (existsSync(parsed.data.state_dir) && !isDirectory(parsed.data.state_dir))
    issues.push({
      path: 'state_dir',
      message: `${parsed.data.state_dir} exists and is not a directory; expected a directory (created if missing)`,
    });
  if (issues.length) throw new ConfigError(file, issues);
  const deprecations: Deprecation[] =
    isMapping && (raw as { log?: { level?: unknown } }).log?.level !== undefined ? [{ key: 'log.level', use: 'logger.level' }] : [];
  const listed = (value as { proxy?: { proxies?: unknown } } | null)?.proxy;
  const proxiesListed = Array.isArray(listed?.proxies);
  const proxiesCut = typeof listed === 'object' && listed !== null && 'proxies' in listed && listed.proxies === null;
  const empty = value === null || value === undefined;
  return {
    file: resolve(file),
    config: parsed.data,
    proxies,
    deprecations,
    empty,
    proxiesListed,
    proxiesCut,
    unexecutable: [...unexecutable(proxies), ...tlsFileProblems(parsed.data.proxy.proxies)],
  };
}

/** The key path of the mapping key that starts at `offset` ("proxy.monitor.check_interval"). */
function keyPathAt(text: string, offset: number): string | undefined {
  let found: string | undefined;
  visit(parseDocument(text, { uniqueKeys: false }), {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
      const path: PropertyKey[] = [];
      const chain = [...ancestors, pair];
      chain.forEach((node, i) => {
        const next = chain[i + 1];
        if (isPair(node) && isScalar(node.key)) path.push(String(node.key.value));
        else if (isSeq(node) && next) path.push(node.items.indexOf(next as never));
      });
      found = formatPath(path);
      return visit.BREAK;
    },
  });
  return found;
}

/** Top-level keys starting with `x-` are the file's own (a place for anchors), as in Compose files. */
export const EXTENSION_KEY = /^x-/;

function withoutExtensions(mapping: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(mapping).filter(([key]) => !EXTENSION_KEY.test(key)));
}

/**
 * The document's value. The yaml package throws here, not in parseDocument, for what only shows on
 * resolution: too many aliases (a "billion laughs" bomb), an alias to nothing, a bad tag.
 */
function toJS(doc: ReturnType<typeof parseDocument>, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const message = String((error as Error).message ?? error).split('\n')[0];
    throw new ConfigError(file, [{ path: '', message: `invalid YAML: ${message}` }]);
  }
}

/** The keys whose value is a mapping or a list, by path (a proxy's index left out): left empty, they are absent (their defaults). */
const SECTIONS = new Set([
  'proxy',
  'proxy.monitor',
  'proxy.monitor.backoff',
  'proxy.proxies',
  'proxy.proxies.health',
  'proxy.proxies.limits',
  'proxy.proxies.env',
  'proxy.proxies.args',
  'proxy.proxies.capabilities',
  'api',
  'api.allowed_hosts',
  'history',
  'logger',
  'log',
]);
const isSection = (path: (string | number)[], key: string) =>
  SECTIONS.has([...path, key].filter((segment) => typeof segment === 'string').join('.'));

function dropNulls(value: unknown, file: string, path: (string | number)[] = [], within = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  // An alias to a node that contains it (`a: &a [*a]`) makes the value contain itself.
  if (within.has(value))
    throw new ConfigError(file, [{ path: formatPath(path), message: 'invalid YAML: an alias refers to a node that contains it' }]);
  within.add(value);
  try {
    if (Array.isArray(value)) return value.map((v, i) => dropNulls(v, file, [...path, i], within));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a YAML key "__proto__" must stay a key (and be reported as unknown), not a prototype.
      if (v !== null || !isSection(path, k))
        Object.defineProperty(out, k, {
          value: dropNulls(v, file, [...path, k], within),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  } finally {
    within.delete(value);
  }
}
