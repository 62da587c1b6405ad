// At boot, before the supervisor starts: which processes of the previous run to adopt, which of ours
// to stop, which recorded ones to leave alone. The process table is settled on the way: rows of
// processes that are gone (or not ours) are dropped.
import type { ProxySpec } from '../proxy-spec.ts';
import { bootedAt, processStartedAt } from '../process/proc.ts';
import { checkProcess, commandLineOf, describeToken, findSpawnTokens } from './identity.ts';
import { executedFingerprint } from '../supervisor/executed.ts';
import { INTERRUPTED, type ProcessRow, type SpawnIntent, type Store } from '../store/types.ts';

export interface BootPlan {
  /**
   * Proxy id -> pid of its live process: the proxy starts as running, watching that process; or,
   * stopped by the operator, stops it as its own (a start then waits for its end).
   */
  adopt: Map<string, number>;
  /**
   * Proxies whose process was started from a different config: restart once supervised (an adopted
   * one, or one down after a crash, carried over).
   */
  replace: string[];
  /** Ours, but no longer wanted: stop them. */
  stop: Array<{ row: ProcessRow; why: string }>;
  /** Recorded, alive, but not provably ours: left alone and reported. */
  unproven: Array<{ row: ProcessRow; why: string }>;
  /**
   * Configured proxies whose recorded process ended while the daemon was down, since the machine
   * booted (a reboot ends every process: that is no crash of theirs), and none of whose is left.
   */
  lost: Map<string, ProcessRow>;
  /** Every recorded process that ended while the daemon was down, since the machine booted: what it left running is killed. */
  ended: ProcessRow[];
  /** Live processes of this state_dir the state had no record of, found by their spawn token (adopted or stopped as the rest). */
  unrecorded: ProcessRow[];
}

/**
 * The process the proxy's last restart was replacing, an operator's or a reload's that the daemon's
 * end interrupted (the process predates it): its end is that restart's doing, no crash; the proxy is
 * started, as the restart would have done.
 */
function endedByItsRestart(store: Store, row: ProcessRow): boolean {
  const [last] = store.restarts({ proxyId: row.proxyId, limit: 1 });
  return (
    last !== undefined &&
    last.error === INTERRUPTED &&
    last.at >= row.at &&
    (last.reason === 'operator' || last.reason === 'config_changed')
  );
}

/** `crashed`: the proxy was down after a crash when the last run ended (it carries it over). */
export function settleProcesses(
  store: Store,
  specs: Map<string, ProxySpec>,
  wanted: (id: string) => 'up' | 'down',
  crashed: (id: string) => boolean = () => false,
): BootPlan {
  const pending = new Map(store.pendingSpawns().map((intent) => [intent.token, intent]));
  const recorded = store.processes();
  const known = new Set(recorded.map((row) => row.token));
  // The spawns whose pid was never recorded, and the processes of this state_dir the state never
  // recorded at all (a write the disk refused, state.db reset or short of its last writes): found
  // by their token, kept in memory here, and written down (should the disk take it).
  const found = findSpawnTokens((token) => pending.has(token) || (!known.has(token) && describeToken(token, store.dir) !== undefined));
  const plan: BootPlan = { adopt: new Map(), replace: [], stop: [], unproven: [], lost: new Map(), ended: [], unrecorded: [] };
  const rows = [...recorded];
  for (const [token, hit] of found) {
    const intent = pending.get(token) ?? unrecordedIntent(token, store.dir, hit.pid);
    if (!intent) continue;
    const row = { ...intent, ...hit };
    if (!pending.has(token)) plan.unrecorded.push(row);
    rows.push(row);
    store.recordProcess(row);
  }
  for (const token of pending.keys()) if (!found.has(token)) store.forgetSpawn(token);

  const booted = bootedAt();
  // Newest first: should a proxy have two live processes, the newer one is kept.
  for (const row of rows.sort((a, b) => b.at - a.at)) {
    const verdict = checkProcess(row);
    if (verdict.kind !== 'ours') {
      store.forgetProcess(row.proxyId, row.pid);
      if (verdict.kind === 'unproven') plan.unproven.push({ row, why: verdict.why });
      else if (booted !== undefined && row.at >= booted) {
        plan.ended.push(row);
        if (specs.has(row.proxyId) && !plan.lost.has(row.proxyId) && !endedByItsRestart(store, row)) plan.lost.set(row.proxyId, row);
      }
      continue;
    }
    const spec = specs.get(row.proxyId);
    const unwanted = !spec
      ? 'the proxy is no longer in the configuration'
      : plan.adopt.has(row.proxyId)
        ? 'a newer process of the same proxy is running'
        : undefined;
    if (unwanted) {
      plan.stop.push({ row, why: unwanted });
      continue;
    }
    plan.adopt.set(row.proxyId, row.pid);
    // A fingerprint read off a token is its first 16 hex digits.
    if (wanted(row.proxyId) === 'up' && !executedFingerprint(spec!).startsWith(row.fingerprint)) plan.replace.push(row.proxyId);
  }
  // A newer process of the proxy lives on: the one that ended was an older one's.
  for (const id of plan.adopt.keys()) plan.lost.delete(id);
  // Down after a crash, its entry changed while the daemon was down (its command fixed, say): not
  // left to wait out its cooldown or cap, but restarted at once with the new one, as a reload does.
  for (const [id, spec] of specs) {
    if (plan.adopt.has(id) || plan.lost.has(id) || wanted(id) !== 'up' || !crashed(id)) continue;
    const from = store.startedFrom(id);
    if (from !== null && !executedFingerprint(spec).startsWith(from)) plan.replace.push(id);
  }
  return plan;
}

/** What a live process's token of this state_dir tells of its spawn, for one the state never recorded. */
function unrecordedIntent(token: string, stateDir: string, pid: number): SpawnIntent | undefined {
  const named = describeToken(token, stateDir);
  const startedAt = processStartedAt(pid);
  if (!named || startedAt === undefined) return undefined;
  return { token, proxyId: named.proxyId, fingerprint: named.fingerprint, command: JSON.stringify(commandLineOf(pid)), at: startedAt };
}
