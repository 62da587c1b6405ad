// Can a proxy's command be exec'd? Asked by the driver before each start (behind its shell a failed
// exec is only an exit status 127) and by the config's loading (a reload does not stop a proxy for a
// program it cannot run), so it belongs to neither.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { isDirectory } from './make-dirs.ts';
import type { ProxySpec } from './proxy-spec.ts';

/** A proxy whose command cannot be exec'd: the config key that names it, and why. */
export interface Unexecutable {
  id: string;
  /** `proxy.proxies[N].command` (a raw entry), `.binary` (a typed one, whose default it may be), `.cwd` or `.health.exec`. */
  key: string;
  why: string;
  /** Its exec health check's program, not the proxy's: the proxy starts, and every check fails. */
  healthCheck?: true;
}

/**
 * Throws as spawn would (code ENOENT or EACCES) when `command` cannot be exec'd: behind the shell,
 * a failed exec would only be an exit status 127, indistinguishable from the proxy's own.
 */
export function assertExecutable(command: string, cwd: string | undefined, path: string | undefined): void {
  const candidates = command.includes('/')
    ? [resolve(cwd ?? '.', command)]
    : (path ?? '').split(delimiter).map((dir) => join(dir || '.', command));
  let code = 'ENOENT';
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return;
      code = 'EACCES';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') code = 'EACCES';
    }
  }
  throw Object.assign(new Error(`spawn ${command} ${code}`), { code });
}

/**
 * The proxies whose command cannot be exec'd as things are, each with the config key that names it
 * (`command` of a raw entry, `binary` of a typed one) and why, in the words a spawn would use
 * ("spawn /usr/bin/perll ENOENT"): looked up as the driver does, on the PATH the proxy gets.
 */
export function unexecutable(specs: ProxySpec[]): Unexecutable[] {
  return specs.flatMap((spec, index) => {
    if (spec.cwd !== undefined && !isDirectory(spec.cwd))
      return [{ id: spec.id, key: `proxy.proxies[${index}].cwd`, why: `working directory ${spec.cwd} does not exist` }];
    const key = `proxy.proxies[${index}].${spec.type === 'exec' ? 'command' : 'binary'}`;
    const found = problem(spec.id, key, () => assertExecutable(spec.command, spec.cwd, spec.env.PATH ?? process.env.PATH));
    // An exec check runs from the daemon's directory, on its PATH: one that cannot would fail every
    // check, and a working proxy would be killed for it.
    if (spec.health.kind !== 'exec') return found;
    const [check] = spec.health.command;
    const unrunnable = problem(spec.id, `proxy.proxies[${index}].health.exec`, () => assertExecutable(check, undefined, process.env.PATH));
    return [...found, ...unrunnable.map((u) => ({ ...u, healthCheck: true as const }))];
  });
}

function problem(id: string, key: string, check: () => void): Unexecutable[] {
  try {
    check();
    return [];
  } catch (error) {
    return [{ id, key, why: (error as Error).message }];
  }
}
