// `proxy-monitor run --config FILE`: the foreground daemon.
import { ConfigError } from '../config/load.ts';
import { startDaemon } from '../daemon/daemon.ts';

export async function run(configFile: string): Promise<number> {
  let daemon;
  try {
    daemon = startDaemon({ configFile });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { logger } = daemon;
  process.on('SIGHUP', () => daemon.reload());
  // The daemon never dies on a proxy's misbehaviour; a bug of ours is logged, not fatal.
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'signal received');
  await daemon.stop();
  // Everything is stopped; a handle some library left open must not keep the daemon alive.
  logger.flush(() => process.exit(0));
  return 0;
}
