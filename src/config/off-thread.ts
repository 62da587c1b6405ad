// Reading the config file for a reload without holding the daemon's thread: YAML parsing under
// --lite-mode takes ~0.8 s for a file of 1000 proxies and seconds for a large one, and meanwhile no
// exit would reach its machine and no request would be answered. The worker is the bundle's
// `config-worker.js`; run from the TypeScript sources (in-process tests), the file is read here.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { loadConfig, type LoadedConfig, type ReloadOptions } from './load.ts';

const WORKER = new URL('./config-worker.js', import.meta.url);
/** A file that needs more to load is refused, not allowed to grow the daemon without bound. */
const HEAP_MB = 256;
const TIMEOUT_MS = 60_000;

type Reply = { loaded: LoadedConfig } | { configError: { file: string; issues: ConfigIssue[] } } | { error: string };

export function loadConfigOffThread(file: string, overrides: ReloadOptions = {}): Promise<LoadedConfig> {
  if (!existsSync(fileURLToPath(WORKER))) return Promise.resolve().then(() => loadConfig(file, overrides));
  return new Promise((resolve, reject) => {
    const refuse = (why: string) => reject(new ConfigError(file, [{ path: '', message: `cannot load config file: ${why}` }]));
    const worker = new Worker(WORKER, { workerData: { file, overrides }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    const timer = setTimeout(() => {
      refuse(`not loaded within ${TIMEOUT_MS / 1000} s`);
      void worker.terminate();
    }, TIMEOUT_MS);
    worker.once('message', (reply: Reply) => {
      clearTimeout(timer);
      if ('loaded' in reply) resolve(reply.loaded);
      else if ('configError' in reply) reject(new ConfigError(reply.configError.file, reply.configError.issues));
      else reject(new Error(reply.error));
    });
    worker.once('error', (error: Error & { code?: string }) => {
      clearTimeout(timer);
      refuse(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it needs more than ${HEAP_MB} MiB to load` : error.message);
    });
    // No reply and no error (the worker was ended from outside): nothing to apply.
    worker.once('exit', (code) => {
      clearTimeout(timer);
      refuse(`its reader exited with code ${code}`);
    });
  });
}
