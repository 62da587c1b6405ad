// The tests StrykerJS runs against each mutant (`npm run test:mutation`): every test that drives the
// code in this process. Left out: tests of a daemon started as a child process (node bin/...), whose
// code is not the mutated copy in this process and so cannot kill a mutant, only cost minutes each;
// and the two slowest model tests, whose paths the machines' own tests and the random timelines cover.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

export const childProcessTests = [
  'test/e2e/**',
  'test/prometheus/**',
  'test/api/daemon.test.ts',
  'test/api/reload.test.ts',
  'test/cli/client.test.ts',
  'test/cli/offline.test.ts',
  'test/config/binaries.test.ts',
  'test/durable/adoption.test.ts',
  'test/durable/cap-daemon.test.ts',
  'test/durable/kill-storm.test.ts',
  'test/durable/reconfigured.test.ts',
  'test/durable/sigpipe.test.ts',
  'test/durable/single-instance.test.ts',
  'test/inspector/browser.test.ts',
  'test/inspector/remote.test.ts',
  'test/inspector/websocket.test.ts',
  'test/ops/**',
  'test/proxies/shadowsocks-daemon.test.ts',
  'test/proxies/typed-servers.test.ts',
];

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [...childProcessTests, 'test/model/real-processes.test.ts', 'test/model/proxy.model.test.ts', '**/node_modules/**'],
      // One module graph for all the files of a run: each mutant's run then costs its tests, not a
      // re-import of xstate, fastify and zod per file. Mutants are switched by a global, not by reloading.
      isolate: false,
    },
  }),
);
