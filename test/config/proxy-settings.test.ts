// Per-proxy settings (supervisord's per-program, systemd's per-unit) and the log level under the
// design document's key, `logger.level`.
import { describe, expect, it } from 'vitest';
import { policyFrom } from '../../machines/monitor/context.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { executedFingerprint } from '../../src/supervisor/executed.ts';
import { configError, FILE, withProxies } from './helpers.ts';

describe('per-proxy settings', () => {
  it('a proxy may set stop_timeout, health_timeout, failure_threshold, start_grace, min_uptime and restart; others inherit', () => {
    const { proxies, config } = parseConfigText(
      withProxies(
        '{ id: a, type: exec, command: x, stop_timeout: 30, health_timeout: 2, failure_threshold: 1, start_grace: 15, min_uptime: 0.5, restart: on-failure }',
        '{ id: b, type: snell, listen: "127.0.0.1:1", psk: k, stop_timeout: 3 }',
        '{ id: c, type: exec, command: y }',
      ),
      FILE,
    );
    expect(proxies.map((p) => p.settings)).toEqual([
      { stop_timeout: 30, health_timeout: 2, failure_threshold: 1, start_grace: 15, min_uptime: 0.5, restart: 'on-failure' },
      { stop_timeout: 3 },
      {},
    ]);
    expect(config.proxy.monitor.restart).toBe('always');
  });

  it('checks them with the rules of the global settings, naming the proxy', () => {
    expect(configError(withProxies('{ id: a, type: exec, command: x, stop_timeout: 0 }')).message).toBe(
      `${FILE}: proxy.proxies[0].stop_timeout: expected seconds from 0.1 to 3600 (0.1 s to 1 h), got 0`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, min_uptime: 7200 }')).message).toBe(
      `${FILE}: proxy.proxies[0].min_uptime: expected seconds from 0 to 3600 (0 s to 1 h), got 7200`,
    );
    expect(configError(withProxies('{ id: a, type: exec, command: x, restart: never }')).message).toMatch(
      /^config\/x\.yaml: proxy\.proxies\[0\]\.restart: expected one of "always", "on-failure", got "never"$/,
    );
    expect(configError('proxy:\n  monitor:\n    restart: no\n').message).toMatch(
      /proxy\.monitor\.restart: expected one of "always", "on-failure"/,
    );
  });
});

describe('per-proxy settings at run time', () => {
  it("reach the proxy's restart policy over the global ones (min_uptime included)", () => {
    const { config, proxies } = parseConfigText(withProxies('{ id: a, type: exec, command: x, min_uptime: 2.5, start_grace: 9 }'), FILE);
    const policy = policyFrom(config.proxy.monitor, proxies[0].settings);
    expect(policy).toMatchObject({ minUptimeMs: 2_500, startGraceMs: 9_000, failureThreshold: config.proxy.monitor.failure_threshold });
  });

  it("a proxy's own cooldown, hourly cap and stable_uptime are its policy's (the design document's parameters, per proxy)", () => {
    const { config, proxies } = parseConfigText(
      withProxies(
        '{ id: a, type: exec, command: x, restart_cooldown: 0, max_restarts: 3, stable_uptime: 5 }',
        '{ id: b, type: exec, command: y }',
      ),
      FILE,
    );
    expect(policyFrom(config.proxy.monitor, proxies[0].settings)).toMatchObject({ cooldownMs: 0, maxRestarts: 3, stableUptimeMs: 5_000 });
    expect(policyFrom(config.proxy.monitor, proxies[1].settings)).toMatchObject({
      cooldownMs: 60_000,
      maxRestarts: 10,
      stableUptimeMs: 60_000,
    });
    expect(configError(withProxies('{ id: a, type: exec, command: x, max_restarts: 0 }')).message).toMatch(
      /^config\/x\.yaml: proxy\.proxies\[0\]\.max_restarts: expected a whole number from 1 to 1000000/,
    );
  });

  it('are not part of what is executed: changing them restarts nothing', () => {
    const [before] = parseConfigText(withProxies('{ id: a, type: exec, command: x }'), FILE).proxies;
    const [after] = parseConfigText(
      withProxies('{ id: a, type: exec, command: x, stop_timeout: 30, min_uptime: 3, restart: on-failure }'),
      FILE,
    ).proxies;
    expect(executedFingerprint(after)).toBe(executedFingerprint(before));
    const [other] = parseConfigText(withProxies('{ id: a, type: exec, command: y, stop_timeout: 30 }'), FILE).proxies;
    expect(executedFingerprint(other)).not.toBe(executedFingerprint(before));
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
    expect(configError('logger: { level: verbose }\n').message).toMatch(
      /logger\.level: expected one of "trace", "debug", "info", "warn", "error", "fatal"/,
    );
    expect(configError('logger: { levels: debug }\n').message).toBe(`${FILE}: logger.levels: unknown key, did you mean level?`);
  });
});
