// The `proxy-monitor` command line. The daemon, the config loader and the statecharts are imported
// only by the commands that use them: a client command (`status`, ...) loads the HTTP client alone
// and answers in a blink (bench/README.md, "CLI start-up").
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_INSPECT_URL, parseInspectUrl } from '../inspector/url.ts';
import { handBackEarlySignals } from './early-signals.ts';
import { endOnOutputErrors } from './pipe.ts';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from './remote.ts';
import { GRAPH_USAGE, STATE_USAGE } from './usage.ts';

const USAGE = `usage:
  proxy-monitor run --config FILE [--state-dir DIR] [--inspect [ws://HOST:PORT]]
                                         run the daemon in the foreground; --inspect reports
                                         every actor to a Stately inspector (default ${DEFAULT_INSPECT_URL})
  proxy-monitor validate FILE            check a config file (or: validate --config FILE)
  proxy-monitor --version | --help       (-V | -h); client options may also come first: proxy-monitor -c FILE status
${STATE_USAGE}${GRAPH_USAGE}against a running daemon:
${CLIENT_USAGE}`;

/** Options that may come before the command, as `supervisorctl -c FILE status` takes them; the ones after a name take a value. */
const LEADING_OPTIONS: Record<string, boolean> = {
  '-c': true,
  '--config': true,
  '--url': true,
  '--token': true,
  '--timeout': true,
  '--json': false,
};

async function main(argv: string[]): Promise<number> {
  // `proxy-monitor -c FILE status` is `proxy-monitor status -c FILE`.
  const leading: string[] = [];
  let at = 0;
  for (; at < argv.length && argv[at].startsWith('-'); at++) {
    const [name] = argv[at].split('=', 1);
    if (name === '-h' || name === '--help') return help();
    if (name === '-V' || name === '--version') return version();
    if (!Object.hasOwn(LEADING_OPTIONS, name)) return usage(`unknown option before the command: ${argv[at]}`);
    leading.push(argv[at]);
    if (LEADING_OPTIONS[name] && !argv[at].includes('=')) leading.push(argv[++at] ?? '');
  }
  const [command, ...after] = argv.slice(at);
  const rest = [...leading, ...after];
  if (command !== 'run') {
    handBackEarlySignals();
    endOnOutputErrors();
  }
  switch (command) {
    case 'run': {
      const { values } = parseArgs({
        args: withInspectDefault(rest),
        options: { config: { type: 'string', short: 'c' }, 'state-dir': { type: 'string' }, inspect: { type: 'string' } },
      });
      if (!values.config) return usage('run needs --config FILE');
      let inspectUrl: string | undefined;
      try {
        inspectUrl = values.inspect === undefined ? undefined : parseInspectUrl(values.inspect);
      } catch (error) {
        return usage((error as Error).message);
      }
      const { run } = await import('./run.ts');
      return run(values.config, values['state-dir'], inspectUrl);
    }
    case 'validate': {
      // As `run` names its file: `validate --config FILE` (or -c) works too.
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { config: { type: 'string', short: 'c' } },
      });
      const files = [...(values.config === undefined ? [] : [values.config]), ...positionals];
      if (files.length !== 1) return usage('validate needs one FILE');
      const { validate } = await import('./validate.ts');
      return validate(files[0]);
    }
    case 'graph': {
      const { graph } = await import('./graph.ts');
      return graph(rest);
    }
    case 'state': {
      const { stateCommand } = await import('./state.ts');
      return stateCommand(rest);
    }
    // No command is a usage mistake (a script's empty variable must not read as success); `help` is not.
    case undefined:
      return usage(leading.length ? 'a command is needed after the options' : 'a command is needed');
    case 'help':
      return help();
    case 'version':
      return version();
    default:
      if (Object.hasOwn(CLIENT_COMMANDS, command)) return runClientCommand(command, rest);
      return usage(`unknown command: ${command}`);
  }
}

/** `--inspect` takes an optional URL: given alone (last, or before another option), it gets the default. */
function withInspectDefault(args: string[]): string[] {
  return args.flatMap((arg, i) =>
    arg === '--inspect' && (i === args.length - 1 || args[i + 1].startsWith('-')) ? [arg, DEFAULT_INSPECT_URL] : [arg],
  );
}

function help(): number {
  endOnOutputErrors();
  process.stdout.write(USAGE);
  return 0;
}

function version(): number {
  endOnOutputErrors();
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`proxy-monitor ${version}\n`);
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`proxy-monitor: ${message}\n${USAGE}`);
  return 2;
}

// A mistyped option (parseArgs throws) is a usage error, not a stack trace; so is an output that
// cannot be written (`status --json > report.json` on a full disk) an error in one line.
process.exitCode = await main(process.argv.slice(2)).catch((error: { code?: string; syscall?: string; message: string }) => {
  if (error.code?.startsWith('ERR_PARSE_ARGS')) return usage(error.message);
  // A write to a file (stdout redirected) fails at once: its stream's error event says it (pipe.ts).
  if (error.syscall === 'write') return 1;
  throw error;
});
