// Runs the daemon model: sequences of operator commands from fast-check, each on a fresh set of
// proxies of the same real daemon. A failing sequence is shrunk and printed as a replayable list
// of steps with its seed and path (pass them back as --seed and --path to replay it).
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { COMMANDS, commandSequences, type Tally } from './commands.ts';
import { editFile, initialModel, reload, type Kind } from './model.ts';
import { createReal, MONITOR } from './real.ts';

export interface ModelRunOptions {
  /** Sequences to run (ignored when `minutes` is set). */
  runs?: number;
  /** Run sequences until this much time has passed. */
  minutes?: number;
  seed?: number;
  /** fast-check's path of a failure, with its seed: replays that sequence. */
  path?: string;
  maxCommands?: number;
  log?: (line: string) => void;
}

export interface ModelRunResult {
  sequences: number;
  steps: number;
  covered: string[];
  missing: string[];
  seconds: number;
  leftovers: number[];
  summary: string;
}

export async function runDaemonModel(options: ModelRunOptions): Promise<ModelRunResult> {
  const started = Date.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const tally: Tally = { steps: 0, covered: new Set() };
  // ss-server where it is installed; a second echo proxy otherwise.
  const kinds: Kind[] = ['echo', existsSync('/usr/bin/ss-server') ? 'ss' : 'echo', 'echo'];
  const real = await createReal();
  let sequences = 0;
  // Each sequence starts with p0 and p1 configured; p2 never configured, or configured and removed
  // by an earlier reload (`p2 removed before`), so that putting it back is in reach of short sequences.
  const start = fc.constantFrom('p2 never configured', 'p2 removed before');
  const property = fc.asyncProperty(start, commandSequences(kinds.length, tally, options.maxCommands ?? 12), async (history, commands) => {
    sequences += 1;
    const removed = history === 'p2 removed before';
    const model = initialModel(
      kinds.map((kind, i) => ({ id: `s${sequences}-p${i}`, kind, inFile: i < 2 || removed })),
      MONITOR.max_restarts,
    );
    await real.begin(model);
    if (removed) {
      editFile(model.proxies[2], () => null);
      reload(model);
      real.writeFile(model);
      await real.reload('post');
      await real.verify(model);
    }
    await fc.asyncModelRun(() => ({ model, real }), commands);
  });
  const timed = options.minutes !== undefined;
  let failure: string | undefined;
  let leftovers: number[] = [];
  try {
    const details = await fc.check(property, {
      numRuns: timed ? 1_000_000 : (options.runs ?? 25),
      ...(timed && { interruptAfterTimeLimit: options.minutes! * 60_000 }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.path !== undefined && { path: options.path, endOnFailure: true }),
    });
    if (details.failed) failure = describeFailure(details);
  } finally {
    leftovers = await real.close();
  }
  const covered = Object.keys(COMMANDS).filter((name) => tally.covered.has(name));
  const missing = Object.keys(COMMANDS).filter((name) => !tally.covered.has(name));
  const seconds = (Date.now() - started) / 1000;
  const summary = `daemon model: ${sequences} sequences, ${tally.steps} steps, commands covered: ${covered.length}/${Object.keys(COMMANDS).length} (${seconds.toFixed(0)} s)`;
  log(summary);
  if (missing.length) log(`daemon model: commands not covered: ${missing.join(', ')}`);
  if (failure) {
    log(failure);
    throw new Error(failure);
  }
  return { sequences, steps: tally.steps, covered, missing, seconds, leftovers, summary };
}

/** The shrunk sequence, one step a line, what disagreed, and how to replay it. */
function describeFailure<T extends [string, Iterable<unknown>]>(details: fc.RunDetails<T>): string {
  const [history, commands] = details.counterexample ?? ['?', [] as unknown[]];
  const steps = [...commands].map((c, i) => `  ${i + 1}. ${String(c)}`);
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return [
    `daemon model: FAILED after ${details.numRuns} sequence(s), shrunk ${details.numShrinks} time(s) to:`,
    `  start: ${history}`,
    ...steps,
    error,
    `replay: npm run test:soak -- --seed ${details.seed} --path ${details.counterexamplePath}`,
  ].join('\n');
}
