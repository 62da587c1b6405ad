import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['machines/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    // Generous: a daemon starting on a 2-core machine shared with other suites takes many seconds.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // Real-process tests bind loopback ports and spawn daemons: run files one at a time.
    fileParallelism: false,
  },
});
