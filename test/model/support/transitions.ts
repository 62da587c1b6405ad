// Names every transition a machine defines, and the transition an inspection event reports, with
// the same key: "source event#index -> targets". The index tells apart the guarded branches of one
// event (BOOT has three), so a branch counts as covered only when that branch itself was taken.
// Keys are structural (state node ids), so a machine and its `.provide()`d copy share them.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

export function transitionKey(t: AnyTransitionDefinition): string {
  const source = t.source as AnyStateNode;
  const eventless = t.eventType === '';
  const siblings = eventless ? (source.always ?? []) : (source.transitions.get(t.eventType) ?? []);
  const targets = (t.target ?? []).map((n: AnyStateNode) => n.id).join(',') || '(none)';
  return `${source.id} ${eventless ? 'always' : t.eventType}#${siblings.indexOf(t)} -> ${targets}`;
}

export function allStateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allStateNodes(child as AnyStateNode))];
}

export function allTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  return allStateNodes(machine.root).flatMap((node) => [...[...node.transitions.values()].flat(), ...(node.always ?? [])]);
}

export function allTransitionKeys(machine: AnyStateMachine): string[] {
  return allTransitions(machine).map(transitionKey);
}

/** The top-level state a node belongs to (`running` for `running.up`); undefined for the root. */
export function topLevel(node: AnyStateNode): string | undefined {
  return node.path[0];
}

/** Every edge between two different top-level states, as "from->to", from any level of nesting. */
export function topLevelEdges(machine: AnyStateMachine): Set<string> {
  const edges = new Set<string>();
  for (const t of allTransitions(machine)) {
    for (const target of t.target ?? []) {
      const from = topLevel(t.source as AnyStateNode);
      const to = topLevel(target as AnyStateNode);
      if (from !== undefined && to !== undefined && from !== to) edges.add(`${from}->${to}`);
    }
  }
  return edges;
}

/** Prints the line `npm run test:model` is judged by and returns the keys never taken. */
export function reportCoverage(name: string, machine: AnyStateMachine, taken: Set<string>): string[] {
  const all = allTransitionKeys(machine);
  const missing = all.filter((key) => !taken.has(key));
  console.log(`${name}: transitions covered: ${all.length - missing.length}/${all.length}`);
  return missing;
}
