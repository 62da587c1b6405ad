// The chart is read from the machine, eventless transitions included, context-only ones left out.
import { describe, expect, it } from 'vitest';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drawChart } from '../../src/inspector/draw-charts.ts';
import { chartOf, toDot, toMermaid } from '../../src/inspector/graph.ts';
import { ROOT } from '../support/daemon.ts';

const proxy = chartOf(proxyMachine);
const edge = (source: string, target: string) =>
  proxy.edges.filter((e) => e.source === `proxy.${source}` && e.target === `proxy.${target}`).map((e) => e.label);

describe('the charts in dist/', () => {
  // Laid out by the build, so that a daemon never runs ELK (1-2.5 s of its event loop per chart).
  for (const name of ['proxy', 'monitor'] as const) {
    it(`${name}.svg is the machine's chart as laid out now`, async () => {
      expect(readFileSync(join(ROOT, 'dist/charts', `${name}.svg`), 'utf8')).toBe(await drawChart(name));
    });
  }
});

describe('chartOf', () => {
  it('adds the always transitions with their guards', () => {
    expect(edge('crashed.deciding', 'restarting')).toEqual([
      'always if operatorAskedRestart',
      'always if cooldownElapsed and underRestartCap and backoffElapsed',
    ]);
    expect(edge('stopped.down', 'running')).toEqual(['always if wantedUp']);
    expect(edge('running.up', 'stopped.stopping')).toEqual([
      'always if wantedDown or retiring',
      'always if outdated',
      'always if restartRequested',
    ]);
    expect(edge('crashed.deciding', 'crashed.waiting')).toEqual(['always']);
  });

  it('leaves out transitions that change no state', () => {
    expect(edge('running.up', 'running.up')).toEqual([]);
    expect(proxy.edges.filter((e) => e.source === e.target)).toEqual([]);
    expect(chartOf(monitorMachine).edges.map((e) => e.label)).not.toContain('TICK');
  });

  it('keeps the nesting and the initial states', () => {
    const crashed = proxy.root.children.find((s) => s.key === 'crashed')!;
    expect(proxy.root.initial).toBe('proxy.unknown');
    expect(crashed.initial).toBe('proxy.crashed.deciding');
    expect(crashed.children.map((s) => s.key)).toEqual(['reaping', 'deciding', 'waiting', 'held']);
  });

  it('renders Mermaid with nested states and DOT with clusters', () => {
    const mermaid = toMermaid(proxy);
    expect(mermaid).toMatch(/^stateDiagram-v2\n {2}\[\*\] --> unknown\n/);
    expect(mermaid).toContain('  state crashed {\n    [*] --> crashed_deciding\n');
    expect(mermaid).toContain('    crashed_waiting --> crashed_deciding : WAKE\n');
    const dot = toDot(proxy);
    expect(dot).toContain('subgraph cluster_crashed {');
    expect(dot).toContain('unknown -> running_starting [label="BOOT", lhead=cluster_running];');
  });
});
