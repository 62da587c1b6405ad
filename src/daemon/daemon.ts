// The daemon: load the config, start the supervisor on the real world, log what happens; stop() stops
// every proxy, reload() re-reads the config (cli/run.ts calls them on signals, the API on requests).
// It owns wiring only; decisions are the machines'.
import { adoptPreviousRun } from '../adoption/adoption.ts';
import { systemClock } from '../clock.ts';
import { createAudit } from '../api/audit.ts';
import type { Caller } from '../api/auth.ts';
import type { ReloadOutcome } from '../api/context.ts';
import { startControlPlane } from '../api/control-plane.ts';
import { READ_AT_START, settingChanges } from '../config/changes.ts';
import { loadConfig, refuseTruncated, type LoadedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { loadConfigOffThread } from '../config/off-thread.ts';
import { killRunningChecks } from '../health/exec.ts';
import { createRecent } from '../inspector/recent.ts';
import { closeLogger, configuredLogger, holdingLines, logDegraded, setLogLevel, type Logger } from '../logging/logger.ts';
import { createOutputLogger } from '../logging/output.ts';
import { createRedactor } from '../logging/redact.ts';
import { createReportLogger, logCheckRound } from '../logging/reports.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { setUpContainment } from '../process/cgroup.ts';
import { removeUnlisted } from '../process/files.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import { openDurableState } from '../store/durable.ts';
import type { Store } from '../store/types.ts';
import { createSupervisor, type Supervisor } from '../supervisor/supervisor.ts';
import { healthChanged } from '../supervisor/executed.ts';
import { hardeningWarnings } from './hardening.ts';
import { chooseSpawner } from './spawn-path.ts';
import { createRealWorld } from './world.ts';
import { generatedDir } from '../state-dir.ts';
import { type Staged, stageGeneratedFiles } from '../process/files.ts';

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
  /** The HTTP API's base URL, bound on api.listen. */
  url: string;
  /** Resolves (with why) if another daemon took over state_dir: this one must stop, and leave its proxies to it. */
  lost: Promise<string>;
  /** Re-read the config file (audited as `by`); on error the running config is kept and the error returned. */
  reload(by: Caller): Promise<ReloadOutcome>;
  /** Stops every proxy, then the daemon; `leaveProxies` (state_dir lost): the daemon alone. */
  stop(options?: { leaveProxies?: boolean }): Promise<void>;
}

function warnDeprecations(logger: Logger, loaded: LoadedConfig): void {
  for (const d of loaded.deprecations) {
    logger.warn({ config_file: loaded.file, key: d.key, use: d.use }, `deprecated config key ${d.key}: write ${d.use} instead`);
  }
}

/** Why a reload happened, in the audit record's words. */
function reloadReason(by: Caller): string {
  return by.auth === 'signal' ? `reload requested by ${by.user.replace(/^signal:/, '')}` : 'reload requested through the API';
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const overrides = options.stateDir === undefined ? {} : { state_dir: options.stateDir };
  let loaded = loadConfig(options.configFile, overrides);
  refuseTruncated(loaded, options.configFile);
  const logger = options.logger ?? configuredLogger(loaded.config, loaded.file);
  let redact = createRedactor(loaded.proxies.flatMap((p) => p.secrets));
  // Decided once per run: moving the daemon between cgroups is not something to redo on reload.
  const containment = setUpContainment();
  const recent = createRecent(systemClock.now);
  const logOutput = createOutputLogger(
    logger,
    () => redact,
    () => loaded.config.log.output_rate,
    (id) => supervisor.typeOf(id),
    recent.onOutput,
  );
  const logReport = createReportLogger(logger, () => redact);
  const metrics = createMetrics();
  let resolveLost: (reason: string) => void = () => {};
  const lost = new Promise<string>((resolve) => (resolveLost = resolve));
  // First: it takes the state directory's lock, and adopts the proxies a previous run left running.
  const state = openDurableState({
    config: loaded.config,
    now: systemClock.now,
    logger,
    redact: () => redact,
    onWriteFailure: metrics.onStateWriteFailure,
    onLost: (reason) => resolveLost(reason),
  });
  // The spawn helper is started here, before any proxy: the daemon's one fork of itself. Each slice
  // of the work that follows events is one transaction, its log lines written once it commits.
  const world = createRealWorld(
    loaded.config.proxy.monitor.check_concurrency,
    logger,
    await chooseSpawner(logger),
    (slice) => holdingLines(logger, () => state.store.transaction(slice)),
    containment.mode === 'cgroup' ? containment.tree : undefined,
  );
  const adoption = adoptPreviousRun({
    store: state.store,
    specs: loaded.proxies,
    world,
    logger,
    stopTimeoutMs: loaded.config.proxy.monitor.stop_timeout * 1000,
    storeOpen: state.open,
  });
  // Said once the state directory is ours: a second daemon on it exits with its one line, nothing else.
  if (containment.mode === 'cgroup') {
    logger.info(
      { containment: 'cgroup', cgroup: containment.tree.root, controllers: containment.tree.controllers },
      'proxies run in cgroups of their own',
    );
  } else {
    logger.info({ containment: 'process-group', reason: containment.why }, 'proxies run in process groups (no delegated cgroup)');
  }

  // Loaded only when asked for: @statelyai/inspect and ws cost ~8 MiB of RSS (bench/README.md).
  const inspector =
    options.inspectUrl === undefined
      ? undefined
      : (await import('../inspector/websocket.ts')).createRemoteInspector({ url: options.inspectUrl, redact: () => redact, logger });

  const supervisor = createSupervisor({
    world: adoption.world,
    settings: loaded.config.proxy.monitor,
    specs: loaded.proxies,
    memory: (id) => ({ ...state.memory(id), ...adoption.memory(id) }),
    stats: state.store.stats(),
    inspect: inspector?.inspect,
    hooks: {
      onReport: (report) => {
        state.record(report);
        metrics.onReport(report);
        recent.onReport(report);
        logReport(report);
      },
      onProcess: adoption.onProcess,
      onOutput: logOutput,
      onOutputDropped: logOutput.dropped,
      // supervisord says so too: an operator tuning stop_timeout learns which proxies need it.
      onKilled: (id, timeoutMs) =>
        logger.warn(
          { proxy_id: id, proxy_type: supervisor.typeOf(id), stop_timeout: timeoutMs / 1000 },
          'proxy ignored SIGTERM for its stop_timeout: sent SIGKILL to its group',
        ),
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
  // The API is bound before any proxy is started: a daemon that cannot serve it (api.listen taken)
  // exits having touched nothing, and the processes it would have adopted run on for the next one.
  // Until supervisor.start() below (the same turn of the loop) a request sees no proxy.
  const controlPlane = startControlPlane({
    supervisor,
    store: state.store,
    logger,
    metrics,
    recent,
    clock: world.clock,
    config: () => loaded.config,
    reload: (by) => daemon.reload(by),
    degraded: () => [...state.degraded(), ...logDegraded(logger)],
  });
  let url: string;
  try {
    url = await controlPlane.ready;
  } catch (error) {
    inspector?.stop();
    state.close();
    if (!options.logger) await closeLogger(logger);
    throw error;
  }
  for (const u of loaded.unexecutable)
    logger.warn(
      { proxy_id: u.id, key: u.key, error: u.why },
      u.healthCheck
        ? 'proxy health check cannot be run as configured: every check fails until it can'
        : 'proxy cannot be started as configured: it fails to start until it can',
    );
  logger.info({ config: loaded.config.proxy.monitor, proxies: loaded.proxies.length, config_file: loaded.file }, 'proxy monitor started');
  // The design document's default: nothing in the log would otherwise say that crashes stay down.
  if (!loaded.config.proxy.monitor.enable && loaded.proxies.length > 0)
    logger.warn(
      { config_file: loaded.file },
      'monitoring is off (proxy.monitor.enable: false, also its default when unset): proxies are started but not checked, and a crashed one is not restarted; set enable: true, or run `proxy-monitor monitor start`',
    );
  supervisor.start();
  adoption.replaceOutdated(supervisor);
  sweepGenerated(loaded.proxies);
  const audit = createAudit(state.store, logger, world.clock, (id) => supervisor.typeOf(id));
  /** The generated configs (with their passwords) of proxies no longer configured are deleted. */
  function sweepGenerated(proxies: ProxySpec[]) {
    const dir = generatedDir(state.store.dir);
    try {
      const gone = removeUnlisted(
        dir,
        proxies.flatMap((proxy) => proxy.files.map((file) => file.path)),
      );
      if (gone.length) logger.info({ dir, files: gone }, 'generated configs of proxies no longer configured deleted');
    } catch (error) {
      logger.warn({ dir, error: (error as Error).message }, 'cannot delete the generated configs of proxies no longer configured');
    }
  }
  // The daemon's own life in the trail: the time between a stop (or the last record of a run that
  // was killed) and the next start is time nothing supervised.
  const SYSTEM: Caller = { user: 'system', auth: 'none' };
  audit(SYSTEM, { action: 'daemon_start', reason: 'the daemon started', detail: { pid: process.pid, proxies: loaded.proxies.length } });

  let stopping: Promise<void> | undefined;
  let reloads: Promise<unknown> = Promise.resolve();
  /** Reads the file (off this thread), then applies it: the outcome, audited as `by`. */
  async function reloadNow(by: Caller): Promise<ReloadOutcome> {
    // Nothing is started any more: a reload now would be audited and logged as applied.
    const ignored = (): ReloadOutcome => {
      logger.warn({ config_file: loaded.file }, 'config reload ignored: the daemon is stopping');
      return { ok: false, error: 'the daemon is stopping' };
    };
    if (stopping) return ignored();
    let next: LoadedConfig;
    try {
      next = await loadConfigOffThread(loaded.file, { ...overrides, stateDirInUse: state.store.dir });
      if (stopping) return ignored(); // it began while the file was read
      // An empty file is the defaults: no proxy; so is one cut off after "proxies:". Read while an
      // editor or a script is rewriting it, it would stop and remove every proxy; removing them
      // all takes a file that says so.
      if (!next.proxiesListed && supervisor.states().length > 0)
        throw new Error(
          `${loaded.file}: ${next.empty ? 'the file is empty' : 'proxy.proxies has no list'}: a reload would stop and remove every proxy (to remove them all, write "proxy: {proxies: []}")`,
        );
      // A program that cannot be run (or a certificate trojan would refuse), in an entry the reload
      // would start or restart: the running process is kept rather than stopped for a start that
      // fails (a typo in a path, say).
      const starting = new Set(supervisor.wouldStart(next.proxies));
      // So is a health check that cannot be run, given by this reload: it would fail every check,
      // and the working proxy would be killed for it.
      const given = new Map(next.proxies.map((spec) => [spec.id, spec]));
      const newCheck = (id: string) => healthChanged(supervisor.spec(id), given.get(id));
      const refused = next.unexecutable.filter((u) => starting.has(u.id) || (u.healthCheck && newCheck(u.id)));
      if (refused.length) throw new Error(`${loaded.file}: ${refused.map((u) => `${u.key}: ${u.why}`).join('; ')}: cannot be run`);
      // Their generated configs are written now, before a process is stopped for them (the one
      // running read its own at its start): a disk that refuses one keeps the running config,
      // rather than leave the proxy down until it has room. All of them or none: the others' files
      // stay as their running processes read them.
      const staged: { id: string; files: Staged }[] = [];
      const refuse = (id: string, error: unknown) => {
        for (const { files } of staged) files.abort();
        return new Error(`${loaded.file}: cannot write the generated config of ${id}: ${(error as Error).message}`);
      };
      for (const proxy of next.proxies.filter((p) => starting.has(p.id))) {
        try {
          staged.push({ id: proxy.id, files: stageGeneratedFiles(proxy.files, proxy.privileges?.runAs) });
        } catch (error) {
          throw refuse(proxy.id, error);
        }
      }
      for (const { id, files } of staged) {
        try {
          files.commit();
        } catch (error) {
          throw refuse(id, error); // a rename refused: rarer than a copy refused, and not undone
        }
      }
    } catch (error) {
      const message = (error as Error).message;
      logger.error({ error: message, config_file: loaded.file }, 'config reload failed; keeping the running config');
      audit(by, { action: 'config_reload', reason: reloadReason(by), detail: { error: message } });
      return { ok: false, error: message };
    }
    // Compared with what runs: a PATCH of proxy.monitor or logger.level since the last load is undone here.
    const running = {
      ...loaded.config,
      proxy: { ...loaded.config.proxy, monitor: supervisor.settings() },
      logger: { level: logger.level as Config['logger']['level'] },
    };
    const settings = settingChanges(running, next.config);
    const atNextStart = Object.keys(settings).filter((key) => READ_AT_START.includes(key));
    for (const key of atNextStart)
      logger.warn({ setting: key, ...settings[key] }, `${key} changed: it takes effect at the next daemon start`);
    loaded = next;
    warnDeprecations(logger, next);
    setLogLevel(logger, next.config.logger.level, 'config reload');
    state.reload(next.config);
    redact = createRedactor(next.proxies.flatMap((p) => p.secrets));
    const monitorBefore = supervisor.monitorState();
    const changes = supervisor.reconcile(next.proxies, next.config.proxy.monitor);
    // The file wins over `monitor stop`/`start`: said like the runtime settings a reload reverts.
    const monitorNow = supervisor.monitorState();
    if (monitorNow !== monitorBefore) {
      settings.monitor = { old: monitorBefore, new: monitorNow };
      logger.warn(
        { from: monitorBefore, to: monitorNow, enable: next.config.proxy.monitor.enable },
        monitorNow === 'watching'
          ? 'the monitor, paused by the operator, watches again: the file says proxy.monitor.enable: true'
          : 'the monitor no longer watches: the file says proxy.monitor.enable: false',
      );
    }
    sweepGenerated(next.proxies);
    for (const id of changes.removed) recent.forget(id);
    logger.info({ ...changes, settings, config_file: next.file }, 'config reloaded');
    audit(by, { action: 'config_reload', reason: reloadReason(by), detail: { ...changes, settings } });
    return { ok: true, changes: { ...changes, settings: Object.keys(settings), at_next_start: atNextStart } };
  }
  const daemon: Daemon = {
    supervisor,
    logger,
    store: state.store,
    config: () => loaded,
    url,
    lost,
    reload(by) {
      // One at a time, in the order asked: each reads the file as it is when its turn comes.
      const turn = reloads.then(() => reloadNow(by));
      reloads = turn.catch(() => undefined);
      return turn;
    },
    stop({ leaveProxies = false } = {}) {
      stopping ??= (async () => {
        // Left: the daemon that took state_dir adopted them by their spawn tokens, they are its own now
        // (stopping them would be an outage, and crashes in its history).
        logger.info(
          `proxy monitor stopping: ${leaveProxies ? 'its proxies are left to the daemon that took the state_dir' : 'stopping every proxy'}`,
        );
        // Recorded first: a daemon killed during its stop must not take the ends it caused for crashes.
        if (!leaveProxies) state.store.forgetProcesses();
        await controlPlane.close();
        await supervisor.shutdown({ stopProcesses: !leaveProxies });
        await killRunningChecks(); // an exec check in flight (and what it started) does not outlive the daemon
        if (!leaveProxies)
          audit(SYSTEM, { action: 'daemon_stop', reason: 'the daemon stopped, and its proxies with it', detail: { pid: process.pid } });
        state.close();
        inspector?.stop();
        logger.info('proxy monitor stopped');
      })();
      return stopping;
    },
  };
  return daemon;
}
