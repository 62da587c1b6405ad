// Plays one timeline against the supervisor on the fake world and checks the invariants after every
// step. On a violation it throws with the timeline as played (times included), which fast-check
// reports for the shrunk counterexample.
import type { ProxyEmitted } from '../../../machines/proxy/events.ts';
import { fakeSpec } from '../../support/fake-world.ts';
import { startHarness, testSettings } from '../../support/harness.ts';
import { runUntil } from './clock.ts';
import { checkRecords, checkStep, type Attempt } from './invariants.ts';
import { applyStep, initialReference } from './reference.ts';
import { formatStep, IDS, type Step } from './timeline.ts';

export const timelineSettings = {
  ...testSettings,
  restart_cooldown: 60,
  max_restarts: 3,
  failure_threshold: 2,
  stable_uptime: 300,
  backoff: { initial: 5, factor: 2, max: 600 },
};

export async function runTimeline(steps: Step[]): Promise<void> {
  const h = await startHarness({ specs: IDS.map((id) => fakeSpec(id)), settings: timelineSettings });
  const ref = initialReference(timelineSettings);
  const attempts: Attempt[] = [];
  const start = h.world.clock.now();
  const played: string[] = [];
  let seen = 0;
  try {
    for (const step of steps) {
      played.push(`+${((h.world.clock.now() - start) / 1000).toFixed(1)}s ${formatStep(step)}`);
      applyStep(ref, step);
      await play(h, step, ref.settings);
      const fresh: ProxyEmitted[] = h.reports.slice(seen);
      seen = h.reports.length;
      const problems = [...checkStep(h, ref, fresh, attempts), ...checkRecords(h.reports)];
      if (problems.length) throw new Error(problems.join('\n'));
    }
  } catch (error) {
    const states = IDS.map((id) => `${id}: ${h.state(id)}`).join(', ');
    throw new Error(`${(error as Error).message}\ntimeline:\n  ${played.join('\n  ')}\nnow: ${states}`);
  } finally {
    await h.shutdown();
  }
}

async function play(h: Awaited<ReturnType<typeof startHarness>>, step: Step, settings: typeof timelineSettings) {
  const { world, supervisor } = h;
  switch (step.do) {
    case 'crash':
      if (world.running.has(step.id)) world.crash(step.id);
      break;
    case 'hang':
      world.unhealthy.add(step.id);
      world.stubborn.add(step.id);
      break;
    case 'heal':
      world.unhealthy.delete(step.id);
      world.stubborn.delete(step.id);
      break;
    case 'spawns fail':
      if (step.fail) world.spawnFails.add(step.id);
      else world.spawnFails.delete(step.id);
      break;
    case 'command':
      supervisor.command(step.id, step.command);
      break;
    case 'configure':
      supervisor.configure(settings);
      break;
    case 'monitor':
      if (step.on) supervisor.startMonitor();
      else supervisor.stopMonitor();
      break;
    case 'wait':
      await runUntil(world.clock, world.clock.now() + step.ms, h.settle);
      break;
  }
  await h.settle();
}
