// Stands in for the daemon: starts a spawn helper, starts one proxy through it, prints
// "<helper pid> <proxy pid>" and waits to be killed.
import { startProcess } from '../../../src/process/driver.ts';
import { startSpawnHelper } from '../../../src/process/helper.ts';

const helper = await startSpawnHelper(() => {});
const handle = startProcess(
  {
    id: 'p',
    type: 'exec',
    command: 'sleep',
    args: process.argv.slice(2),
    env: {},
    health: { kind: 'process' },
    monitor: true,
    secrets: [],
    files: [],
  },
  {
    onSpawn: (pid) => console.log(`${helper.pid} ${pid}`),
    onSpawnError: (error) => console.log(`error ${error}`),
    onExit: () => {},
    onOutput: () => {},
  },
);
void handle;
setInterval(() => {}, 1000);
