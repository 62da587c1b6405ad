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

  /** The current second's window of a proxy. */
  const windowOf = (id: string, now: number) => {
    const second = Math.floor(now / 1000);
    let w = windows.get(id);
    if (!w || w.second !== second) {
      w = { second, lines: 0, dropped: 0 };
      windows.set(id, w);
    }
    return w;
  };
  const drop = (id: string, w: Window, count: number, now: number) => {
    if (w.dropped === 0) setTimeout(() => reportDropped(id, w), 1000 - (now % 1000)).unref();
    w.dropped += count;
  };

  const line = (id: string, stream: 'stdout' | 'stderr', text: string) => {
    const now = Date.now();
    const w = windowOf(id, now);
    if (w.lines >= linesPerSecond()) return drop(id, w, 1, now);
    w.lines += 1;
    const redacted = redact()(text);
    logger.info({ ...proxy(id), stream, line: redacted, proxy_output: true }, 'proxy output');
    onLogged?.(id, stream, redacted);
  };
  /** Lines dropped before they reached the daemon (the spawn helper's budget): counted with the rest. */
  const dropped = (id: string, _stream: 'stdout' | 'stderr', count: number) => {
    const now = Date.now();
    drop(id, windowOf(id, now), count, now);
  };
  return Object.assign(line, { dropped });
}
