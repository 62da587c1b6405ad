// The daemon: load the config, start the supervisor on the real world, log what happens, stop
// everything on SIGTERM/SIGINT, reload on SIGHUP. It owns wiring only; decisions are the machines'.
import { startControlPlane } from '../api/control-plane.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { createRecent } from '../inspector/recent.ts';
import { createRemoteInspector } from '../inspector/websocket.ts';
import { configuredLogger, setLogLevel, type Logger } from '../logging/logger.ts';
import { createOutputLogger } from '../logging/output.ts';
import { createRedactor } from '../logging/redact.ts';
import { createReportLogger, logCheckRound } from '../logging/reports.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { openDurableState } from '../store/durable.ts';
import type { Store } from '../store/types.ts';
import { createSupervisor, type Supervisor } from '../supervisor/supervisor.ts';
import { hardeningWarnings } from './hardening.ts';
import { createRealWorld } from './world.ts';

export interface DaemonOptions {
  configFile: string;
  /** `--state-dir`: wins over the file's state_dir, at start and on every reload. */
  stateDir?: string;
  logger?: Logger;
  /** `--inspect`: the WebSocket URL of a Stately inspector to report every actor to (none: nothing is observed). */
  inspectUrl?: string;
}

export interface Daemon {
  supervisor: Supervisor;
  logger: Logger;
  /** History, audit, overrides and operator intent, kept in state_dir across restarts. */
  store: Store;
  config(): LoadedConfig;
  /** The HTTP API's base URL once it listens on api.listen; rejects if it cannot. */
  api: Promise<string>;
  /** Re-read the config file; on error the running config is kept and the error returned. */
  reload(): { ok: true; changes: ReturnType<Supervisor['reconcile']> } | { ok: false; error: string };
  stop(): Promise<void>;
}

function warnDeprecations(logger: Logger, loaded: LoadedConfig): void {
  for (const d of loaded.deprecations) {
    logger.warn({ config_file: loaded.file, key: d.key, use: d.use }, `deprecated config key ${d.key}: write ${d.use} instead`);
  }
}

export function startDaemon(options: DaemonOptions): Daemon {
  const overrides = options.stateDir === undefined ? {} : { state_dir: options.stateDir };
  let loaded = loadConfig(options.configFile, overrides);
  const logger = options.logger ?? configuredLogger(loaded.config, loaded.file);
  let redact = createRedactor(loaded.proxies.flatMap((p) => p.secrets));
  const world = createRealWorld(loaded.config.proxy.monitor.check_concurrency);
  const recent = createRecent(world.clock.now);
  const logOutput = createOutputLogger(logger, () => redact, () => loaded.config.log.output_rate, (id) => supervisor.typeOf(id), recent.onOutput);
  const logReport = createReportLogger(logger, () => redact);
  // First: it takes the state directory's lock, and adopts the proxies a previous run left running.
  const state = openDurableState({ config: loaded.config, specs: loaded.proxies, world, logger, redact: () => redact });

  const metrics = createMetrics();
  const inspector = options.inspectUrl === undefined ? undefined : createRemoteInspector({ url: options.inspectUrl, redact: () => redact, logger });

  const supervisor = createSupervisor({
    world: state.world,
    settings: loaded.config.proxy.monitor,
    specs: loaded.proxies,
    memory: state.memory,
    inspect: inspector?.inspect,
    hooks: {
      onReport: (report) => {
        state.record(report);
        metrics.onReport(report);
        recent.onReport(report);
        logReport(report);
      },
      onProcess: state.onProcess,
      onOutput: logOutput,
      onCheckRound: (durationMs, checked) => {
        state.onCheckRound();
        metrics.onCheckRound();
        recent.onCheckRound(durationMs, checked);
        logCheckRound(logger, durationMs, checked);
      },
      onError: (error) => logger.error({ err: error }, 'internal error in a state machine'),
    },
  });

  for (const warning of hardeningWarnings(loaded)) logger.warn(warning.fields, warning.message);
  warnDeprecations(logger, loaded);
  logger.info({ config: loaded.config.proxy.monitor, proxies: loaded.proxies.length, config_file: loaded.file }, 'proxy monitor started');
  state.start(supervisor);
  const controlPlane = startControlPlane({
    supervisor,
    store: state.store,
    logger,
    metrics,
    recent,
    clock: world.clock,
    config: () => loaded.config,
    reload: () => daemon.reload(),
  });

  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    supervisor,
    logger,
    store: state.store,
    config: () => loaded,
    api: controlPlane.ready,
    reload() {
      let next: LoadedConfig;
      try {
        next = loadConfig(loaded.file, overrides);
      } catch (error) {
        const message = (error as Error).message;
        logger.error({ error: message, config_file: loaded.file }, 'config reload failed; keeping the running config');
        return { ok: false, error: message };
      }
      loaded = next;
      warnDeprecations(logger, next);
      setLogLevel(logger, next.config.logger.level, 'config reload');
      state.reload(next.config);
      redact = createRedactor(next.proxies.flatMap((p) => p.secrets));
      const changes = supervisor.reconcile(next.proxies, next.config.proxy.monitor);
      for (const id of changes.removed) recent.forget(id);
      logger.info({ ...changes, config_file: next.file }, 'config reloaded');
      return { ok: true, changes };
    },
    stop() {
      stopping ??= (async () => {
        logger.info('proxy monitor stopping: stopping every proxy');
        await controlPlane.close();
        await supervisor.shutdown();
        state.close();
        inspector?.stop();
        logger.info('proxy monitor stopped');
      })();
      return stopping;
    },
  };
  return daemon;
}
