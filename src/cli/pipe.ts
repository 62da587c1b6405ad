// The one-shot commands' output (the daemon's log has its own destination and error handling).
// `proxy-monitor status | head -1`: the reader is gone before we finished writing; like every Unix
// tool, stop quietly (exit 0). `status --json > report.json` on a full disk: one line on stderr and
// exit 1. Neither is a stack trace.
let installed = false;

export function endOnOutputErrors(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  if (installed) return;
  installed = true;
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      if (stream !== process.stderr) process.stderr.write(`proxy-monitor: cannot write the output: ${error.message}\n`);
      process.exit(1);
    });
  }
}
