// `--inspect [URL]` on the command line, apart from the inspector itself: the CLI parses it without
// loading @statelyai/inspect and ws, which the daemon loads only when the option is given.

export const DEFAULT_INSPECT_URL = 'ws://127.0.0.1:8090';

/** A ws:// or wss:// URL, or an error naming the option and what was expected. */
export function parseInspectUrl(value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== 'ws:' && url?.protocol !== 'wss:')
    throw new Error(`--inspect: expected a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  return url.href;
}
