// A chart laid out by ELK (in Node, once per machine) and drawn as SVG, so the page needs no layout
// or drawing library. Each state's box carries data-state="<path>" for the page to highlight.
import elk, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { Chart, ChartState } from './graph.ts';

const CHAR_W = 7;
const LINE_H = 16;
const PAD = 24;
/** Edge labels wrap at this many characters: one long label would stretch the whole chart. */
const LABEL_CHARS = 30;

const pathOf = (chart: Chart, id: string) => (id === chart.root.id ? '' : id.slice(chart.root.id.length + 1));

function nodeOf(state: ChartState): ElkNode {
  if (!state.children.length) return { id: state.id, width: state.key.length * CHAR_W + 2 * PAD, height: 36 };
  return {
    id: state.id,
    layoutOptions: { 'elk.padding': `[top=${LINE_H + 12},left=12,bottom=12,right=12]` },
    children: state.children.map(nodeOf),
  };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Words into lines of at most LABEL_CHARS (a longer word keeps its own line). */
function wrap(text: string): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= LABEL_CHARS) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** An arrowhead drawn at `to`, pointing away from `from`: a polygon, so the SVG needs no ids. */
function arrowHead(from: { x: number; y: number }, to: { x: number; y: number }): string {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  const [dx, dy] = [(to.x - from.x) / length, (to.y - from.y) / length];
  const [back, half] = [8, 3.5];
  const points = [
    [to.x, to.y],
    [to.x - dx * back - dy * half, to.y - dy * back + dx * half],
    [to.x - dx * back + dy * half, to.y - dy * back - dx * half],
  ];
  return `<polygon class="arrow" points="${points.map(([x, y]) => `${x},${y}`).join(' ')}"/>`;
}

export async function chartSvg(chart: Chart): Promise<string> {
  // Parallel edges are drawn once, their labels joined: eight arrows into crashed.deciding are noise.
  const joined = new Map<string, { source: string; target: string; labels: string[] }>();
  for (const edge of chart.edges) {
    const key = `${edge.source} ${edge.target}`;
    const entry = joined.get(key) ?? joined.set(key, { source: edge.source, target: edge.target, labels: [] }).get(key)!;
    entry.labels.push(edge.label);
  }
  const edges: ElkExtendedEdge[] = [...joined.values()].map((edge, i) => {
    const lines = wrap(edge.labels.join(', '));
    const width = Math.max(...lines.map((line) => line.length)) * (CHAR_W - 1);
    const label = { text: lines.join('\n'), width, height: lines.length * LINE_H };
    return { id: `e${i}`, sources: [edge.source], targets: [edge.target], labels: [label] };
  });
  const graph: ElkNode = {
    id: chart.root.id,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      // States in the order the machine declares them: the chart reads like the definition.
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeLabel': '4',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children: chart.root.children.map(nodeOf),
    edges,
  };
  // elkjs is CommonJS: its constructor is the module's `default` under NodeNext typing.
  const laid = await new elk.default().layout(graph);

  const out: string[] = [];
  const drawState = (node: ElkNode, state: ChartState) => {
    const path = pathOf(chart, state.id);
    const compound = state.children.length > 0;
    out.push(
      `<g class="state${compound ? ' compound' : ''}" data-state="${escapeXml(path)}">`,
      `<rect x="${node.x}" y="${node.y}" width="${node.width}" height="${node.height}" rx="8"/>`,
      compound
        ? `<text x="${node.x! + 10}" y="${node.y! + LINE_H}">${escapeXml(state.key)}</text>`
        : `<text x="${node.x! + node.width! / 2}" y="${node.y! + node.height! / 2 + 5}" text-anchor="middle">${escapeXml(state.key)}</text>`,
      '</g>',
    );
    for (const [i, child] of state.children.entries()) drawState(node.children![i], child);
  };
  for (const [i, child] of chart.root.children.entries()) drawState(laid.children![i], child);

  for (const edge of laid.edges ?? []) {
    for (const section of edge.sections ?? []) {
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      out.push(
        `<polyline class="edge" points="${points.map((p) => `${p.x},${p.y}`).join(' ')}"/>`,
        arrowHead(points.at(-2)!, points.at(-1)!),
      );
    }
    for (const label of edge.labels ?? []) {
      const lines = (label.text ?? '')
        .split('\n')
        .map((line, i) => `<tspan x="${label.x}" y="${label.y! + (i + 1) * LINE_H - 4}">${escapeXml(line)}</tspan>`);
      out.push(`<text class="edge-label">${lines.join('')}</text>`);
    }
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${laid.width} ${laid.height}" data-machine="${escapeXml(chart.root.key)}">`,
    ...out,
    '</svg>',
  ].join('\n');
}
