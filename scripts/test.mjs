// `npm test`'s suites: the two vitest projects of vitest.config.ts side by side, one per core (vitest
// runs projects with one file at a time one after the other). The real-process suite prints as it
// goes; the unit suite's report follows it. Fails if either fails.
import { spawn } from 'node:child_process';

const vitest = (project, stdio) =>
  // --passWithNoTests: a file named on the command line is in one project only.
  spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', project, '--passWithNoTests', ...process.argv.slice(2)], {
    stdio: ['ignore', stdio, stdio],
  });

const ended = (child) => new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const unit = vitest('unit', 'pipe');
const unitEnded = ended(unit);
let unitReport = '';
unit.stdout.on('data', (chunk) => (unitReport += chunk));
unit.stderr.on('data', (chunk) => (unitReport += chunk));
const real = await ended(vitest('real', 'inherit'));
const unitCode = await unitEnded;
process.stdout.write(unitReport);
process.exit(Math.max(real, unitCode));
