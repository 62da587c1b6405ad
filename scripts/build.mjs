#!/usr/bin/env node
// Builds dist/, what bin/proxy-monitor.js runs: `npm install` runs it (prepare), and so does every
// test run (vitest's globalSetup), so tests run what users run.
//
// esbuild bundles the TypeScript with its dependencies into a few ES modules. Measured against
// tsc's one-file-per-module output (bench/README.md, "Memory"), the bundle with whitespace and
// syntax minified saves ~30 MiB of RSS: V8 keeps every module's source text, and a bundle has one
// module record per chunk instead of one per file. Identifiers are kept, so stack traces read.
// Code loaded only on some paths (the inspector, the daemon itself for the CLI's client commands)
// is split into chunks that load on first use. zod is imported as a namespace (`import * as z`)
// everywhere: through its `z` object esbuild kept every one of its 48 locales (300 KB of source
// that V8 holds for the daemon's life, ~1 MiB of RSS); as a namespace only what is used is bundled.
//
// The spawn helper (native/spawn-helper.c) is compiled with the machine's C compiler ($CC, else cc);
// without one the daemon starts its proxies with child_process and says so at start.
//
// Without esbuild (`npm ci --omit=dev` on a copy that was built already), the existing dist/ is kept.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  if (existsSync(join(DIST, 'proxy-monitor.js'))) {
    console.warn('proxy-monitor build: esbuild is not installed (dev dependencies omitted); keeping the dist/ already built');
    process.exit(0);
  }
  console.error('proxy-monitor build: esbuild is not installed and dist/ was never built: run `npm install` with dev dependencies, once');
  process.exit(1);
}

// Fastify's server module loads node:http2 and node:https at its top, for the kinds of server it can
// make; the daemon makes a plain HTTP one. Each is loaded on its first use instead: together with
// the TLS stack under https (src/health loads them for https and tls checks only) and prom-client's
// unused parts (src/metrics/prom.ts), ~1-1.3 MiB of RSS that every daemon held (bench/README.md,
// "Memory"; test/ops/footprint.test.ts holds the daemon to it).
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:(http2|https)$/ }, (args) =>
      /fastify[\\/]lib[\\/]server\.js$/.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, key) => require(${JSON.stringify(args.path)})[key] });`,
      loader: 'js',
    }));
  },
};

// xstate names its `and`, `or`, `not` and `stateIn` guards by their functions' names (the machines'
// definitions the inspector shows say `{ type: "and" }`), and bundling renames those functions where
// the name is taken (`and2`): their names are set again, by a line after each. The build fails if
// xstate's source no longer has the line this hangs on.
const xstateGuardNames = {
  name: 'xstate-guard-names',
  setup(build) {
    build.onLoad({ filter: /[\\/]xstate[\\/]dist[\\/]raise-[^\\/]+\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const name of ['and', 'or', 'not', 'stateIn']) {
        const anchor = `  ${name}.check = check${name[0].toUpperCase()}${name.slice(1)};\n`;
        if (!text.includes(anchor)) throw new Error(`build: xstate's ${name} guard is no longer as expected in ${args.path}`);
        text = text.replace(anchor, `${anchor}  Object.defineProperty(${name}, 'name', { value: '${name}' });\n`);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: ROOT,
  // config-worker: a reload reads the config file on a thread of its own (src/config/off-thread.ts).
  entryPoints: { 'proxy-monitor': 'src/cli/main.ts', 'echo-server': 'demo/echo-server.ts', 'config-worker': 'src/config/worker.ts' },
  outdir: DIST,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  minifyWhitespace: true,
  minifySyntax: true,
  // No keepNames: it wraps every function in `__name(fn, "name")`, closures included, a
  // defineProperty each time one is created: ~2 MiB of RSS, and of an idle daemon's CPU 3.5 % and 6 %
  // of what it allocated (bench/README.md, "Idle CPU"). Where a name is data, xstateGuardNames.
  keepNames: false,
  metafile: true,
  plugins: [lazyBuiltins, xstateGuardNames],
  logLevel: 'warning',
  // better-sqlite3 finds its compiled addon relative to its own files; pino is loaded from
  // node_modules as it is published (its thread-stream and worker files). Fastify's JSON-schema
  // compilers and its test injector are never loaded by the daemon (src/api/server.ts gives it the
  // zod compilers; inject() is for tests): left in node_modules, their 480 KB of source are not
  // held in memory (bench/README.md, "Memory").
  external: ['better-sqlite3', 'pino', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'light-my-request'],
  // Bundled CommonJS dependencies call require() for Node's built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

// Chunks of earlier builds (their names carry a content hash) would pile up.
const built = new Set(Object.keys(result.metafile.outputs).map((file) => relative(DIST, resolve(ROOT, file))));
for (const name of readdirSync(DIST)) {
  if (name.endsWith('.js') && !built.has(name)) rmSync(join(DIST, name));
}
// The inspector page's files, read at run time from beside the chunk that serves them.
cpSync(join(ROOT, 'src/inspector/public'), join(DIST, 'public'), { recursive: true });

// The machines' charts, laid out now rather than by a running daemon (src/inspector/draw-charts.ts).
const drawCharts = join(DIST, '.draw-charts.mjs');
try {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/inspector/draw-charts.ts'],
    outfile: drawCharts,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [xstateGuardNames],
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  execFileSync(process.execPath, [drawCharts, join(DIST, 'charts')], { stdio: ['ignore', 'inherit', 'inherit'] });
} finally {
  rmSync(drawCharts, { force: true });
}

// Built beside and renamed over: a running daemon's helper keeps its inode (no ETXTBSY).
const helper = join(DIST, 'spawn-helper');
try {
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', `${helper}.tmp`, join(ROOT, 'native/spawn-helper.c')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  renameSync(`${helper}.tmp`, helper);
} catch (error) {
  rmSync(`${helper}.tmp`, { force: true });
  rmSync(helper, { force: true });
  console.warn(
    `proxy-monitor build: cannot compile the spawn helper (${error.message.split('\n')[0]}); the daemon will start proxies with child_process`,
  );
}
