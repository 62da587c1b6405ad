// A proxy's stdout/stderr, line by line, under a per-proxy rate limit: a chatty or looping proxy
// cannot flood the log. Dropped lines are counted and reported once the next second lets lines through.
import type { Logger } from './logger.ts';
import type { Redactor } from './redact.ts';

export function createOutputLogger(logger: Logger, redact: () => Redactor, linesPerSecond: () => number) {
  const windows = new Map<string, { second: number; lines: number; dropped: number }>();
  return (id: string, stream: 'stdout' | 'stderr', line: string) => {
    const second = Math.floor(Date.now() / 1000);
    let w = windows.get(id);
    if (!w || w.second !== second) {
      if (w && w.dropped > 0) logger.warn({ proxy_id: id, dropped_lines: w.dropped }, 'proxy output rate-limited');
      w = { second, lines: 0, dropped: 0 };
      windows.set(id, w);
    }
    if (w.lines >= linesPerSecond()) {
      w.dropped += 1;
      return;
    }
    w.lines += 1;
    logger.info({ proxy_id: id, stream, line: redact()(line), proxy_output: true }, 'proxy output');
  };
}
