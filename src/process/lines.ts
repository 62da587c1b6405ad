// Splits a text stream into lines without holding more than one line's worth of it: a proxy that
// prints megabytes without a newline must not grow the daemon's memory.

export const MAX_LINE = 4096;

export function lineSplitter(emit: (line: string) => void) {
  let partial = '';
  // After a line was cut at MAX_LINE, its remainder up to the next newline is dropped.
  let skipping = false;

  const take = (line: string) => {
    if (!skipping) emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    skipping = false;
  };

  return {
    push(chunk: string): void {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        take((partial + chunk.slice(start, nl)).slice(0, MAX_LINE));
        partial = '';
        start = nl + 1;
      }
      if (skipping) return;
      partial += chunk.slice(start);
      if (partial.length > MAX_LINE) {
        emit(partial.slice(0, MAX_LINE));
        partial = '';
        skipping = true;
      }
    },
    /** Bytes were dropped here: the line in progress is lost, and so is its rest, up to the next newline. */
    cut(): void {
      partial = '';
      skipping = true;
    },
    end(): void {
      if (partial !== '') take(partial);
      partial = '';
    },
  };
}
