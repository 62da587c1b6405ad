// The operator's commands: each changes the model (model.ts) and does the same to the real daemon
// (real.ts); after each, the machine must agree with the model (Real.verify).
import fc from 'fast-check';
import * as world from './model.ts';
import type { Model, ProxyModel } from './model.ts';
import type { Real } from './real.ts';

interface Spec {
  /** Needs a proxy (`p0`..`p2`, this sequence's proxies by position). */
  proxy: boolean;
  /** How often it is drawn, relative to the others (default 3). */
  weight?: number;
  /** A config edit: may be followed at once by a reload, as an operator would. */
  edit?: boolean;
  can(m: Model, p: ProxyModel): boolean;
  model(m: Model, p: ProxyModel): void;
  act(real: Real, m: Model, p: ProxyModel): Promise<void>;
}

const up = (m: Model) => m.daemon === 'running';
const configured = (m: Model, p: ProxyModel) => up(m) && p.applied !== null;
const edit = (change: (e: world.FileEntry) => world.FileEntry | null, can: (p: ProxyModel) => boolean): Spec => ({
  proxy: true,
  edit: true,
  can: (_m, p) => can(p),
  model: (_m, p) => world.editFile(p, change),
  act: async (real, m) => real.writeFile(m),
});
const api = (name: 'enable' | 'disable' | 'stop' | 'start' | 'restart', model: (p: ProxyModel) => void): Spec => ({
  proxy: true,
  can: configured,
  model: (_m, p) => model(p),
  act: async (real, _m, p) => void (await real.api('POST', `/proxies/${p.id}/${name}`)),
});
const signal = (sig: NodeJS.Signals, can: (p: ProxyModel) => boolean, model: (p: ProxyModel) => void): Spec => ({
  proxy: true,
  can: (m, p) => up(m) && world.alive(p) && can(p),
  model: (_m, p) => model(p),
  act: async (real, _m, p) => real.signal(real.pidOf(p.id)!, sig),
});
const daemon = (can: (m: Model) => boolean, model: (m: Model) => void, act: (real: Real) => Promise<void>, weight = 3): Spec => ({
  proxy: false,
  weight,
  can,
  model,
  act: (real) => act(real),
});

let patched = false;

/** Every command, by the name it is printed and counted under. */
export const COMMANDS: Record<string, Spec> = {
  // Drawn more often: only the third proxy can be added, and only a removed and reloaded one re-added.
  'edit: add': {
    ...edit(
      (e) => e,
      (p) => p.file === null && !p.wasConfigured,
    ),
    weight: 6,
  },
  'edit: re-add removed': {
    ...edit(
      (e) => e,
      (p) => p.file === null && p.wasConfigured,
    ),
    weight: 6,
  },
  'edit: remove': edit(
    () => null,
    (p) => p.file !== null,
  ),
  'edit: change command': edit(
    (e) => ({ ...e, variant: e.variant ? 0 : 1 }),
    (p) => p.file !== null,
  ),
  'edit: change health check only': edit(
    (e) => ({ ...e, health: e.health ? 0 : 1 }),
    (p) => p.file !== null,
  ),
  'edit: toggle monitor': edit(
    (e) => ({ ...e, monitor: !e.monitor }),
    (p) => p.file !== null,
  ),
  'reload: SIGHUP': daemon(up, world.reload, (real) => real.reload('sighup')),
  'reload: POST /reload': daemon(up, world.reload, (real) => real.reload('post')),
  'PATCH /config': daemon(
    up,
    () => {},
    async (real) => {
      patched = !patched;
      await real.api('PATCH', '/config', { check_interval: patched ? 2 : 1 });
    },
  ),
  'API enable': api('enable', (p) => world.setOverride(p, true)),
  'API disable': api('disable', (p) => world.setOverride(p, false)),
  'API stop': api('stop', world.stop),
  'API start': api('start', (p) => world.start(p, 'start')),
  'API restart': api('restart', (p) => world.start(p, 'restart')),
  'kill -9 proxy': signal('SIGKILL', () => true, world.kill9),
  'kill -STOP proxy': signal('SIGSTOP', (p) => !p.hung, world.killStop),
  // A daemon start is the slowest step: stopping it is drawn less often, starting it again soon after.
  'kill -9 daemon': daemon(
    up,
    (m) => {
      m.daemon = 'killed';
    },
    (real) => real.killDaemon(),
    1,
  ),
  'start daemon': daemon(
    (m) => m.daemon !== 'running',
    (m) => world.daemonStart(m, m.daemon === 'killed'),
    (real) => real.startDaemon(),
    12,
  ),
  'stop daemon': daemon(up, world.daemonStopped, (real) => real.stopDaemon(), 2),
};

export interface Tally {
  steps: number;
  covered: Set<string>;
}

type Reload = 'sighup' | 'post';

class Step implements fc.AsyncCommand<Model, Real> {
  /** The proxy it was last applied to. */
  private applied: number;
  constructor(
    readonly name: string,
    readonly index: number,
    readonly tally: Tally,
    /** After an edit: the reload that follows it (when the daemon runs). */
    readonly then: Reload | null = null,
  ) {
    this.applied = index;
  }
  private spec = () => COMMANDS[this.name];
  /** The drawn proxy, or the next one the command applies to (so fewer drawn commands are skipped). */
  private target(m: Model): number | undefined {
    const n = m.proxies.length;
    for (let k = 0; k < n; k++) {
      const i = (this.index + k) % n;
      if (this.spec().can(m, m.proxies[i])) return i;
    }
    return undefined;
  }
  check(m: Readonly<Model>) {
    return this.target(m as Model) !== undefined;
  }
  async run(m: Model, real: Real) {
    this.applied = this.target(m)!;
    const p = m.proxies[this.applied];
    const started = Date.now();
    world.beginStep(m);
    this.spec().model(m, p);
    await this.spec().act(real, m, p);
    if (this.then && m.daemon === 'running') {
      world.reload(m);
      await real.reload(this.then);
    }
    this.tally.steps += 1;
    this.tally.covered.add(this.name);
    await real.verify(m);
    if (process.env.DAEMON_MODEL_DEBUG) process.stdout.write(`  ${this} ${Date.now() - started} ms\n`);
  }
  toString() {
    const then = this.then ? `, then reload (${this.then === 'post' ? 'POST /reload' : 'SIGHUP'})` : '';
    return this.spec().proxy ? `${this.name} p${this.applied}${then}` : this.name;
  }
}

/** The arbitrary of command sequences: every command, on each of `proxies` proxies where it takes one. */
export function commandSequences(proxies: number, tally: Tally, maxCommands: number, replayPath?: string) {
  const index = fc.integer({ min: 0, max: proxies - 1 });
  const then = fc.constantFrom<Reload | null>(null, 'sighup', 'post');
  const arbitraries = Object.entries(COMMANDS).map(([name, spec]) => ({
    weight: spec.weight ?? 3,
    arbitrary: spec.edit
      ? fc.tuple(index, then).map(([i, reload]) => new Step(name, i, tally, reload))
      : (spec.proxy ? index : fc.constant(0)).map((i) => new Step(name, i, tally)),
  }));
  return fc.commands([fc.oneof(...arbitraries)], { maxCommands, size: '+1', ...(replayPath !== undefined && { replayPath }) });
}
