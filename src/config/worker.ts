// A reload's reading of the config file, on a thread of its own (src/config/off-thread.ts): the
// daemon's event loop, where exits reach their machines, never waits on a YAML parse.
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './errors.ts';
import { loadConfig, type ReloadOptions } from './load.ts';

const { file, overrides } = workerData as { file: string; overrides: ReloadOptions };
try {
  parentPort!.postMessage({ loaded: loadConfig(file, overrides) });
} catch (error) {
  parentPort!.postMessage(
    error instanceof ConfigError ? { configError: { file: error.file, issues: error.issues } } : { error: (error as Error).message },
  );
}
