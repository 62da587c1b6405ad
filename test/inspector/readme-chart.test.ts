// The README's proxy chart is a copy: it must say what the machine does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { chartOf, toMermaid } from '../../src/inspector/graph.ts';
import { ROOT } from '../support/daemon.ts';

it('the README shows the proxy machine as it is defined', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- proxy-chart:start -->\n```mermaid\n([\s\S]*?)```\n<!-- proxy-chart:end -->/.exec(readme);
  expect(block, 'README.md has no mermaid block between the proxy-chart markers').not.toBeNull();
  expect(block![1], 'README.md chart is stale: paste the output of `proxy-monitor graph` between the markers').toBe(
    toMermaid(chartOf(proxyMachine)),
  );
});
