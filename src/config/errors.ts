// Turning zod issues into one-line, operator-readable messages: "<file>: <key path>: <what was expected>".
import type * as z from 'zod';

export interface ConfigIssue {
  /** Key path as written in YAML, e.g. "proxy.proxies[1].id"; "" for the document itself. */
  path: string;
  /** What was expected (and what was found, unless the key holds a secret). */
  message: string;
  /** 1-based position, for YAML syntax errors only. */
  line?: number;
  col?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    /** Every problem found; `message` is the first of them. */
    readonly issues: ConfigIssue[],
  ) {
    super(issues.length ? renderIssue(file, issues[0]) : `${file}: invalid config`);
  }
}

/** The first problem, saying how many more there are (the daemon's one line at a refused start). */
export function summary(error: ConfigError): string {
  const more = error.issues.length - 1;
  return more > 0 ? `${error.message} (and ${more} more: \`proxy-monitor validate ${error.file}\` lists every one)` : error.message;
}

export function renderIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line !== undefined ? `${file}:${issue.line}:${issue.col ?? 1}` : file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(seg))) out += out ? `.${String(seg)}` : String(seg);
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

// Values under such keys are never echoed back: error messages end up in logs.
const SECRET_KEY = /pass|secret|token|key|psk|uuid/i;

function show(value: unknown): string {
  if (value === null) return 'null (an empty value: remove the key for its default)';
  if (Array.isArray(value)) return value.length ? 'a list' : 'an empty list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.origin === 'string' && issue.code === 'too_small' && Number(bound) === 1) return 'expected a non-empty string';
      if (issue.origin === 'array') return `expected a list of ${op} ${bound} items`;
      if (issue.origin === 'string') return `expected a string of ${op} ${bound} characters`;
      return `expected a number ${op} ${bound}`;
    }
    case 'invalid_key': // a record's key: say what the key's own schema expects
      return issue.issues[0] ? expected(issue.issues[0]) : issue.message;
    default:
      return issue.message; // our own messages (formats, refinements), already phrased as expectations
  }
}

/** An unknown-keys issue, with the keys its object knows (copied by `parseOptions`' error map). */
type UnknownKeys = z.core.$ZodIssueUnrecognizedKeys & { known?: string[] };

/**
 * Options for every parse of what an operator wrote (config file, API body, CLI options): the input
 * kept, to say what was found, and an unknown key's object's keys, to suggest the one meant. Zod drops
 * the schema from its issues once they are made; the error map sees the raw issue, and copies the keys
 * onto it (it returns nothing: the message is ours, made below).
 */
export const parseOptions = {
  reportInput: true,
  error: (issue: z.core.$ZodRawIssue) => {
    const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
    if (issue.code === 'unrecognized_keys' && shape) (issue as UnknownKeys).known = Object.keys(shape);
    return undefined;
  },
} as const;

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** "unknown key", with the key meant when one is a typo away, else the keys allowed there (when few). */
function unknownKey(key: string, known: string[] = []): string {
  const [nearest] = known
    .map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ d }) => d <= Math.min(3, Math.max(1, Math.floor(key.length / 3))))
    .sort((a, b) => a.d - b.d);
  if (nearest) return `unknown key, did you mean ${nearest.k}?`;
  return known.length && known.length <= 24 ? `unknown key, expected one of ${known.join(', ')}` : 'unknown key';
}

/** Zod issues as ConfigIssues; an unknown-keys issue becomes one "unknown key" issue per key. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const { known } = issue as UnknownKeys;
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: unknownKey(key, known) });
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    const secret = path.some((seg) => typeof seg === 'string' && SECRET_KEY.test(seg));
    let message = expected(issue);
    if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) message = `missing, ${message}`;
    else if (input !== undefined && (!secret || input === null)) message += `, got ${show(input)}`;
    out.push({ path: formatPath(path), message });
  }
  return out;
}
