// log.file: the JSON lines go to a file that rolls over by size, keeping a bounded number of files
// so the log cannot fill the disk. Files are numbered (proxy-monitor.1.log, .2.log, ... the highest
// is the live one); `current.log` beside them always points at the live file, for `tail -F`.
//
// Written here, on the daemon's thread, with asynchronous writes (libuv's thread pool does the
// I/O): a slow disk delays the log, never supervision, and no worker thread (~6 MiB) is kept for it.
// A disk that refuses a write (full, read-only, I/O error) does not end the log: the lines meanwhile
// are dropped and counted, the daemon says so on stderr (journald still has it) and in /healthz,
// and writing resumes once the disk takes a write again, with a line in the file itself that says
// how many lines are missing there and since when (a reader of the shipped log must tell a gap from
// a quiet hour). A live file removed or renamed from under the daemon (rm, logrotate's rename) is
// noticed within a second and made again: the daemon does not go on writing to a deleted file.
import { accessSync, constants, readdirSync } from 'node:fs';
import { type FileHandle, open, readdir, rename, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { isDirectory, makeDirs } from '../make-dirs.ts';

export interface LogFileOptions {
  file: string;
  /** Bytes after which the file rolls over. */
  maxBytes: number;
  /** Files kept, the live one included. */
  maxFiles: number;
}

export interface LogFileHealth {
  /** The last refusal ("ENOSPC: no space left on device"); null while lines are written. */
  error: string | null;
  /** Lines dropped since the log file could not be written (or its queue was full), not yet noted in it. */
  dropped: number;
}

/** Lines waiting for the disk, at most: past this (a disk far slower than the log) new ones are dropped. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** While the disk refuses writes, one is tried again this often. */
const RETRY_MS = 2_000;
/** The live file is looked for at its path at most this often (after a write). */
const RELINK_CHECK_MS = 1_000;

export interface RollingFile {
  write(line: string): void;
  /** Calls back once every line given so far is written (or dropped). */
  flush(callback: (error?: Error) => void): void;
  /** Writes what is queued, then closes; calls back when done. */
  end(callback: () => void): void;
  health(): LogFileHealth;
}

/**
 * Checks at once that the directory is writable (later failures are the disk's, handled as it
 * goes), then writes to the next numbered file.
 */
export function rollingFile(options: LogFileOptions, warn: (line: string) => void = (line) => process.stderr.write(line)): RollingFile {
  const path = resolve(options.file);
  // A directory would be taken for a file's name: the numbered files and current.log would land
  // beside it, in its parent, where no one looks for them.
  if (options.file.endsWith('/') || isDirectory(path))
    throw new Error(`${options.file} is a directory; expected the path of a log file (its numbered files and current.log go beside it)`);
  const dir = dirname(path);
  try {
    makeDirs(dir, 0o750);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new Error(`cannot write to ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const extension = extname(path);
  const stem = basename(path, extension);
  const numbered = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)${extension.replace('.', '\\.')}$`);
  const numbersOf = (names: string[]) =>
    names
      .map((name) => Number(numbered.exec(name)?.[1]))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
  const nameOf = (n: number) => `${stem}.${n}${extension}`;

  // A new file for each run, numbered after the last one an earlier run left.
  let number = (numbersOf(readdirSync(dir)).at(-1) ?? 0) + 1;
  let live: FileHandle | undefined;
  let size = 0;
  let queue: string[] = [];
  let queuedBytes = 0;
  /** A drain is running, or waiting to retry a disk that refused. */
  let busy = false;
  let error: string | null = null;
  /** Lines dropped and not yet noted in the file, since `droppedSince`. */
  let dropped = 0;
  let droppedSince = 0;
  let linkCheckedAt = 0;
  /** A write cut short by the disk left a line without its end: the next line starts on a new one. */
  let midLine = false;
  let retryAt = 0;
  const waiting: Array<() => void> = [];
  let ending = false;

  async function openLive(): Promise<FileHandle> {
    const handle = await open(join(dir, nameOf(number)), 'a', 0o640);
    size = (await handle.stat()).size;
    live = handle;
    // The link is made beside and renamed over: `tail -F` never sees it missing.
    const link = join(dir, 'current.log');
    await unlink(`${link}.new`).catch(() => {});
    await symlink(nameOf(number), `${link}.new`);
    await rename(`${link}.new`, link);
    // Every numbered file counts, earlier runs' too: the oldest beyond max_files go.
    const numbers = numbersOf(await readdir(dir));
    for (const old of numbers.slice(0, Math.max(0, numbers.length - options.maxFiles)))
      await unlink(join(dir, nameOf(old))).catch(() => {});
    return handle;
  }

  async function writeAll(handle: FileHandle, text: string): Promise<void> {
    const bytes = Buffer.from(text);
    const start = size;
    let offset = 0;
    while (offset < bytes.length) {
      try {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
        size += bytesWritten;
      } catch (cause) {
        // Part of the batch went in: the file is cut back to its last whole line, so that every
        // line in it stays a JSON line; failing that, the next line starts on a line of its own.
        if (offset > 0) {
          const whole = bytes.subarray(0, offset).lastIndexOf(10) + 1;
          try {
            await handle.truncate(start + whole);
            size = start + whole;
          } catch {
            midLine = true;
          }
        }
        throw cause;
      }
    }
  }

  const drop = (lines: number) => {
    if (dropped === 0) droppedSince = Date.now();
    dropped += lines;
  };

  /** The line, in the logger's own shape, that says what is missing before it. */
  const gapNote = () =>
    `${JSON.stringify({
      level: 'warn',
      timestamp: new Date().toISOString(),
      component: 'proxy-monitor',
      dropped_lines: dropped,
      since: new Date(droppedSince).toISOString(),
      reason: error ?? 'the log came faster than the disk took it',
      message: 'log lines dropped: log.file could not take them',
    })}\n`;

  /** The live file is still the one at its path (not removed, not renamed away)? Else it is let go. */
  async function checkLink(): Promise<void> {
    const now = Date.now();
    if (!live || now - linkCheckedAt < RELINK_CHECK_MS) return;
    linkCheckedAt = now;
    const [mine, atPath] = await Promise.all([live.stat().catch(() => undefined), stat(join(dir, nameOf(number))).catch(() => undefined)]);
    if (!mine || (atPath && atPath.ino === mine.ino && atPath.dev === mine.dev)) return;
    const gone = live;
    live = undefined; // the next batch makes it again, and current.log with it
    await gone.close().catch(() => {});
  }

  /** Writes one batch: every line queued now. */
  async function writeBatch(): Promise<void> {
    const lines = queue.length;
    const note = dropped > 0 ? gapNote() : '';
    const batch = note + queue.join('');
    queue = [];
    queuedBytes = 0;
    try {
      await checkLink();
      await writeAll(live ?? (await openLive()), midLine ? `\n${batch}` : batch);
      midLine = false;
      if (error !== null) warn(`proxy-monitor: log.file ${path} is written again (${dropped} lines were dropped meanwhile)\n`);
      error = null;
      dropped = 0;
      if (size >= options.maxBytes) {
        const full = live!;
        live = undefined;
        number++;
        await full.close().catch(() => {});
      }
    } catch (cause) {
      drop(lines);
      const reason = (cause as Error).message;
      if (error === null) warn(`proxy-monitor: cannot write log.file ${path} (${reason}): lines are dropped until it can be written\n`);
      error = reason;
      retryAt = Date.now() + RETRY_MS;
    }
  }

  async function drain(): Promise<void> {
    while (queue.length) {
      const wait = retryAt - Date.now();
      if (error !== null && wait > 0) {
        setTimeout(() => void drain(), wait).unref();
        return;
      }
      await writeBatch();
    }
    busy = false;
    for (const done of waiting.splice(0)) done();
  }

  function flush(callback: () => void): void {
    if (busy) waiting.push(callback);
    else callback();
  }

  return {
    write(line) {
      if (ending) return;
      if (queuedBytes + line.length > MAX_QUEUED_BYTES) {
        drop(1);
        return;
      }
      queue.push(line);
      queuedBytes += line.length;
      if (busy) return;
      busy = true;
      void drain();
    },
    flush,
    end(callback) {
      ending = true;
      // A disk that still refuses: what is queued is dropped, not waited for.
      if (error !== null) {
        drop(queue.length);
        queue = [];
      }
      flush(() => {
        const last = live;
        live = undefined;
        if (!last) return callback();
        void last.close().then(callback, callback);
      });
    },
    health: () => ({ error, dropped }),
  };
}
