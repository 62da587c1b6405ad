import { expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';

export const FILE = 'config/x.yaml';

/** Parses `text` expecting a ConfigError; returns it after checking its message is a single line. */
export function configError(text: string): ConfigError {
  try {
    parseConfigText(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).not.toContain('\n');
    expect(e.message.startsWith(FILE)).toBe(true);
    return e;
  }
  throw new Error('expected a ConfigError, the config was accepted');
}

/** A config with these proxies entries (YAML flow mappings, one per line). */
export const withProxies = (...entries: string[]) => `proxy:\n  proxies:\n${entries.map((e) => `    - ${e}\n`).join('')}`;
