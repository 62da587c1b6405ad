// The README documents every typed setting, generated from the schema the loader uses, and shows a
// working entry of each type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { typedEntries, typedKeys, type TypedType } from '../../src/config/proxy-schema.ts';
import { MARKERS, typedSettingsMarkdown } from '../../src/config/typed-docs.ts';
import { ROOT } from '../support/daemon.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

it('the README table of typed settings is the one generated from the schema', () => {
  const start = readme.indexOf(MARKERS.start);
  const end = readme.indexOf(MARKERS.end);
  expect(start, 'README.md has no typed-settings markers').toBeGreaterThan(0);
  expect(readme.slice(start + MARKERS.start.length, end).trim(), 'README.md typed settings are stale: run `npm run docs`').toBe(
    typedSettingsMarkdown(),
  );
  // Every key of every typed entry is in it, with a description.
  for (const type of Object.keys(typedEntries) as TypedType[]) {
    for (const key of typedKeys(type)) expect(typedSettingsMarkdown()).toMatch(new RegExp(`\\| \`${key}\` \\|[^\\n]*\\| [a-zA-Z"(]`));
  }
});

it('the README example of each type loads, and starts the right server on its generated file', () => {
  const example = /```yaml\n(# typed examples\n[\s\S]*?)```/.exec(readme);
  expect(example, 'README.md has no "# typed examples" block').not.toBeNull();
  const { proxies } = parseConfigText(`${example![1]}state_dir: /var/lib/proxy-monitor\n`, 'README.md');
  expect(proxies.map((p) => [p.id, p.command, p.args])).toEqual([
    ['ss-1', '/usr/bin/ss-server', ['-c', '/var/lib/proxy-monitor/generated/ss-1.json']],
    ['trojan-1', '/usr/bin/trojan', ['-c', '/var/lib/proxy-monitor/generated/trojan-1.json']],
    ['v2ray-1', '/usr/bin/v2ray', ['-config', '/var/lib/proxy-monitor/generated/v2ray-1.json']],
    ['snell-1', 'snell-server', ['-c', '/var/lib/proxy-monitor/generated/snell-1.conf']],
  ]);
  expect(new Set(proxies.map((p) => p.type))).toEqual(new Set(Object.keys(typedEntries)));
});
