// A statechart's structure, read from the real machine definition, and its text renderings.
// toDirectedGraph leaves out eventless (`always`) transitions and shows targetless ones as
// self-loops; here the `always` edges are added (labelled with their guards) and targetless ones
// dropped: they change context, not state, and a chart of states should not show them.
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { proxyMachine } from '../../machines/proxy.machine.ts';

export const MACHINES = { proxy: proxyMachine, monitor: monitorMachine } as const;
export type MachineName = keyof typeof MACHINES;

export interface ChartState {
  /** The state node's id, e.g. "proxy.crashed.waiting". */
  id: string;
  /** Its key in its parent, e.g. "waiting". */
  key: string;
  /** The id of its initial child, for compound states. */
  initial?: string;
  children: ChartState[];
}

export interface ChartEdge {
  source: string;
  target: string;
  /** The event (or "always") and, when guarded, the guard: "BOOT if wantedDown". */
  label: string;
}

export interface Chart {
  root: ChartState;
  edges: ChartEdge[];
}

type Guard = undefined | string | { type?: string; guards?: Guard[]; check?: { name: string } };

/** A guard as text: named guards by name, and(), or(), not() spelled out. */
function guardText(guard: Guard): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (guard.guards) {
    const parts = guard.guards.map((g) => guardText(g) ?? '?');
    const op = guard.check?.name;
    if (op === 'checkNot') return `not ${parts.join(' ')}`;
    return parts.join(op === 'checkOr' ? ' or ' : ' and ');
  }
  return guard.type ?? 'guard';
}

const label = (event: string, guard: Guard) => {
  const text = guardText(guard);
  return text ? `${event} if ${text}` : event;
};

function stateOf(node: DirectedGraphNode): ChartState {
  const stateNode = node.stateNode as AnyStateNode;
  const initial = stateNode.initial?.target?.[0]?.id;
  return { id: node.id, key: stateNode.key, ...(initial && { initial }), children: node.children.map(stateOf) };
}

function edgesOf(machine: AnyStateMachine, node: DirectedGraphNode, edges: ChartEdge[]): void {
  for (const edge of node.edges) {
    const transition = edge.transition as { target?: AnyStateNode[]; guard?: Guard; eventType: string };
    if (!transition.target?.length) continue;
    edges.push({ source: edge.source.id, target: edge.target.id, label: label(transition.eventType, transition.guard) });
  }
  for (const transition of machine.getStateNodeById(node.id).always ?? []) {
    for (const target of transition.target ?? []) {
      edges.push({ source: node.id, target: target.id, label: label('always', transition.guard as Guard) });
    }
  }
  for (const child of node.children) edgesOf(machine, child, edges);
}

export function chartOf(machine: AnyStateMachine): Chart {
  const graph = toDirectedGraph(machine);
  const edges: ChartEdge[] = [];
  edgesOf(machine, graph, edges);
  return { root: stateOf(graph), edges };
}

function allStates(state: ChartState): ChartState[] {
  return [state, ...state.children.flatMap(allStates)];
}

/** A state's id relative to the root, safe as a Mermaid/DOT identifier: "crashed_waiting". */
function nameIn(chart: Chart) {
  const prefix = `${chart.root.id}.`;
  return (id: string) => id.slice(prefix.length).replaceAll('.', '_');
}

/** The deepest state that contains both ends of an edge: where the edge is declared. */
function ownerOf(edge: ChartEdge): string {
  const a = edge.source.split('.');
  const b = edge.target.split('.');
  let common = 0;
  while (common < a.length - 1 && common < b.length - 1 && a[common] === b[common]) common++;
  return a.slice(0, Math.max(common, 1)).join('.');
}

export function toMermaid(chart: Chart): string {
  const name = nameIn(chart);
  const lines = ['stateDiagram-v2'];
  const edgesByOwner = new Map<string, ChartEdge[]>();
  for (const edge of chart.edges) {
    const owner = ownerOf(edge);
    edgesByOwner.set(owner, [...(edgesByOwner.get(owner) ?? []), edge]);
  }
  const write = (state: ChartState, indent: string) => {
    if (state.initial) lines.push(`${indent}[*] --> ${name(state.initial)}`);
    for (const child of state.children) {
      if (child.children.length) {
        lines.push(`${indent}state ${name(child.id)} {`);
        write(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (name(child.id) !== child.key) {
        lines.push(`${indent}state "${child.key}" as ${name(child.id)}`);
      }
    }
    for (const edge of edgesByOwner.get(state.id) ?? [])
      lines.push(`${indent}${name(edge.source)} --> ${name(edge.target)} : ${edge.label}`);
  };
  write(chart.root, '  ');
  return `${lines.join('\n')}\n`;
}

export function toDot(chart: Chart): string {
  const name = nameIn(chart);
  const states = new Map(allStates(chart.root).map((s) => [s.id, s]));
  // DOT edges join nodes, not clusters: a compound end is drawn at its initial leaf, clipped to the cluster.
  const leafOf = (id: string): string => {
    const state = states.get(id)!;
    return state.children.length ? leafOf(state.initial ?? state.children[0].id) : id;
  };
  const lines = [`digraph ${chart.root.key} {`, '  compound=true;', '  node [shape=box, style=rounded];'];
  const write = (state: ChartState, indent: string) => {
    for (const child of state.children) {
      if (child.children.length) {
        lines.push(`${indent}subgraph cluster_${name(child.id)} {`, `${indent}  label="${child.key}";`);
        write(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${name(child.id)} [label="${child.key}"];`);
      }
    }
  };
  write(chart.root, '  ');
  for (const edge of chart.edges) {
    const attrs = [`label="${edge.label}"`];
    if (states.get(edge.source)!.children.length) attrs.push(`ltail=cluster_${name(edge.source)}`);
    if (states.get(edge.target)!.children.length) attrs.push(`lhead=cluster_${name(edge.target)}`);
    lines.push(`  ${name(leafOf(edge.source))} -> ${name(leafOf(edge.target))} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export const FORMATS = {
  mermaid: toMermaid,
  dot: toDot,
  json: (chart: Chart) => `${JSON.stringify(chart, null, 2)}\n`,
} as const;
export type ChartFormat = keyof typeof FORMATS;
