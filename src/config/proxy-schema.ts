// Schema of one `proxy.proxies[]` entry. An entry is either raw (`command` given: run as is) or typed
// (the command and its config file are built from per-type settings, see generate.ts). Entries and
// health blocks are dispatched by hand rather than with z.union, so that an error names the exact key
// ("proxy.proxies[0].server_port") instead of "no union member matched".
import * as z from 'zod';
import { parseOptions } from './errors.ts';
import { hostPortSchema, hostSchema, portSchema } from './address.ts';
import { maxMemorySchema, proxyOverridesShape } from './monitor-shape.ts';
import { sizeSchema } from './size.ts';
import { PROXY_ID, PROXY_ID_EXPECTED } from './proxy-id.ts';

export const PROXY_TYPES = ['shadowsocks', 'trojan', 'v2ray', 'snell', 'exec'] as const;

/** Parse `input` with `schema`, re-reporting its issues (paths relative to here) into `ctx`. */
function forward<S extends z.ZodType>(schema: S, input: unknown, ctx: z.RefinementCtx): z.output<S> {
  const r = schema.safeParse(input, parseOptions);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.issues.push(issue as never);
  return z.NEVER;
}

function fail(ctx: z.RefinementCtx, path: PropertyKey[], message: string): never {
  ctx.issues.push({ code: 'custom', path, message, input: undefined });
  return z.NEVER;
}

// ---- health blocks ------------------------------------------------------------------------------

const healthForms = {
  tcp: z.strictObject({ tcp: hostPortSchema, send: z.string().optional(), expect: z.string().optional() }),
  http: z.strictObject({
    http: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    status: z.int().min(100).max(599).optional(),
  }),
  exec: z.strictObject({ exec: z.array(z.string().min(1)).min(1) }),
  process: z.strictObject({ process: z.literal(true) }),
};
const HEALTH_KINDS = Object.keys(healthForms) as (keyof typeof healthForms)[];

export type HealthConfig = { [K in keyof typeof healthForms]: z.output<(typeof healthForms)[K]> }[keyof typeof healthForms];

export const healthSchema = z.looseObject({}).transform((input, ctx): HealthConfig => {
  const kinds = HEALTH_KINDS.filter((k) => k in input);
  if (kinds.length !== 1) {
    const got = kinds.length ? `, got ${kinds.join(' and ')}` : '';
    return fail(ctx, [], `expected exactly one of the keys ${HEALTH_KINDS.join(', ')}${got}`);
  }
  return forward(healthForms[kinds[0]], input, ctx);
});

// ---- entries ------------------------------------------------------------------------------------

// ---- privileges and limits (src/config/privileges.ts resolves them) ------------------------------

/** A user or group: a name, or a numeric id (65534 = nobody on Debian; -1 and 4294967295 mean "unchanged" to the kernel). */
const ACCOUNT = 'expected a user or group name, or a numeric id from 0 to 4294967294';
const account = z.union(
  [z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/, { error: ACCOUNT }), z.int().min(0).max(4_294_967_294)],
  {
    error: ACCOUNT,
  },
);

/** Ambient capabilities a proxy may be given; nothing else is ever passed on. */
export const CAPABILITIES = ['net_bind_service'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const unlimitedCount = (max: number) =>
  z.union([z.int().min(1).max(max), z.literal('unlimited')], { error: `expected a whole number from 1 to ${max}, or "unlimited"` });

/** Resource limits (soft = hard) set before exec, as systemd's LimitNOFILE= and friends. */
export const limitsSchema = z.strictObject({
  /** Open files; the kernel refuses more than fs.nr_open (1048576 by default). */
  nofile: z.int().min(1).max(1_048_576).optional(),
  /** Processes (threads count) of the proxy's user, all its processes together; the kernel's pid_max is at most 4194304. */
  nproc: unlimitedCount(4_194_304).optional(),
  /** Largest core dump; 0 for none. */
  core: sizeSchema(0, 2 ** 40, { unlimited: true }).optional(),
  /** Memory the proxy may lock (mlock). */
  memlock: sizeSchema(0, 2 ** 40, { unlimited: true }).optional(),
});

const common = {
  id: z.string().regex(PROXY_ID, { error: PROXY_ID_EXPECTED }),
  monitor: z.boolean().default(true),
  health: healthSchema.optional(),
  ...proxyOverridesShape,
  user: account.optional(),
  group: account.optional(),
  capabilities: z.array(z.enum(CAPABILITIES)).default([]),
  limits: limitsSchema.optional(),
  max_memory: maxMemorySchema.optional(),
};
const COMMON_KEYS = new Set(['id', 'type', ...Object.keys(common)]);

// A command line, its environment and its directory are NUL-terminated strings (execve, and the spawn
// helper's request): a NUL inside one would cut it short and shift the ones after it.
const noNul = (s: string) => !s.includes('\0');
const NO_NUL = { error: 'expected no NUL character (a command line cannot carry one)' };
// YAML types `8388` and `true` as number and boolean; a command line only has strings.
const argString = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform(String).refine(noNul, NO_NUL);
const envName = z.string().regex(/^[^=\0]+$/, { error: 'expected a variable name: not empty, no "=" and no NUL' });
const secret = z.string().min(1);
const path = z.string().min(1).refine(noNul, NO_NUL);

const rawEntry = z.strictObject({
  ...common,
  type: z.enum(PROXY_TYPES),
  command: path,
  args: z.array(argString).default([]),
  env: z.record(envName, argString).default({}),
  cwd: path.optional(),
});

/** AEAD ciphers of shadowsocks-libev's ss-server; the stream ciphers are broken and not offered. */
export const SS_METHODS = ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-ietf-poly1305', 'xchacha20-ietf-poly1305'] as const;
/** Shadowsocks AEAD ciphers v2ray 4 accepts. */
export const V2RAY_SS_METHODS = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-ietf-poly1305'] as const;

const shadowsocksEntry = z.strictObject({
  ...common,
  type: z.literal('shadowsocks'),
  binary: path.default('/usr/bin/ss-server').describe('the ss-server executable (shadowsocks-libev)'),
  server: hostSchema.default('127.0.0.1').describe('address to listen on'),
  server_port: portSchema.describe('port to listen on'),
  password: secret.describe('the shared password (secret: written to the generated file only)'),
  method: z.enum(SS_METHODS).default('chacha20-ietf-poly1305').describe('AEAD cipher'),
  timeout: z.int().positive().optional().describe("seconds an idle connection is kept (ss-server's default when unset)"),
  mode: z
    .enum(['tcp_only', 'tcp_and_udp', 'udp_only'])
    .optional()
    .describe('relay TCP, UDP or both (udp_only is checked as a process: no TCP round trip to make)'),
});

const trojanEntry = z.strictObject({
  ...common,
  type: z.literal('trojan'),
  binary: path.default('/usr/bin/trojan').describe('the trojan executable'),
  local_addr: hostSchema.default('127.0.0.1').describe('address to listen on'),
  local_port: portSchema.describe('port to listen on (TLS)'),
  password: z
    .union([secret.transform((p) => [p]), z.array(secret).min(1)], { error: 'expected a non-empty string or a list of them' })
    .describe('one password or a list (secret)'),
  cert: path.describe('TLS certificate chain file (PEM), readable by the proxy'),
  key: path.describe('TLS private key file (PEM), readable by the proxy'),
  remote_addr: hostSchema.default('127.0.0.1').describe('where non-trojan traffic is forwarded (a web server)'),
  remote_port: portSchema.default(80).describe('port of remote_addr'),
});

const v2rayEntry = z
  .strictObject({
    ...common,
    type: z.literal('v2ray'),
    binary: path.default('/usr/bin/v2ray').describe('the v2ray executable (4.x, started with `-config FILE`)'),
    listen: z
      .union([hostSchema, z.string().regex(/^\//)], { error: 'expected an IP address, a host name or a unix socket path' })
      .default('127.0.0.1')
      .describe('address of the inbound (or a unix socket path)'),
    port: portSchema.describe('port of the inbound'),
    protocol: z.enum(['vmess', 'vless', 'shadowsocks']).default('vmess').describe('the inbound protocol'),
    uuid: z
      .guid({ error: 'expected a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' })
      .optional()
      .describe('client id, required for vmess and vless (secret)'),
    password: secret.optional().describe('required for protocol shadowsocks (secret)'),
    method: z.enum(V2RAY_SS_METHODS).optional().describe('cipher for protocol shadowsocks (default chacha20-ietf-poly1305)'),
  })
  .superRefine((e, ctx) => {
    const ss = e.protocol === 'shadowsocks';
    if (ss && e.password === undefined) fail(ctx, ['password'], 'missing, required for protocol shadowsocks');
    if (!ss && e.uuid === undefined) fail(ctx, ['uuid'], `missing, required for protocol ${e.protocol}`);
    const foreign = ss ? (['uuid'] as const) : (['password', 'method'] as const);
    for (const k of foreign) {
      if (e[k] !== undefined) fail(ctx, [k], `not used by protocol ${e.protocol} (${ss ? 'vmess and vless' : 'shadowsocks'} only)`);
    }
  });

const snellEntry = z.strictObject({
  ...common,
  type: z.literal('snell'),
  binary: path.default('snell-server').describe('the snell-server executable (looked up on PATH)'),
  listen: hostPortSchema.describe('"host:port" to listen on'),
  // One INI line: a space or line break would be trimmed or break the file.
  psk: secret.regex(/^\S+$/, { error: 'expected a key without spaces or line breaks' }).describe('pre-shared key, no spaces (secret)'),
  obfs: z.enum(['off', 'http', 'tls']).optional().describe("traffic obfuscation (snell-server's default when unset)"),
  ipv6: z.boolean().optional().describe('also listen on IPv6'),
});

/** The schema of each typed entry (the README's table of typed settings is generated from them). */
export const typedEntries = { shadowsocks: shadowsocksEntry, trojan: trojanEntry, v2ray: v2rayEntry, snell: snellEntry };
export type TypedType = keyof typeof typedEntries;
export const typedKeys = (t: TypedType): string[] => Object.keys(typedEntries[t].shape).filter((k) => !COMMON_KEYS.has(k));

export type RawEntry = z.output<typeof rawEntry>;
export type ShadowsocksEntry = z.output<typeof shadowsocksEntry>;
export type TrojanEntry = z.output<typeof trojanEntry>;
export type V2rayEntry = z.output<typeof v2rayEntry>;
export type SnellEntry = z.output<typeof snellEntry>;
export type TypedEntry = ShadowsocksEntry | TrojanEntry | V2rayEntry | SnellEntry;
/** One `proxy.proxies[]` entry after validation; raw entries are the ones with `command`. */
export type ProxyEntry = RawEntry | TypedEntry;

export const proxyEntrySchema = z.looseObject({}).transform((input, ctx): ProxyEntry => {
  const type = input.type;
  if (!PROXY_TYPES.includes(type as never)) {
    ctx.issues.push({ code: 'invalid_value', values: [...PROXY_TYPES], path: ['type'], input: type });
    return z.NEVER;
  }
  const typed = type === 'exec' ? undefined : (type as TypedType);
  if ('command' in input) {
    const mixed = typed ? typedKeys(typed).filter((k) => k in input) : [];
    if (mixed.length) {
      return fail(
        ctx,
        [mixed[0]],
        `not allowed together with "command": an entry with "command" runs it with "args" as ` +
          `given; remove "command" to have the ${typed} command built from its settings (${typedKeys(typed!).join(', ')})`,
      );
    }
    return forward(rawEntry, input, ctx);
  }
  if (!typed) return fail(ctx, ['command'], 'missing, type exec needs a command');
  const rawOnly = ['args', 'env', 'cwd'].find((k) => k in input);
  if (rawOnly) {
    return fail(ctx, [rawOnly], `only for raw entries (with "command"); a typed ${typed} entry is started from its settings`);
  }
  return forward(typedEntries[typed], input, ctx);
});
