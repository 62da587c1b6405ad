// vitest's globalSetup: builds dist/ before any test runs, so tests that start the daemon or the CLI
// (bin/proxy-monitor.js) run the current sources, compiled as `npm install` compiles them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function build(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build.mjs')], { stdio: 'inherit' });
}
