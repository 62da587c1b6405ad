// Schema of one `proxy.proxies[]` entry. An entry is either raw (`command` given: run as is) or typed
// (the command and its config file are built from per-type settings, see generate.ts). Entries and
// health blocks are dispatched by hand rather than with z.union, so that an error names the exact key
// ("proxy.proxies[0].server_port") instead of "no union member matched".
import { z } from 'zod';
import { hostPortSchema, portSchema } from './address.ts';
import { proxyOverridesShape } from './monitor-shape.ts';

export const PROXY_TYPES = ['shadowsocks', 'trojan', 'v2ray', 'snell', 'exec'] as const;

/** Parse `input` with `schema`, re-reporting its issues (paths relative to here) into `ctx`. */
function forward<S extends z.ZodType>(schema: S, input: unknown, ctx: z.RefinementCtx): z.output<S> {
  const r = schema.safeParse(input, { reportInput: true });
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

const common = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    error: 'expected 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
  }),
  monitor: z.boolean().default(true),
  health: healthSchema.optional(),
  ...proxyOverridesShape,
};
const COMMON_KEYS = new Set(['id', 'type', ...Object.keys(common)]);

// YAML types `8388` and `true` as number and boolean; a command line only has strings.
const argString = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform(String);
const secret = z.string().min(1);
const path = z.string().min(1);

const rawEntry = z.strictObject({
  ...common,
  type: z.enum(PROXY_TYPES),
  command: z.string().min(1),
  args: z.array(argString).default([]),
  env: z.record(z.string(), argString).default({}),
  cwd: path.optional(),
});

/** AEAD ciphers of shadowsocks-libev's ss-server; the stream ciphers are broken and not offered. */
export const SS_METHODS = ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-ietf-poly1305', 'xchacha20-ietf-poly1305'] as const;
/** Shadowsocks AEAD ciphers v2ray 4 accepts. */
export const V2RAY_SS_METHODS = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-ietf-poly1305'] as const;

const shadowsocksEntry = z.strictObject({
  ...common,
  type: z.literal('shadowsocks'),
  binary: path.default('/usr/bin/ss-server'),
  server: z.string().min(1).default('127.0.0.1'),
  server_port: portSchema,
  password: secret,
  method: z.enum(SS_METHODS).default('chacha20-ietf-poly1305'),
  timeout: z.int().positive().optional(),
  mode: z.enum(['tcp_only', 'tcp_and_udp', 'udp_only']).optional(),
});

const trojanEntry = z.strictObject({
  ...common,
  type: z.literal('trojan'),
  binary: path.default('/usr/bin/trojan'),
  local_addr: z.string().min(1).default('127.0.0.1'),
  local_port: portSchema,
  password: z.union([secret.transform((p) => [p]), z.array(secret).min(1)], {
    error: 'expected a non-empty string or a list of them',
  }),
  cert: path,
  key: path,
  remote_addr: z.string().min(1).default('127.0.0.1'),
  remote_port: portSchema.default(80),
});

const v2rayEntry = z
  .strictObject({
    ...common,
    type: z.literal('v2ray'),
    binary: path.default('/usr/bin/v2ray'),
    listen: z.string().min(1).default('127.0.0.1'),
    port: portSchema,
    protocol: z.enum(['vmess', 'vless', 'shadowsocks']).default('vmess'),
    uuid: z.guid({ error: 'expected a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' }).optional(),
    password: secret.optional(),
    method: z.enum(V2RAY_SS_METHODS).optional(),
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
  binary: path.default('snell-server'),
  listen: hostPortSchema,
  // One INI line: a space or line break would be trimmed or break the file.
  psk: secret.regex(/^\S+$/, { error: 'expected a key without spaces or line breaks' }),
  obfs: z.enum(['off', 'http', 'tls']).optional(),
  ipv6: z.boolean().optional(),
});

const typedEntries = { shadowsocks: shadowsocksEntry, trojan: trojanEntry, v2ray: v2rayEntry, snell: snellEntry };
type TypedType = keyof typeof typedEntries;
const typedKeys = (t: TypedType): string[] =>
  Object.keys(typedEntries[t].shape).filter((k) => !COMMON_KEYS.has(k));

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
      return fail(ctx, [mixed[0]], `not allowed together with "command": an entry with "command" runs it with "args" as ` +
        `given; remove "command" to have the ${typed} command built from its settings (${typedKeys(typed!).join(', ')})`);
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
