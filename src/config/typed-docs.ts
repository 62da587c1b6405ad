// The README's table of typed settings, generated from the zod schemas of the typed entries so that
// it cannot drift from what the config loader accepts (test/config/typed-docs.test.ts compares;
// `npm run docs` rewrites the README's copy).
import * as z from 'zod';
import { typedEntries, typedKeys, type TypedType } from './proxy-schema.ts';

export const MARKERS = { start: '<!-- typed-settings:start -->', end: '<!-- typed-settings:end -->' };

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  default?: unknown;
  description?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${typeOf(s.items ?? {})}`;
  if (s.format === 'uuid') return 'UUID';
  if (s.type === 'integer' && s.minimum !== undefined && s.maximum !== undefined) return `integer ${s.minimum}-${s.maximum}`;
  if (s.type === 'integer' && s.exclusiveMinimum === 0) return 'integer > 0';
  return s.type ?? 'any';
}

export function typedSettingsTable(type: TypedType): string {
  const schema = z.toJSONSchema(typedEntries[type], { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, JsonSchema>;
    required?: string[];
  };
  const rows = typedKeys(type).map((key) => {
    const field = schema.properties[key];
    const given = schema.required?.includes(key) ? '**required**' : field.default !== undefined ? `\`${field.default}\`` : 'unset';
    return `| \`${key}\` | ${typeOf(field)} | ${given} | ${field.description ?? ''} |`;
  });
  return [`**${type}**`, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every typed entry's table, as it stands between the README's markers. */
export function typedSettingsMarkdown(): string {
  return (Object.keys(typedEntries) as TypedType[]).map(typedSettingsTable).join('\n\n');
}

/** `readme` with the text between the markers replaced by the generated tables. */
export function withTypedSettings(readme: string): string {
  const start = readme.indexOf(MARKERS.start);
  const end = readme.indexOf(MARKERS.end);
  if (start < 0 || end < start) throw new Error(`README.md has no ${MARKERS.start} ... ${MARKERS.end} section`);
  return `${readme.slice(0, start + MARKERS.start.length)}\n${typedSettingsMarkdown()}\n${readme.slice(end)}`;
}
