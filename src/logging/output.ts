// A proxy's stdout/stderr, line by line, under a per-proxy rate limit: a chatty or looping proxy
// cannot flood the log. Lines past the limit are counted, and the count is logged when their
// one-second window closes, even if the proxy falls silent after the burst.
import type { ProxyType } from '../proxy-spec.ts';
import type { Logger } from './logger.ts';
import type { Redactor } from './redact.ts';
import { PROXY_COMPONENT } from './reports.ts';

interface Window {
  second: number;
  lines: number;
  dropped: number;
}

/** `onLogged` hears each line that was logged, redacted (the inspector keeps the last few). */
export function createOutputLogger(
  logger: Logger,
  redact: () => Redactor,
  linesPerSecond: () => number,
  typeOf: (id: string) => ProxyType,
  onLogged?: (id: string, stream: 'stdout' | 'stderr', line: string) => void,
) {
  const windows = new Map<string, Window>();
  const proxy = (id: string) => ({ component: PROXY_COMPONENT, proxy_id: id, proxy_type: typeOf(id) });
  const reportDropped = (id: string, w: Window) =>
    logger.warn({ ...proxy(id), dropped_lines: w.dropped, lines_per_second: linesPerSecond() }, 'proxy output rate-limited');

  return (id: string, stream: 'stdout' | 'stderr', line: string) => {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    let w = windows.get(id);
    if (!w || w.second !== second) {
      w = { second, lines: 0, dropped: 0 };
      windows.set(id, w);
    }
    if (w.lines >= linesPerSecond()) {
      if (w.dropped++ === 0) {
        const closing = w;
        setTimeout(() => reportDropped(id, closing), 1000 - (now % 1000)).unref();
      }
      return;
    }
    w.lines += 1;
    const redacted = redact()(line);
    logger.info({ ...proxy(id), stream, line: redacted, proxy_output: true }, 'proxy output');
    onLogged?.(id, stream, redacted);
  };
}
