// The operator's world as the daemon model sees it: which proxies the config file and the running
// daemon hold, what the operator asked for, and so which proxies must have a process. Pure: each
// command's `apply` changes the model and says, per proxy, what must be seen on the machine after it.

/** `echo`: a small echo proxy (perl); `ss`: ss-server from a typed entry (its config file is generated). */
export type Kind = 'echo' | 'ss';

/** What the file says of one proxy: `variant` changes what is executed, `health` only the check. */
export interface FileEntry {
  variant: 0 | 1;
  health: 0 | 1;
  monitor: boolean;
}

export type Phase = 'running' | 'stopped' | 'crashed';

/** What must be seen after a command: a restart (pid changed, with its history record), a plain start or stop, or nothing. */
export type Change =
  | { kind: 'none' }
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'restart'; manual: boolean; reason: 'exited' | 'health_check_failed' | 'operator' | 'config_changed' };

export interface ProxyModel {
  id: string;
  kind: Kind;
  /** In the config file (null: not in it); `wasConfigured`: the daemon ran it at some point. */
  file: FileEntry | null;
  lastFile: FileEntry;
  /** As the daemon runs it (null: not in its running config). */
  applied: FileEntry | null;
  wasConfigured: boolean;
  /** The variant the live process was started with (what adoption compares). */
  processVariant: 0 | 1;
  phase: Phase;
  hung: boolean;
  /** Kept by the daemon's store across removals and daemon restarts. */
  wanted: 'up' | 'down';
  override: boolean | null;
  /** Automatic restart attempts so far (all inside the hourly window) and the cap on them. */
  automaticRestarts: number;
  cap: number;
  crashReason: 'exited' | 'health_check_failed';
  change: Change;
}

export interface Model {
  daemon: 'running' | 'killed' | 'stopped';
  proxies: ProxyModel[];
  maxRestarts: number;
}

export const proxyOf = (m: Model, id: string) => m.proxies.find((p) => p.id === id)!;
export const alive = (p: ProxyModel) => p.applied !== null && p.phase === 'running';
const monitoring = (p: ProxyModel) => p.override ?? p.applied!.monitor;
/** A hung (SIGSTOP) process is found by the checks when they run and prove more than a connect. */
const seesHang = (p: ProxyModel) => monitoring(p) && (p.kind === 'echo' || p.applied!.health === 0);

export function initialModel(ids: Array<{ id: string; kind: Kind; inFile: boolean }>, maxRestarts: number): Model {
  const entry: FileEntry = { variant: 0, health: 0, monitor: true };
  return {
    daemon: 'running',
    maxRestarts,
    proxies: ids.map(({ id, kind, inFile }) => ({
      id,
      kind,
      file: inFile ? { ...entry } : null,
      lastFile: { ...entry },
      applied: inFile ? { ...entry } : null,
      wasConfigured: inFile,
      processVariant: 0,
      phase: inFile ? 'running' : 'stopped',
      hung: false,
      wanted: 'up',
      override: null,
      automaticRestarts: 0,
      cap: maxRestarts,
      crashReason: 'exited' as const,
      change: { kind: 'none' as const },
    })),
  };
}

/** Start of a command: nothing has changed yet. */
export function beginStep(m: Model) {
  for (const p of m.proxies) p.change = { kind: 'none' };
}

function restart(p: ProxyModel, manual: boolean, reason: Extract<Change, { kind: 'restart' }>['reason']) {
  p.phase = 'running';
  p.hung = false;
  p.processVariant = p.applied!.variant;
  // A start from nothing (no process before) is recorded all the same, but no pid is replaced.
  p.change = { kind: 'restart', manual, reason };
}

/** A crash (exit, or a hang the checks found): restarted automatically while monitored and under the cap. */
function crash(p: ProxyModel, reason: 'exited' | 'health_check_failed') {
  p.phase = 'crashed';
  p.hung = false;
  p.crashReason = reason;
  p.change = { kind: 'stop' };
  decide(p);
}

function decide(p: ProxyModel) {
  if (p.phase !== 'crashed' || p.wanted === 'down' || !monitoring(p) || p.automaticRestarts >= p.cap) return;
  p.automaticRestarts += 1;
  restart(p, false, p.crashReason);
}

/** What may follow any change of settings: a crashed proxy restarts, a hang is found. */
function settle(p: ProxyModel) {
  if (p.applied === null) return;
  if (p.phase === 'crashed') decide(p);
  if (p.phase === 'running' && p.hung && seesHang(p)) crash(p, 'health_check_failed');
}

// ---- operator commands --------------------------------------------------------------------------

export function editFile(p: ProxyModel, edit: (entry: FileEntry) => FileEntry | null) {
  const next = edit(p.file ? { ...p.file } : { ...p.lastFile });
  if (next) p.lastFile = next;
  p.file = next;
}

/** A reload (SIGHUP, POST /reload): the daemon takes the file's config. */
export function reload(m: Model) {
  for (const p of m.proxies) {
    const before = p.applied;
    p.applied = p.file && { ...p.file };
    if (before && !p.applied) {
      if (p.phase === 'running') p.change = { kind: 'stop' };
      p.phase = 'stopped';
      p.hung = false;
    } else if (!before && p.applied) {
      p.wasConfigured = true;
      boot(p);
    } else if (before && p.applied) {
      if (p.phase === 'running' && p.applied.variant !== p.processVariant) restart(p, true, 'config_changed');
      settle(p);
    }
  }
}

/** A proxy the daemon starts supervising: started fresh (a boot start is no restart), unless stopped by the operator. */
function boot(p: ProxyModel) {
  p.hung = false;
  if (p.wanted === 'down') {
    p.phase = 'stopped';
    return;
  }
  p.phase = 'running';
  p.processVariant = p.applied!.variant;
  p.change = { kind: 'start' };
}

export function setOverride(p: ProxyModel, enabled: boolean) {
  p.override = enabled;
  settle(p);
}

export function stop(p: ProxyModel) {
  p.wanted = 'down';
  if (p.phase === 'running') {
    p.phase = 'stopped';
    p.hung = false;
    p.change = { kind: 'stop' };
  }
}

/** START and RESTART: a crashed proxy restarts at once (by hand); a stopped one starts; RESTART replaces a live one. */
export function start(p: ProxyModel, command: 'start' | 'restart') {
  p.wanted = 'up';
  if (p.phase === 'crashed') restart(p, true, 'operator');
  else if (p.phase === 'stopped') boot(p);
  else if (command === 'restart') restart(p, true, 'operator');
}

export function kill9(p: ProxyModel) {
  crash(p, 'exited');
}

export function killStop(p: ProxyModel) {
  p.hung = true;
  settle(p);
}

/** The daemon starts again: live processes of wanted proxies are adopted (replaced if what they execute changed). */
export function daemonStart(m: Model, adopt: boolean) {
  for (const p of m.proxies) {
    const live = adopt && p.applied !== null && p.phase === 'running';
    p.applied = p.file && { ...p.file };
    if (!p.applied) {
      if (live) p.change = { kind: 'stop' };
      p.phase = 'stopped';
      p.hung = false;
      continue;
    }
    p.wasConfigured = true;
    // Down after a crash when the daemon went away (a crashed proxy was configured): not started,
    // its restart policy carries on.
    if (!live && p.phase === 'crashed' && p.wanted === 'up') {
      decide(p);
      continue;
    }
    if (!live) {
      boot(p);
      continue;
    }
    if (p.applied.variant !== p.processVariant) restart(p, true, 'config_changed');
    settle(p);
  }
  m.daemon = 'running';
}

export function daemonStopped(m: Model) {
  for (const p of m.proxies) {
    if (p.applied && p.phase === 'running') p.change = { kind: 'stop' };
    p.hung = false;
  }
  m.daemon = 'stopped';
}
