// The real side of the daemon model: one daemon (started again when a command stops or kills it),
// its config file, its API, and the proxies' processes as /proc shows them. Only this test's
// processes are looked at: node proxies carry a token on their command line, ss-server's command
// line names its generated config file inside this test's state directory.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import { API } from '../api/real-daemon.ts';
import { freePorts, startDaemon, type TestDaemon } from '../support/daemon.ts';
import { alive, type FileEntry, type Model, type ProxyModel } from './model.ts';

/** Short times, so that a sequence of a dozen operator commands runs in seconds. */
export const MONITOR = {
  enable: true,
  check_interval: 1, // the shortest the schema allows
  health_timeout: 1,
  failure_threshold: 3,
  restart_cooldown: 0.3,
  max_restarts: 3,
  start_grace: 5,
  min_uptime: 0.2,
  stop_timeout: 2,
  stable_uptime: 60,
  backoff: { initial: 0.2, factor: 2, max: 1 },
};

// A proxy that starts in milliseconds (perl, not node: dozens are started per sequence on a loaded
// machine). It answers a line with PONG: a tcp check with send/expect tells it from a stopped one.
const ECHO =
  'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or die "listen: $!"; while (my $c = $s->accept) { my $l = <$c>; print $c "PONG\\n"; close $c }';

interface Observed {
  pid: number | null;
  view: { state: string; sub_state: string; pid: number | null } | undefined;
  history: Array<{ time: string; reason: string; manual: boolean; success: boolean }>;
}

export type Real = Awaited<ReturnType<typeof createReal>>;

export async function createReal() {
  const dir = mkdtempSync(join(tmpdir(), 'pm-daemon-model-'));
  const stateDir = join(dir, 'state');
  const configFile = join(dir, 'config.yaml');
  const token = randomUUID();
  let daemon: TestDaemon | undefined;
  let url = '';
  let ports = new Map<string, number>();
  /** Per proxy, what the last verified step saw: the next step compares with it. */
  let last = new Map<string, Observed>();

  function entry(p: ProxyModel, file: FileEntry) {
    const port = ports.get(p.id)!;
    if (p.kind === 'ss') {
      return {
        id: p.id,
        type: 'shadowsocks',
        server: '127.0.0.1',
        server_port: port,
        password: `model-${token}`,
        method: file.variant ? 'aes-256-gcm' : 'chacha20-ietf-poly1305',
        monitor: file.monitor,
        // A bare connect: it cannot tell a stopped server from a live one (the model knows).
        ...(file.health ? { health: { tcp: `127.0.0.1:${port}` } } : {}),
      };
    }
    return {
      id: p.id,
      type: 'exec',
      command: '/usr/bin/perl',
      args: [
        '-MIO::Socket::INET',
        '-e',
        ECHO,
        String(port),
        `--pm-model=${token}`,
        `--id=${p.id}`,
        ...(file.variant ? ['--variant=1'] : []),
      ],
      health: { tcp: `127.0.0.1:${port}`, send: file.health ? 'HEALTH\n' : 'PING\n', expect: 'PONG' },
      monitor: file.monitor,
    };
  }

  function writeFile(model: Model) {
    const proxies = model.proxies.filter((p) => p.file).map((p) => entry(p, p.file!));
    const config = { state_dir: stateDir, api: { listen: '127.0.0.1:0' }, log: { level: 'info' }, proxy: { monitor: MONITOR, proxies } };
    writeFileSync(configFile, stringify(config));
  }

  async function api(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) {
    const response = await fetch(`${url}${API}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const json = await response.json();
    if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function startTheDaemon() {
    daemon = startDaemon(configFile, dir);
    const line = await daemon.waitFor((l) => l.message === 'api listening' || l.message === 'api cannot listen', 60_000);
    url = String(line.url);
  }

  /** The proxies' processes, by proxy id (a proxy with two is a bug the checks report). */
  function processes(): Map<string, number[]> {
    const found = new Map<string, number[]>();
    const generated = `${stateDir}/generated/`;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let argv: string[];
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
        argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        continue; // gone while we looked
      }
      let id: string | undefined;
      if (argv.includes(`--pm-model=${token}`)) id = argv.find((a) => a.startsWith('--id='))?.slice(5);
      else
        id = argv
          .find((a) => a.startsWith(generated))
          ?.slice(generated.length)
          .replace(/\.json$/, '');
      if (id !== undefined) found.set(id, [...(found.get(id) ?? []), Number(entry)]);
    }
    return found;
  }

  /**
   * What the machine shows; the histories only when asked (they are read once the rest agrees).
   * `strays`: what runs or is supervised that the model has not (a removed proxy still stopping).
   */
  async function observe(model: Model, withHistory: boolean): Promise<{ seen: Map<string, Observed>; strays: string[] }> {
    const procs = processes();
    const views = model.daemon === 'running' ? ((await api('GET', '/proxies')).proxies as Array<Observed['view'] & { id: string }>) : [];
    const seen = new Map<string, Observed>();
    for (const p of model.proxies) {
      const pids = procs.get(p.id) ?? [];
      const read = withHistory && model.daemon === 'running' && p.wasConfigured;
      const history = read ? ((await api('GET', `/proxies/${p.id}/history?limit=1000`)).records ?? []) : (last.get(p.id)?.history ?? []);
      seen.set(p.id, { pid: pids.length > 1 ? -pids.length : (pids[0] ?? null), view: views.find((v) => v.id === p.id), history });
    }
    const stray = views.filter((v) => !model.proxies.some((p) => p.id === v.id)).map((v) => v.id);
    const strays = stray.length ? [`the daemon supervises proxies the config no longer has: ${stray.join(', ')}`] : [];
    for (const id of procs.keys())
      if (!model.proxies.some((p) => p.id === id)) strays.push(`a process of ${id}, a proxy the config no longer has, is still running`);
    return { seen, strays };
  }

  const RESTING_DOWN = new Set(['stopped.down', 'crashed.held', 'crashed.waiting']);

  /** What is wrong with what is seen, against the model (empty: all agree). */
  function mismatches(model: Model, seen: Map<string, Observed>, withHistory: boolean): string[] {
    const problems: string[] = [];
    for (const p of model.proxies) {
      const now = seen.get(p.id)!;
      const before = last.get(p.id);
      const up = model.daemon !== 'stopped' && alive(p);
      const say = (what: string) => problems.push(`${p.id}: ${what}`);
      if (now.pid !== null && now.pid < 0) say(`${-now.pid} processes`);
      else if (up !== (now.pid !== null)) say(up ? 'no process, the model has it up' : `process ${now.pid} runs, the model has none`);
      const change = p.change;
      if (now.pid !== null && before?.pid != null) {
        if (change.kind === 'none' && now.pid !== before.pid)
          say(`pid changed ${before.pid} -> ${now.pid} though nothing that restarts it happened`);
        if (change.kind === 'restart' && now.pid === before.pid) say(`still pid ${now.pid}, a restart was due (${change.reason})`);
      }
      if (model.daemon !== 'running') continue;
      if (!p.applied) {
        if (now.view) say(`removed from the config, still in GET /proxies (${now.view.sub_state})`);
        continue;
      }
      if (!now.view) {
        say('missing from GET /proxies');
        continue;
      }
      if (up && (now.view.sub_state !== 'running.up' || now.view.pid !== now.pid))
        say(`GET /proxies says ${now.view.sub_state} pid ${now.view.pid}, /proc has ${now.pid}`);
      if (!up && (!RESTING_DOWN.has(now.view.sub_state) || now.view.pid !== null))
        say(`GET /proxies says ${now.view.sub_state} pid ${now.view.pid}, the model has it down`);
      if (!withHistory) continue;
      const grown = now.history.length - (before?.history.length ?? 0);
      if (change.kind === 'restart') {
        const newest = now.history[0];
        if (grown < 1) say(`restart (${change.reason}) with no new history record`);
        else if (newest.manual !== change.manual || newest.reason !== change.reason || !newest.success)
          say(`history record ${JSON.stringify(newest)}, expected manual=${change.manual} reason=${change.reason}`);
      } else if (grown !== 0)
        say(`${grown} new history record(s) though no restart happened: ${JSON.stringify(now.history.slice(0, grown))}`);
      problems.push(...capAndCooldown(p, now.history));
    }
    return problems;
  }

  /** From the history: automatic restarts never closer than the cooldown to the previous attempt, never more than the cap. */
  function capAndCooldown(p: ProxyModel, history: Observed['history']): string[] {
    const problems: string[] = [];
    const oldestFirst = [...history].reverse();
    const automatic = oldestFirst.filter((r) => !r.manual);
    if (automatic.length > MONITOR.max_restarts)
      problems.push(`${p.id}: ${automatic.length} automatic restarts within the hour, cap ${MONITOR.max_restarts}`);
    if (automatic.length !== p.automaticRestarts)
      problems.push(`${p.id}: ${automatic.length} automatic restarts recorded, the model counts ${p.automaticRestarts}`);
    for (let i = 1; i < oldestFirst.length; i++) {
      const gap = Date.parse(oldestFirst[i].time) - Date.parse(oldestFirst[i - 1].time);
      if (!oldestFirst[i].manual && gap < MONITOR.restart_cooldown * 1000)
        problems.push(`${p.id}: automatic restart ${gap} ms after the previous attempt (cooldown ${MONITOR.restart_cooldown * 1000} ms)`);
    }
    return problems;
  }

  /** Wait until the machine agrees with the model and stays so; throw with what disagrees if it never does. */
  async function verify(model: Model, timeoutMs = 25_000) {
    const deadline = Date.now() + timeoutMs;
    let agreeing = 0;
    let problems: string[] = [];
    let seen = new Map<string, Observed>();
    while (agreeing < 2) {
      if (Date.now() > deadline) throw new Error(`the daemon does not agree with the model:\n  ${problems.join('\n  ')}`);
      await new Promise((r) => setTimeout(r, 100));
      // Processes and states first; the histories once those agree (and then on every later look).
      // A removed proxy may still be stopping (TERM, stop_timeout, KILL): waited for like the rest.
      const first = await observe(model, false);
      const withHistory = agreeing > 0 || (first.strays.length === 0 && mismatches(model, first.seen, false).length === 0);
      const look = await observe(model, withHistory);
      seen = look.seen;
      problems = [...look.strays, ...mismatches(model, seen, withHistory)];
      agreeing = problems.length || !withHistory ? 0 : agreeing + 1;
    }
    last = seen;
  }

  return {
    /** A new sequence: its proxies on fresh ports, the daemon (re)started or reloaded on its config. */
    async begin(model: Model) {
      const free = await freePorts(model.proxies.length);
      ports = new Map(model.proxies.map((p, i) => [p.id, free[i]]));
      last = new Map();
      writeFile(model);
      if (daemon?.child.exitCode === null && daemon.child.signalCode === null) await this.reload('post');
      else await startTheDaemon();
      await verify(model);
    },
    writeFile,
    async reload(how: 'sighup' | 'post') {
      if (how === 'post') return void (await api('POST', '/reload'));
      const reloaded = () => daemon!.lines.filter((l) => l.message === 'config reloaded').length;
      const before = reloaded();
      daemon!.child.kill('SIGHUP');
      await daemon!.waitFor(() => reloaded() > before, 20_000);
    },
    api,
    signal(pid: number, signal: NodeJS.Signals) {
      process.kill(pid, signal);
    },
    pidOf: (id: string) => last.get(id)?.pid ?? null,
    async killDaemon() {
      daemon!.child.kill('SIGKILL');
      await daemon!.exited;
    },
    async stopDaemon() {
      const code = await daemon!.stop('SIGTERM');
      if (code !== 0) throw new Error(`the daemon exited with ${code} on SIGTERM: ${daemon!.stderr().slice(-500)}`);
    },
    startDaemon: startTheDaemon,
    verify,
    /** At the end: stop the daemon; no process of any proxy may be left. */
    async close() {
      if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) await daemon.stop('SIGTERM');
      const left = [...processes().values()].flat();
      for (const pid of left) process.kill(pid, 'SIGKILL');
      return left;
    },
  };
}
