// A stand-in for the daemon: starts argv through the process driver, prints the child's pid, stays.
// SPAWNER=helper starts it through the spawn helper (dist/spawn-helper), else with child_process.
import { startSpawnHelper } from '../../../src/process/helper.ts';
import { startProcess } from '../../../src/process/driver.ts';
import { childProcessSpawner } from '../../../src/process/spawner.ts';
import { fakeSpec } from '../../support/fake-world.ts';

const [command, ...args] = process.argv.slice(2);
const spawner = process.env.SPAWNER === 'helper' ? await startSpawnHelper(() => {}) : childProcessSpawner;
startProcess(
  fakeSpec('chatty', { command, args }),
  {
    onSpawn: (pid) => process.stdout.write(`${pid}\n`),
    onSpawnError: (error) => process.stderr.write(`${error}\n`),
    onExit: () => {},
    onOutput: () => {},
  },
  spawner,
);
setInterval(() => {}, 1000);
