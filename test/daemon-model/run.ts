// Runs the daemon model: sequences of operator commands from fast-check, each on a fresh set of
// proxies of the same real daemon. A failing sequence is shrunk and printed as a replayable list
// of steps with its seed and path (pass them back as --seed and --path to replay it).
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { COMMANDS, commandSequences, type Tally } from './commands.ts';
import { initialModel, type Kind } from './model.ts';
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
  const property = fc.asyncProperty(commandSequences(kinds.length, tally, options.maxCommands ?? 12), async (commands) => {
    sequences += 1;
    const model = initialModel(
      kinds.map((kind, i) => ({ id: `s${sequences}-p${i}`, kind, inFile: i < 2 })),
      MONITOR.max_restarts,
    );
    await real.begin(model);
    await fc.asyncModelRun(() => ({ model, real }), commands);
  });
  const timed = options.minutes !== undefined;
  let failure: unknown;
  try {
    await fc.assert(property, {
      numRuns: timed ? 1_000_000 : (options.runs ?? 25),
      ...(timed && { interruptAfterTimeLimit: options.minutes! * 60_000 }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.path !== undefined && { path: options.path, endOnFailure: true }),
    });
  } catch (error) {
    failure = error;
  }
  const leftovers = await real.close();
  const covered = Object.keys(COMMANDS).filter((name) => tally.covered.has(name));
  const missing = Object.keys(COMMANDS).filter((name) => !tally.covered.has(name));
  const seconds = (Date.now() - started) / 1000;
  const summary = `daemon model: ${sequences} sequences, ${tally.steps} steps, commands covered: ${covered.length}/${Object.keys(COMMANDS).length} (${seconds.toFixed(0)} s)`;
  log(summary);
  if (missing.length) log(`daemon model: commands not covered: ${missing.join(', ')}`);
  if (failure) {
    const cause = (failure as Error).cause;
    log(`${(failure as Error).message}${cause ? `\n${cause instanceof Error ? cause.message : String(cause)}` : ''}`);
    throw failure;
  }
  return { sequences, steps: tally.steps, covered, missing, seconds, leftovers, summary };
}
