// `proxy-monitor run --config FILE`: the foreground daemon.
import { ApiListenError } from '../api/control-plane.ts';
import { ConfigError, summary } from '../config/errors.ts';
import { startDaemon } from '../daemon/daemon.ts';
import { closeLogger } from '../logging/logger.ts';
import { takeEarlySignals } from './early-signals.ts';
import { StateDirError } from '../store/lock.ts';

/** Each stops the daemon and its proxies, as supervisord takes them. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT'];
/**
 * Signals whose default action would end the daemon (SIGUSR1 would open Node's debugger to any
 * local user), sent by mistake or by habit (a log rotation's USR1): logged and ignored. SIGXFSZ
 * ignored turns a write over the file size limit into an error, handled like a full disk. SIGPROF
 * too, unless the daemon runs under V8's profiler (`--cpu-prof`, `--prof`), whose sampling signal it
 * is. (SIGSEGV and its kind are real faults.)
 */
const PROFILED = process.execArgv.some((flag) => /^--(cpu-)?prof\b/.test(flag));
const IGNORED_SIGNALS: NodeJS.Signals[] = [
  ...(PROFILED ? [] : (['SIGPROF'] as const)),
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGVTALRM',
  'SIGTRAP',
  'SIGPWR',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGIO',
  'SIGSTKFLT',
];

export async function run(configFile: string, stateDir?: string, inspectUrl?: string): Promise<number> {
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({ configFile, stateDir, inspectUrl });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${summary(error)}\n`);
      return 2;
    }
    // An api.listen taken is logged too, and said here as well: the log may be a file. Either way
    // nothing was started.
    if (error instanceof StateDirError || error instanceof ApiListenError) {
      process.stderr.write(`proxy-monitor: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { logger } = daemon;
  const reloadBySignal = () => void daemon.reload({ user: 'signal:SIGHUP', auth: 'signal' });
  process.on('SIGHUP', reloadBySignal);
  // The daemon never dies on a proxy's misbehaviour; a bug of ours is logged, not fatal.
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let stopping: NodeJS.Signals | undefined;
    for (const signal of STOP_SIGNALS)
      process.on(signal, () => {
        // A second Ctrl-C or TERM must not cut the proxies' stop_timeout short (Node's default
        // action would kill the daemon and leave them running).
        if (stopping) return logger.warn({ signal, stopping_since: stopping }, 'signal received while stopping: still stopping');
        stopping = signal;
        resolve(signal);
      });
  });
  for (const signal of IGNORED_SIGNALS) process.on(signal, () => logger.warn({ signal }, 'signal ignored'));
  // Signals received during start-up were only noted (bin/proxy-monitor.js): they act now, once each.
  for (const signal of new Set(takeEarlySignals())) {
    logger.info({ signal }, 'signal received during start-up: handled now');
    process.emit(signal, signal);
  }
  const outcome = await Promise.race([signalled.then((signal) => ({ signal })), daemon.lost.then((lost) => ({ lost }))]);
  if ('signal' in outcome) logger.info({ signal: outcome.signal }, 'signal received');
  await daemon.stop({ leaveProxies: 'lost' in outcome });
  // Everything is stopped; a handle some library left open must not keep the daemon alive.
  await closeLogger(logger);
  process.exit('lost' in outcome ? 1 : 0);
}
