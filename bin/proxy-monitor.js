#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the CLI and the daemon: runs the build in dist/ (made by `npm install`).
// --max-semi-space-size=2 (MiB; also in `npm start` and the systemd unit): V8's young generation
// otherwise grows to 2 x 16 MiB during start-up and keeps it, ~25 MiB of RSS for a daemon whose
// live heap is ~20 MiB (bench/README.md, "Memory"). It cannot be set once Node is running.
// First of all: a SIGHUP (reload) that arrives while the daemon is still loading would kill it (Node's
// default action). It is noted here, and `run` applies it once the daemon has started.
import { existsSync } from 'node:fs';

const EARLY_SIGHUP = Symbol.for('proxy-monitor.early-sighup');
const early = { requested: false, listener: () => (early.requested = true) };
globalThis[EARLY_SIGHUP] = early;
process.on('SIGHUP', early.listener);

const main = new URL('../dist/proxy-monitor.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('proxy-monitor: dist/ is missing: run `npm install` in the project directory (it builds dist/)\n');
  process.exit(1);
}
await import(main.href);
