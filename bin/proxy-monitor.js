#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode --bytecode-old-age=1 --no-expose-wasm
// Entry point of the CLI and the daemon: runs the build in dist/ (made by `npm install`).
// Node's flags (the same in `npm start` and the systemd unit; they cannot be set once Node runs;
// figures in bench/README.md, "Memory"):
// --max-semi-space-size=1 (MiB): V8's young generation otherwise grows to 2 x 16 MiB during
//   start-up and keeps it, ~25 MiB of RSS for a daemon whose live heap is ~20 MiB.
// --lite-mode: no optimizing compiler and no feedback vectors until a function is hot, 8-20 MiB less
//   (compiled code, the compiler's own pages); a daemon that mostly waits loses no measurable CPU
//   (idle and restart storms measured alike). In Node 20 it implies --jitless, which turns
//   WebAssembly off: nothing here uses it; --no-expose-wasm says so, and spares V8's warning.
// --bytecode-old-age=1: the bytecode of a function not run since the last full collection is
//   dropped (V8's default waits five), so start-up's and config loading's code does not stay
//   resident; it is compiled again if it runs again (a reload). ~1-1.5 MiB less.
// First of all: until the daemon has installed its own handlers (about a second, once its state is
// read and its proxies started), Node's defaults would apply: SIGHUP (reload), SIGUSR2 and a stop
// signal would kill it, SIGUSR1 would open Node's debugger to any local user. They are noted here,
// and taken over by `run` once the daemon has started (src/cli/early-signals.ts), or handed back by
// any other command.
import { existsSync } from 'node:fs';

const early = {
  signals: ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'],
  received: [],
  listener: (signal) => early.received.push(signal),
};
for (const signal of early.signals) process.on(signal, early.listener);
globalThis[Symbol.for('proxy-monitor.early-signals')] = early;

const main = new URL('../dist/proxy-monitor.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('proxy-monitor: dist/ is missing: run `npm install` in the project directory (it builds dist/)\n');
  process.exit(1);
}
await import(main.href);
