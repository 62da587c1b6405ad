// `proxy-monitor state check|reset (--state-dir DIR | --config FILE)`: the way out of a damaged
// state.db. The daemon fails closed on one (without its history it would restart past the cap);
// check says what is wrong, reset moves the database aside so the next start begins afresh.
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, renameSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { lockStateDir, StateDirError } from '../store/lock.ts';
import { DATABASE_FILE } from '../store/sqlite.ts';
import { STATE_USAGE } from './usage.ts';

export interface StateIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: StateIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

class UsageError extends Error {}

export function stateCommand(argv: string[], io: StateIo = processIo): number {
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'state-dir': { type: 'string' }, config: { type: 'string', short: 'c' } },
    });
    const [action] = positionals;
    if (positionals.length !== 1 || (action !== 'check' && action !== 'reset'))
      throw new UsageError('expected "state check" or "state reset"');
    const dir = values['state-dir'] ?? (values.config === undefined ? undefined : loadConfig(values.config).config.state_dir);
    if (dir === undefined) throw new UsageError('state needs --state-dir DIR or --config FILE');
    return action === 'check' ? check(resolve(dir), io) : reset(resolve(dir), io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`proxy-monitor state: ${(error as Error).message}\n${STATE_USAGE}`);
      return 2;
    }
    throw error;
  }
}

function check(dir: string, io: StateIo): number {
  const file = join(dir, DATABASE_FILE);
  // A mistyped path in a backup or health script must not read as a sound database.
  const kind = existsSync(dir) ? (statSync(dir).isDirectory() ? undefined : 'not a directory') : 'no such directory';
  if (kind) {
    io.err(`proxy-monitor: state_dir ${dir}: ${kind}\n`);
    return 1;
  }
  if (!existsSync(file)) {
    io.out(`${file}: no state database (the daemon creates one at start)\n`);
    return 0;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const problems = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
    const found = problems.map((row) => row.integrity_check).filter((line) => line !== 'ok');
    if (found.length) throw new Error(found.slice(0, 5).join('; '));
    const count = (table: string) => db!.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    io.out(
      `${basename(file)}: ok (schema ${db.pragma('user_version', { simple: true })}, ${count('restarts')} restarts, ${count('audit')} audit rows, ${count('processes')} processes) in ${dir}\n`,
    );
    return 0;
  } catch (error) {
    // Not opened at all on a read-only file system (SQLite writes its -shm file beside a WAL
    // database even to read it): nothing says it is damaged, and a reset would throw it away.
    const readOnly = /^SQLITE_(CANTOPEN|READONLY)/.test(String((error as { code?: string }).code)) && readOnlyReason(dir);
    if (readOnly) {
      io.err(`${file}: cannot be opened: ${readOnly}; it is not known to be damaged: remount the file system read-write\n`);
      return 1;
    }
    io.err(
      `${file}: state.db is damaged: ${(error as Error).message}\n  stop the daemon, then: proxy-monitor state reset --state-dir ${dir}   (or restore a backup of it)\n`,
    );
    return 1;
  } finally {
    db?.close();
  }
}

/** Why the directory cannot be written to, when that is its file system's doing (EROFS). */
function readOnlyReason(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS' ? 'its directory is on a read-only file system' : undefined;
  }
}

function reset(dir: string, io: StateIo): number {
  let lock: ReturnType<typeof lockStateDir>;
  try {
    lock = lockStateDir(dir);
  } catch (error) {
    if (!(error instanceof StateDirError)) throw error;
    io.err(`proxy-monitor: ${error.message.replace(/; not starting a second one$/, '')}: stop it first\n`);
    return 1;
  }
  try {
    const file = join(dir, DATABASE_FILE);
    if (!existsSync(file)) {
      io.out(`${file}: no state database, nothing to reset\n`);
      return 0;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const aside = `${file}.damaged-${stamp}`;
    // The WAL and shared-memory files belong to that database: they go with it.
    try {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    } catch (error) {
      io.err(`proxy-monitor: cannot move ${file} aside: ${(error as Error).message}\n`);
      return 1;
    }
    io.out(
      `moved ${file} aside to ${basename(aside)}; the next start begins with an empty history: restart counts, ` +
        `operator stops and enable/disable are forgotten; proxy processes a killed daemon left running are found by the spawn token they carry: adopted if their proxy is still configured, stopped if not\n`,
    );
    return 0;
  } finally {
    lock.release();
  }
}
