// The `proxy-monitor` command line.
import { parseArgs } from 'node:util';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from './remote.ts';
import { run } from './run.ts';
import { validate } from './validate.ts';

const USAGE = `usage:
  proxy-monitor run --config FILE [--state-dir DIR]
                                         run the daemon in the foreground
  proxy-monitor validate FILE            check a config file
against a running daemon:
${CLIENT_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, 'state-dir': { type: 'string' } } });
      if (!values.config) return usage('run needs --config FILE');
      return run(values.config, values['state-dir']);
    }
    case 'validate': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length !== 1) return usage('validate needs one FILE');
      return validate(positionals[0]);
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    default:
      if (Object.hasOwn(CLIENT_COMMANDS, command)) return runClientCommand(command, rest);
      return usage(`unknown command: ${command}`);
  }
}

function usage(message: string): number {
  process.stderr.write(`proxy-monitor: ${message}\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
