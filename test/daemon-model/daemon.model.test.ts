// The daemon model in `npm test`: 15 sequences of up to 12 operator commands on a real daemon with
// real proxies, from a fixed seed (so the same sequences every run). `npm run test:soak -- --minutes N`
// runs the same model for longer, from a random seed.
import { expect, it } from 'vitest';
import { runDaemonModel } from './run.ts';

it('operator workflows on a real daemon agree with the model, every command covered', async () => {
  const result = await runDaemonModel({ runs: 15, seed: Number(process.env.DAEMON_MODEL_SEED ?? 6) });
  expect(result.missing).toEqual([]);
  expect(result.leftovers).toEqual([]);
}, 600_000);
