// `proxy-monitor validate FILE`: check a config without starting anything.
import { ConfigError, renderIssue } from '../config/errors.ts';
import { loadConfig, refuseTruncated } from '../config/load.ts';

export function validate(file: string): number {
  try {
    const loaded = loadConfig(file);
    refuseTruncated(loaded, file);
    const { proxies, config, deprecations, unexecutable } = loaded;
    for (const d of deprecations) process.stderr.write(`${file}: ${d.key}: deprecated, write ${d.use} instead\n`);
    // Not refused here (the program may be installed before the daemon starts), but said: a reload
    // that would run it refuses it.
    for (const u of unexecutable) {
      const where = /\.(command|binary)$/.test(u.key) ? " (on this shell's PATH)" : '';
      const outcome = u.healthCheck ? 'every health check would fail' : 'the proxy cannot be started as things are';
      process.stderr.write(`${file}: ${u.key}: warning: ${u.why}${where}: ${outcome}\n`);
    }
    const count = `${proxies.length} ${proxies.length === 1 ? 'proxy' : 'proxies'}`;
    process.stdout.write(`${file}: ok (${count}, monitoring ${config.proxy.monitor.enable ? 'enabled' : 'disabled'})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Every problem, one per line (a start says the first and how many more).
    const lines = error.issues.length ? error.issues.map((issue) => renderIssue(error.file, issue)) : [error.message];
    process.stderr.write(`${lines.join('\n')}\n`);
    return 2;
  }
}
