#!/usr/bin/env node
// Entry point of the CLI: registers tsx so the TypeScript sources run as they are, then hands over.
// First of all: a SIGHUP (reload) that arrives while the daemon is still loading would kill it (Node's
// default action). It is noted here, and `run` applies it once the daemon has started.
const EARLY_SIGHUP = Symbol.for('proxy-monitor.early-sighup');
const early = { requested: false, listener: () => (early.requested = true) };
globalThis[EARLY_SIGHUP] = early;
process.on('SIGHUP', early.listener);

const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
