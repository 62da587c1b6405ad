// log.file: the JSON lines go to a file that rolls over by size (pino-roll, in pino's worker thread),
// keeping a bounded number of old files so the log cannot fill the disk. Files are numbered
// (proxy-monitor.1.log, .2.log, ... the highest is the live one); `current.log` beside them always
// points at the live file, for `tail -F`.
import { accessSync, constants } from 'node:fs';
import { makeDirs } from '../make-dirs.ts';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';

export interface LogFileOptions {
  file: string;
  /** Bytes after which the file rolls over. */
  maxBytes: number;
  /** Files kept, the live one included. */
  maxFiles: number;
}

/**
 * Checks at once that the directory is writable (the worker would only fail later, out of sight),
 * then starts the rolling transport.
 */
export function rollingFile(options: LogFileOptions) {
  const file = resolve(options.file);
  try {
    makeDirs(dirname(file), 0o750);
    accessSync(dirname(file), constants.W_OK);
  } catch (error) {
    throw new Error(`cannot write to ${dirname(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return pino.transport({
    target: 'pino-roll',
    options: {
      file,
      // pino-roll reads a bare number as megabytes.
      size: `${Math.max(1, Math.round(options.maxBytes / 1024))}k`,
      // Counted over every numbered file in the directory, so files of earlier runs are bounded too.
      limit: { count: options.maxFiles, removeOtherLogFiles: true },
      symlink: true,
      mode: 0o640,
    },
  });
}
