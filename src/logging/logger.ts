// JSON lines for journald and ELK, in the design document's envelope (section 日志和监控): every
// line has `timestamp` (ISO-8601 UTC), `level` (a word), `message` and `component`. `component` is
// `proxy-monitor` unless a line says otherwise (reports.ts: `proxy` for crashes and restarts, the
// proxy's type for state changes). One logger per daemon, created here and passed down: no globals.
import { pino, type Logger } from 'pino';
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import { sizeBytes } from '../config/size.ts';
import { type LogFileOptions, type RollingFile, rollingFile } from './file.ts';

export type { Logger };

/** The `component` of the monitor's own lines. */
export const MONITOR_COMPONENT = 'proxy-monitor';

export interface LoggerOptions {
  level: string;
  /** A rolling log file instead of stdout. */
  file?: LogFileOptions;
  /** Where to write (tests); stdout when neither this nor `file` is given. */
  destination?: pino.DestinationStream;
}

// Log files are written asynchronously, which process.exit() ends wherever they are: closeLogger
// waits for them.
const fileStreams = new WeakMap<Logger, RollingFile>();
type SonicBoom = ReturnType<typeof pino.destination>;
const stdoutStreams = new WeakMap<Logger, SonicBoom>();
/** Each logger's lines held back while holdingLines runs. */
const holds = new WeakMap<Logger, Hold>();
interface Hold {
  lines: string[] | undefined;
  target: pino.DestinationStream & { flush?: (cb: (error?: Error) => void) => void };
}

export function createLogger(options: LoggerOptions): Logger {
  const file = options.destination === undefined && options.file ? rollingFile(options.file) : undefined;
  const stdout = options.destination === undefined && !file ? pino.destination({ fd: 1, sync: false }) : undefined;
  const hold: Hold = { lines: undefined, target: options.destination ?? file ?? stdout! };
  const { target } = hold;
  const held: Hold['target'] = {
    write: (line: string) => (hold.lines ? hold.lines.push(line) : target.write(line)),
    flush: (cb) => (target.flush ? target.flush(cb) : cb()),
  };
  const logger = pino(
    {
      level: options.level,
      messageKey: 'message',
      // A mixin, not `base`: a line's own `component` must replace the default, not follow it as a
      // second key of the same name.
      base: null,
      mixin: (line) => ('component' in line ? {} : { component: MONITOR_COMPONENT }),
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    held,
  );
  holds.set(logger, hold);
  if (file) fileStreams.set(logger, file);
  if (stdout) stdoutStreams.set(logger, stdout);
  return logger;
}

/**
 * Runs `fn` with the logger's lines held back, and writes them once it returns: a slice of the
 * daemon's work commits its writes as it ends (src/later.ts), and no line may tell of a record
 * before it is committed (README, "What survives a restart of the daemon").
 */
export function holdingLines(logger: Logger, fn: () => void): void {
  const hold = holds.get(logger);
  if (!hold || hold.lines) {
    fn();
    return;
  }
  hold.lines = [];
  try {
    fn();
  } finally {
    const { lines } = hold;
    hold.lines = undefined;
    for (const line of lines) hold.target.write(line);
  }
}

/** A new level, at once and without a restart (reload, PATCH). */
export function setLogLevel(logger: Logger, level: string, cause: string): void {
  const from = logger.level;
  if (from === level) return;
  // Said at info, under whichever of the two levels shows it.
  const say = () => logger.info({ from, to: level, cause }, 'log level changed');
  const shownBefore = logger.isLevelEnabled('info');
  if (shownBefore) say();
  logger.level = level;
  if (!shownBefore && logger.isLevelEnabled('info')) say();
}

/**
 * Writes what stdout's stream still holds, for at most `timeoutMs`, then closes it. A reader of
 * stdout that stopped reading (a stuck journald, a `| tee` whose disk is full) must not keep the
 * daemon from exiting: the lines not taken by then are dropped. Left open, the stream would be
 * written by pino's exit hook, which retries a full pipe for as long as it stays full.
 */
function drainOrDrop(stream: SonicBoom, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const retrying = stream as unknown as { retryEAGAIN: () => boolean };
  retrying.retryEAGAIN = () => Date.now() < deadline;
  try {
    stream.flushSync();
  } catch {
    // Given up at the deadline (or not ready): what is left is dropped.
  }
  stream.destroy();
}

/** Resolves once every line logged so far is written: call it before process.exit(). */
export function closeLogger(logger: Logger, timeoutMs = 5_000): Promise<void> {
  const file = fileStreams.get(logger);
  const stdout = stdoutStreams.get(logger);
  if (stdout) {
    drainOrDrop(stdout, timeoutMs);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs); // a stuck disk must not keep the daemon from exiting
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    logger.flush(() => {
      if (!file) return done();
      file.end(done);
    });
  });
}

/** log.file refusing its lines, as /healthz lists conditions that need the operator. */
export function logDegraded(logger: Logger): string[] {
  const health = fileStreams.get(logger)?.health();
  if (!health || health.error === null) return [];
  return [`log.file not writable: ${health.error} (${health.dropped} lines dropped)`];
}

/** The daemon's logger as the config's `logger` and `log` sections ask; a log file it cannot write is a config error. */
export function configuredLogger(config: Pick<Config, 'log' | 'logger'>, configFile: string): Logger {
  const { log, logger } = config;
  if (log.file === undefined) return createLogger({ level: logger.level });
  try {
    return createLogger({ level: logger.level, file: { file: log.file, maxBytes: sizeBytes(log.max_size)!, maxFiles: log.max_files } });
  } catch (error) {
    throw new ConfigError(configFile, [{ path: 'log.file', message: (error as Error).message }]);
  }
}
