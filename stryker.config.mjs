// Mutation testing (`npm run test:mutation`, not part of `npm test`): StrykerJS changes the code one
// small edit at a time and runs the tests that cover it; a mutant no test notices is a gap in the
// tests. Reports go to reports/mutation/ (HTML and JSON); docs/mutation.md keeps the scores.
// One folder at a time on a small machine: `npm run test:mutation -- --mutate 'src/api/**/*.ts'`.

// Each scope keeps its own reports and incremental file, so a run of one folder neither discards
// nor reuses another's results: `--mutate 'src/api/**/*.ts'` writes reports/mutation/src-api.*.
const mutateArg = process.argv[process.argv.indexOf('--mutate') + 1];
const scope = process.argv.includes('--mutate')
  ? mutateArg
      .split(',')
      .filter((pattern) => !pattern.startsWith('!'))
      .map((pattern) => pattern.replace(/\/\*\*.*$|\.ts$/, '').replace(/[^\w.-]+/g, '-'))
      .join('+')
  : 'all';

// src/process signals pids it reads from /proc and from cgroup files. A mutant that drops one of its
// filters signals someone else's processes: pid 0 (the test runner's own process group, Stryker with
// it), or, in the scan for escaped copies without its token check, every process started since the
// test's proxy, on the whole machine. Its mutants therefore run only in a PID namespace of their own,
// where /proc and kill() reach nothing but the run's processes, and Stryker, as the namespace's pid 1,
// is out of reach of a signal to its own group (see docs/mutation.md):
//   unshare -pf --mount-proc env MUTATION_PID_NAMESPACE=1 node node_modules/.bin/stryker run --mutate 'src/process/**/*.ts'
const isolated = process.env.MUTATION_PID_NAMESPACE === '1';
if (
  !isolated &&
  scope !== 'all' &&
  mutateArg.split(',').some((pattern) => pattern.startsWith('src/process') || pattern === 'src/**/*.ts')
) {
  throw new Error(
    "src/process's mutants may signal other processes of this machine: run them in a PID namespace, " +
      "e.g. unshare -pf --mount-proc env MUTATION_PID_NAMESPACE=1 node node_modules/.bin/stryker run --mutate 'src/process/**/*.ts' (docs/mutation.md)",
  );
}
if (!isolated && scope === 'all') console.warn('src/process left out: its mutants run only in a PID namespace (docs/mutation.md)');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/**/*.ts',
    'machines/**/*.ts',
    '!machines/**/*.test.ts',
    // The browser side of the inspector is tested in a browser, by a child-process test.
    '!src/inspector/public/**',
    ...(isolated ? [] : ['!src/process/**']),
  ],
  ignoreStatic: true,
  // Incremental: a rerun tests only the mutants whose code or covering tests changed.
  incremental: true,
  incrementalFile: `reports/mutation/${scope}.incremental.json`,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `reports/mutation/${scope}.html` },
  jsonReporter: { fileName: `reports/mutation/${scope}.json` },
  // Two cores, shared: one test runner process at a time per core at most.
  concurrency: 2,
  timeoutMS: 15_000,
  timeoutFactor: 2,
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: reports, state and logs of earlier runs.
  ignorePatterns: ['reports', 'state', 'test-artifacts', 'bench/RESULTS*', '*.log'],
  cleanTempDir: 'always',
  thresholds: { high: 85, low: 75, break: null },
};
