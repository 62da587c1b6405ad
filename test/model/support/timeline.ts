// Random timelines for the property tests: what the world, the operator and the config file do to
// two proxies, and how much time passes between (seconds to many hours).
import fc from 'fast-check';
import type { MonitorSettings } from '../../../machines/monitor/context.ts';

export const IDS = ['a', 'b'] as const;
export type Id = (typeof IDS)[number];
export type Command = 'START' | 'STOP' | 'RESTART' | 'ENABLE' | 'DISABLE';
export type SettingsChange = Partial<Pick<MonitorSettings, 'restart_cooldown' | 'max_restarts' | 'check_interval' | 'enable'>>;

export type Step =
  | { do: 'crash'; id: Id } // kill -9 from outside
  | { do: 'hang'; id: Id } // stops answering checks and ignores SIGTERM
  | { do: 'heal'; id: Id }
  | { do: 'spawns fail'; id: Id; fail: boolean } // binary missing / back
  | { do: 'command'; id: Id; command: Command }
  | { do: 'configure'; change: SettingsChange } // runtime config change
  | { do: 'monitor'; on: boolean } // operator stops / starts the whole monitor
  | { do: 'wait'; ms: number };

const id = fc.constantFrom(...IDS);
const HOUR = 3_600_000;

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: id.map((id) => ({ do: 'crash' as const, id })) },
  { weight: 1, arbitrary: id.map((id) => ({ do: 'hang' as const, id })) },
  { weight: 1, arbitrary: id.map((id) => ({ do: 'heal' as const, id })) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('spawns fail' as const), id, fail: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      do: fc.constant('command' as const),
      id,
      command: fc.constantFrom<Command>('START', 'STOP', 'RESTART', 'ENABLE', 'DISABLE'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      do: fc.constant('configure' as const),
      change: fc.record(
        {
          restart_cooldown: fc.constantFrom(0, 5, 60, 300),
          max_restarts: fc.constantFrom(1, 2, 3, 10),
          check_interval: fc.constantFrom(10, 30, 60),
          enable: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('monitor' as const), on: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc
      .oneof(fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 0, max: 8 * HOUR }))
      .map((ms) => ({ do: 'wait' as const, ms })),
  },
);

export const timelineArb = fc.array(stepArb, { minLength: 1, maxLength: 40 });

export function formatStep(step: Step): string {
  switch (step.do) {
    case 'wait':
      return `wait ${(step.ms / 1000).toFixed(1)}s`;
    case 'configure':
      return `configure ${JSON.stringify(step.change)}`;
    case 'monitor':
      return `monitor ${step.on ? 'start' : 'stop'}`;
    case 'command':
      return `${step.command} ${step.id}`;
    case 'spawns fail':
      return `spawns of ${step.id} ${step.fail ? 'fail' : 'work again'}`;
    default:
      return `${step.do} ${step.id}`;
  }
}
