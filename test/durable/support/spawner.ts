// A stand-in for the daemon: starts argv through the process driver, prints the child's pid, stays.
import { startProcess } from '../../../src/process/driver.ts';
import { fakeSpec } from '../../support/fake-world.ts';

const [command, ...args] = process.argv.slice(2);
startProcess(fakeSpec('chatty', { command, args }), {
  onSpawn: (pid) => process.stdout.write(`${pid}\n`),
  onSpawnError: (error) => process.stderr.write(`${error}\n`),
  onExit: () => {},
  onOutput: () => {},
});
setInterval(() => {}, 1000);
