// What the scenarios need of a supervisor under test, whichever it is.
export interface Supervised {
  name: string;
  version: string;
  /** The daemon: the parent of the servers, whose CPU and memory are measured. */
  pid: number;
  stop(): Promise<void>;
}

export function exited(
  child: { exitCode: number | null; signalCode: string | null; once(e: 'exit', f: () => void): unknown },
  timeoutMs: number,
): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}
