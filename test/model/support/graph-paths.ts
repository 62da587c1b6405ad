// Paths to every state of a test model's graph, shortest first: a breadth-first walk over
// `getAdjacencyMap()`. (`getShortestPaths()` gives the same paths but joins them quadratically, and
// drops the ones that are prefixes of others, which are exactly the ones a transition may need.)
import type { AdjacencyMap } from 'xstate/graph';

export interface GraphPath<S, E> {
  events: E[];
  state: S;
  /** Every event the environment offers in this state, with the state it leads to. */
  edges: Array<{ event: E; state: S }>;
}

export function shortestPaths<S, E>(adjacency: AdjacencyMap<S, E>, serialize: (s: S) => string): Array<GraphPath<S, E>> {
  const vertex = (key: string) => adjacency[key as keyof typeof adjacency];
  const [initial] = Object.keys(adjacency);
  const queue = [{ key: initial, events: [] as E[] }];
  const seen = new Set([initial]);
  const paths: Array<GraphPath<S, E>> = [];
  for (const { key, events } of queue) {
    const edges = Object.values(vertex(key).transitions);
    paths.push({ events, state: vertex(key).state, edges });
    for (const { event, state } of edges) {
      const next = serialize(state);
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push({ key: next, events: [...events, event] });
    }
  }
  return paths;
}
