import { expect, it } from 'vitest';
import { analyzeRestarts } from '../../src/api/analysis.ts';
import { INTERRUPTED, type RestartRow } from '../../src/store/types.ts';

const row = (durationMs: number, error?: string): RestartRow => ({
  proxyId: 'p',
  at: Date.UTC(2026, 0, 1, 3),
  reason: 'operator',
  manual: true,
  success: error === undefined,
  durationMs,
  error,
});

it('counts an interrupted restart as failed, without its 0 ms among the durations (the daemon stopped before it knew one)', () => {
  const analysis = analyzeRestarts([row(0, INTERRUPTED), row(0, INTERRUPTED), row(800), row(1200)]);
  expect(analysis).toMatchObject({ total: 4, successes: 2, failures: 2, duration_ms: { p50: 800, p95: 1200, max: 1200 } });
  expect(analyzeRestarts([row(0, INTERRUPTED)]).duration_ms).toBeNull();
});
