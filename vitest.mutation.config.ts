// The tests StrykerJS runs against each mutant (`npm run test:mutation`): every test that drives the
// code in this process. Left out:
// - tests of a daemon or CLI started as a child process (node bin/...): that child runs dist/, not the
//   mutated copy in this process, so they cannot kill a mutant; yet the code they call in-process
//   (config writing, port finding) marks them as covering it, and each would cost its daemons'
//   start-up (seconds to minutes) for every mutant there;
// - the two slowest model tests, whose paths the machines' own tests and the random timelines cover;
// - the SSE backpressure test (16 s of filling a socket; it can only see src/inspector).
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from './vitest.config.ts';

/**
 * A mutant's run stops at its first failing test (Stryker's bail), so a killed mutant costs only the
 * files before the one that fails: the file that failed last time first (it killed the previous
 * mutant, and neighbouring mutants tend to die the same way), then the quickest. Vitest's own order
 * (slowest first) makes every mutant pay for the slowest file it is covered by before anything else.
 */
class QuickFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const last = (file: TestSpecification) => cache.getFileTestResults(`${file.project.name}:${relative(config.root, file.moduleId)}`);
    const rank = (file: TestSpecification) => {
      const result = last(file);
      return result ? (result.failed ? -1 : result.duration) : Number.MAX_SAFE_INTEGER;
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

const childProcessTests = [
  'test/e2e/**',
  'test/prometheus/**',
  'test/privileges/**',
  'test/daemon-model/**',
  'test/api/daemon.test.ts',
  'test/api/reload.test.ts',
  'test/cli/binary.test.ts',
  'test/cli/client.test.ts',
  'test/cli/offline.test.ts',
  'test/config/binaries.test.ts',
  'test/durable/adoption.test.ts',
  'test/durable/cap-daemon.test.ts',
  'test/durable/kill-storm.test.ts',
  'test/durable/reconfigured.test.ts',
  'test/durable/sigpipe.test.ts',
  'test/durable/single-instance.test.ts',
  'test/durable/state-dir-deleted.test.ts',
  'test/durable/storage-faults.test.ts',
  'test/inspector/browser.test.ts',
  'test/inspector/remote.test.ts',
  'test/inspector/websocket.test.ts',
  'test/ops/**',
  'test/proxies/shadowsocks-daemon.test.ts',
  'test/proxies/typed-servers.test.ts',
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // No rebuild of dist/ (the runs of the child-process tests need it; `npm install` built it, and
    // the spawn helper the in-process tests use is copied into Stryker's sandbox with it).
    globalSetup: [],
    exclude: [
      ...childProcessTests,
      'test/model/real-processes.test.ts',
      'test/model/proxy.model.test.ts',
      'test/inspector/backpressure.test.ts',
      '**/node_modules/**',
    ],
    // One module graph for all the files of a run: each mutant's run then costs its tests, not a
    // re-import of xstate, fastify and zod per file. Mutants are switched by a global, not by reloading.
    isolate: false,
    sequence: { ...base.test?.sequence, sequencer: QuickFirst },
    // The random timelines: 40 fixed ones instead of 200 fresh ones per run, so that a mutant's
    // verdict does not depend on the draw and a surviving one costs a few seconds, not twenty.
    env: { TIMELINE_RUNS: '40', TIMELINE_SEED: '17' },
  },
});
