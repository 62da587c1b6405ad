// `proxy-monitor status | head -1`: the reader is gone before we finished writing. Like every Unix
// tool, stop quietly (exit 0, no stack trace) instead of dying on an unhandled EPIPE. For the
// one-shot commands only: the daemon's log output has its own destination and error handling.
export function exitQuietlyOnClosedPipe(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(0);
    });
  }
}
