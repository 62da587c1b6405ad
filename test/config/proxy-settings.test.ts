// Per-proxy settings (supervisord's per-program, systemd's per-unit) and the log level under the
// design document's key, `logger.level`.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { configError, FILE, withProxies } from './helpers.ts';

describe('per-proxy settings', () => {
  it('a proxy may set stop_timeout, health_timeout, failure_threshold, start_grace and restart; others inherit', () => {
    const { proxies, config } = parseConfigText(
      withProxies(
        '{ id: a, type: exec, command: x, stop_timeout: 30, health_timeout: 2, failure_threshold: 1, start_grace: 15, restart: on-failure }',
        '{ id: b, type: snell, listen: "127.0.0.1:1", psk: k, stop_timeout: 3 }',
        '{ id: c, type: exec, command: y }',
      ),
      FILE,
    );
    expect(proxies.map((p) => p.settings)).toEqual([
      { stop_timeout: 30, health_timeout: 2, failure_threshold: 1, start_grace: 15, restart: 'on-failure' },
      { stop_timeout: 3 },
      {},
    ]);
    expect(config.proxy.monitor.restart).toBe('always');
  });

  it('checks them with the rules of the global settings, naming the proxy', () => {
    expect(configError(withProxies('{ id: a, type: exec, command: x, stop_timeout: 0 }')).message).toBe(
      `${FILE}: proxy.proxies[0].stop_timeout: expected a number > 0, got 0`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, restart: never }')).message).toMatch(
      /^config\/x\.yaml: proxy\.proxies\[0\]\.restart: expected one of "always", "on-failure", got "never"$/,
    );
    expect(configError('proxy:\n  monitor:\n    restart: no\n').message).toMatch(/proxy\.monitor\.restart: expected one of "always", "on-failure"/);
  });
});

describe('logger.level', () => {
  it("is the design document's key, info by default", () => {
    expect(parseConfigText('logger:\n  level: debug\n', FILE)).toMatchObject({ config: { logger: { level: 'debug' } }, deprecations: [] });
    expect(parseConfigText('', FILE).config.logger).toEqual({ level: 'info' });
  });

  it('log.level is still read, as a deprecated alias', () => {
    const loaded = parseConfigText('log:\n  level: warn\n', FILE);
    expect(loaded.config.logger).toEqual({ level: 'warn' });
    expect(loaded.config.log).not.toHaveProperty('level');
    expect(loaded.deprecations).toEqual([{ key: 'log.level', use: 'logger.level' }]);
  });

  it('both set to different levels is refused; a wrong level names the choices', () => {
    expect(configError('logger: { level: debug }\nlog: { level: warn }\n').message).toBe(
      `${FILE}: log.level: deprecated alias of logger.level, which is set too (to debug): keep only logger.level, got "warn"`,
    );
    expect(configError('logger: { level: verbose }\n').message).toMatch(/logger\.level: expected one of "trace", "debug", "info", "warn", "error", "fatal"/);
    expect(configError('logger: { levels: debug }\n').message).toBe(`${FILE}: logger.levels: unknown key`);
  });
});
