// The signals bin/proxy-monitor.js noted before the command was known (Node's defaults would have
// killed the daemon, or opened its debugger, while it started).
const EARLY = Symbol.for('proxy-monitor.early-signals');

interface Early {
  signals: NodeJS.Signals[];
  received: NodeJS.Signals[];
  listener: (signal: NodeJS.Signals) => void;
}

/** Stops noting them; returns those received, in order. The caller's own handlers must already be installed. */
export function takeEarlySignals(): NodeJS.Signals[] {
  const early = (globalThis as Record<symbol, Early | undefined>)[EARLY];
  if (!early) return [];
  for (const signal of early.signals) process.off(signal, early.listener);
  delete (globalThis as Record<symbol, Early | undefined>)[EARLY];
  return early.received;
}

/**
 * A command other than `run`: Node's defaults again, and a Ctrl-C or TERM received meanwhile acts
 * now. SIGUSR1 and SIGUSR2 are dropped (Node's SIGUSR1 would open its debugger).
 */
export function handBackEarlySignals(): void {
  for (const signal of takeEarlySignals()) if (signal !== 'SIGUSR1' && signal !== 'SIGUSR2') process.kill(process.pid, signal);
}
