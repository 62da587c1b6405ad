import { configDefaults, defineConfig } from 'vitest/config';

// Two projects, run side by side by `npm test` (scripts/test.mjs), each one file at a time.
// `unit`: the machines, their models, and the supervisor, the API and the config on a fake world
// (no process of their own, no fixed port, no wall-clock bound), in one worker that imports the
// code once. `real`: everything else spawns daemons and proxies and binds loopback ports; it gets a
// core of its own, as its bounds assume.
const unit = [
  'machines/**/*.test.ts',
  'test/model/!(real-processes).test.ts',
  'test/supervisor/*.test.ts',
  'test/config/*.test.ts',
  'test/api/!(daemon|limits|reload).test.ts',
  'test/durable/*-simulated.test.ts',
  'test/{later,timers}.test.ts',
];

export default defineConfig({
  test: {
    // Generous: a daemon starting on a 2-core machine shared with other suites takes many seconds.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'unit', include: unit, isolate: false } },
      {
        extends: true,
        // Tests that start the daemon or the CLI run dist/, built from the current sources first.
        test: {
          name: 'real',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...unit],
          globalSetup: ['test/support/build.ts'],
        },
      },
    ],
  },
});
