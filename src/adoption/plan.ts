// At boot, before the supervisor starts: which processes of the previous run to adopt, which of ours
// to stop, which recorded ones to leave alone. The process table is settled on the way: rows of
// processes that are gone (or not ours) are dropped.
import type { ProxySpec } from '../proxy-spec.ts';
import { bootedAt } from '../process/proc.ts';
import { checkProcess, findSpawnTokens } from './identity.ts';
import { executedFingerprint } from '../supervisor/executed.ts';
import type { ProcessRow, Store } from '../store/types.ts';

export interface BootPlan {
  /**
   * Proxy id -> pid of its live process: the proxy starts as running, watching that process; or,
   * stopped by the operator, stops it as its own (a start then waits for its end).
   */
  adopt: Map<string, number>;
  /** Adopted proxies whose process was started from a different config: restart once supervised. */
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
}

export function settleProcesses(store: Store, specs: Map<string, ProxySpec>, wanted: (id: string) => 'up' | 'down'): BootPlan {
  const pending = store.pendingSpawns();
  const found = findSpawnTokens(new Set(pending.map((intent) => intent.token)));
  for (const intent of pending) {
    const hit = found.get(intent.token);
    if (hit) store.recordProcess({ ...intent, ...hit });
    else store.forgetSpawn(intent.token);
  }

  const plan: BootPlan = { adopt: new Map(), replace: [], stop: [], unproven: [], lost: new Map(), ended: [] };
  const booted = bootedAt();
  // Newest first: should a proxy have two live processes, the newer one is kept.
  for (const row of store.processes().reverse()) {
    const verdict = checkProcess(row);
    if (verdict.kind !== 'ours') {
      store.forgetProcess(row.proxyId, row.pid);
      if (verdict.kind === 'unproven') plan.unproven.push({ row, why: verdict.why });
      else if (booted !== undefined && row.at >= booted) {
        plan.ended.push(row);
        if (specs.has(row.proxyId) && !plan.lost.has(row.proxyId)) plan.lost.set(row.proxyId, row);
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
    if (wanted(row.proxyId) === 'up' && row.fingerprint !== executedFingerprint(spec!)) plan.replace.push(row.proxyId);
  }
  // A newer process of the proxy lives on: the one that ended was an older one's.
  for (const id of plan.adopt.keys()) plan.lost.delete(id);
  return plan;
}
