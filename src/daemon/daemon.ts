// The daemon: load the config, start the supervisor on the real world, log what happens, stop
// everything on SIGTERM/SIGINT, reload on SIGHUP. It owns wiring only; decisions are the machines'.
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createOutputLogger } from '../logging/output.ts';
import { createRedactor } from '../logging/redact.ts';
import { logCheckRound, logReport } from '../logging/reports.ts';
import { createSupervisor, type Supervisor } from '../supervisor/supervisor.ts';
import { createRealWorld } from './world.ts';

export interface DaemonOptions {
  configFile: string;
  logger?: Logger;
}

export interface Daemon {
  supervisor: Supervisor;
  logger: Logger;
  config(): LoadedConfig;
  /** Re-read the config file; on error the running config is kept and the error returned. */
  reload(): { ok: true; changes: ReturnType<Supervisor['reconcile']> } | { ok: false; error: string };
  stop(): Promise<void>;
}

export function startDaemon(options: DaemonOptions): Daemon {
  let loaded = loadConfig(options.configFile);
  const logger = options.logger ?? createLogger({ level: loaded.config.log.level });
  let redact = createRedactor(loaded.proxies.flatMap((p) => p.secrets));
  const world = createRealWorld(loaded.config.proxy.monitor.check_concurrency);
  const logOutput = createOutputLogger(logger, () => redact, () => loaded.config.log.output_rate);

  const supervisor = createSupervisor({
    world,
    settings: loaded.config.proxy.monitor,
    specs: loaded.proxies,
    hooks: {
      onReport: (report) => logReport(logger, redact, report),
      onOutput: logOutput,
      onCheckRound: (durationMs, checked) => logCheckRound(logger, durationMs, checked),
      onError: (error) => logger.error({ err: error }, 'internal error in a state machine'),
    },
  });

  logger.info({ config: loaded.config.proxy.monitor, proxies: loaded.proxies.length, config_file: loaded.file }, 'proxy monitor started');
  supervisor.start();

  let stopping: Promise<void> | undefined;
  return {
    supervisor,
    logger,
    config: () => loaded,
    reload() {
      let next: LoadedConfig;
      try {
        next = loadConfig(loaded.file);
      } catch (error) {
        const message = (error as Error).message;
        logger.error({ error: message, config_file: loaded.file }, 'config reload failed; keeping the running config');
        return { ok: false, error: message };
      }
      loaded = next;
      redact = createRedactor(next.proxies.flatMap((p) => p.secrets));
      const changes = supervisor.reconcile(next.proxies, next.config.proxy.monitor);
      logger.info({ ...changes, config_file: next.file }, 'config reloaded');
      return { ok: true, changes };
    },
    stop() {
      stopping ??= (async () => {
        logger.info('proxy monitor stopping: stopping every proxy');
        await supervisor.shutdown();
        logger.info('proxy monitor stopped');
      })();
      return stopping;
    },
  };
}
