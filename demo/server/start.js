#!/usr/bin/env node
// @ts-check
/**
 * `npm start`: builds the demo page and the micro-frontend demo and serves both with the reference
 * backend (auth-shell/server on a PGlite store) mounted under /api: the demo at /, the
 * micro-frontends at /mfe/ (demo/mfe/: a plain-HTML host shell with a Lit, a React and a Vue
 * micro-frontend, each bundled with its own copy of auth-shell, sharing one session).
 *
 *   node demo/server/start.js [--port 8080] [--latency 150] [--seed] [--data .data/pglite]
 *
 * --port      port to listen on (also the PORT environment variable; the flag wins). Default 8080.
 * --latency   ms the backend waits before every answer, so the pending states are visible. Default 150.
 * --data      the PGlite data directory: sessions and the signing key live there, so a restart logs
 *             nobody out. Default .data/pglite in the repository (ignored by git); delete it to start afresh.
 * --seed      backend in seed mode (GET /refresh and GET /logout accepted, no CSRF header or Origin
 *             checks). The pages are then served with refresh-method="GET" logout-method="GET" on
 *             their <auth-provider>: the server rewrites the tag in index.html (and mfe/index.html,
 *             whose shell provider fixes the options of the session the micro-frontends share) on
 *             the fly, so the page and the backend always agree and no query parameter is needed.
 *
 * Access tokens live 20 s, so proactive refreshes (at ~15 s) show up in the page's timeline. The
 * backend logs one line per API request and per socket handshake/close; it redacts query strings
 * and never logs headers or bodies. The authenticated socket is ws://localhost:<port>/api/ws
 * (a `tick` every 2 s), attached to the dev server's own Node http server.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { versionDefine } from '../../scripts/version.mjs';
import { startDevServer } from '@web/dev-server';
import { createBackend, DEFAULT_USERS } from './backend.js';
import { pgliteStore } from '../../src/server/stores/pglite.js';
import { buildMfe } from '../mfe/build.js';

const demoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = 'usage: node demo/server/start.js [--port <n>] [--latency <ms>] [--seed] [--data <dir>]';
const repoRoot = path.resolve(demoDir, '..');

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`auth-shell demo: ${message}`);
  process.exit(1);
}

// ---- flags ---------------------------------------------------------------------------------------

/** @type {{ port?: string, latency?: string, seed?: boolean, data?: string, help?: boolean }} */
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      latency: { type: 'string' },
      seed: { type: 'boolean', default: false },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : error}\n${usage}`);
}
if (flags.help) {
  console.log(usage);
  process.exit(0);
}

/** @param {string | undefined} raw @param {number} fallback @param {string} name @param {number} max */
function integer(raw, fallback, name, max) {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    fail(`${name} must be an integer from 0 to ${max}, not "${raw}"\n${usage}`);
  return n;
}

const port = integer(flags.port ?? process.env.PORT, 8080, 'port', 65535);
const latency = integer(flags.latency, 150, 'latency', 60_000);
const seed = flags.seed === true;
const dataDir = path.resolve(repoRoot, flags.data ?? '.data/pglite');

// The dev server would crash with an unhandled 'error' event on a busy port: check first.
if (port !== 0) {
  await new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (/** @type {NodeJS.ErrnoException} */ error) =>
      fail(
        error.code === 'EADDRINUSE'
          ? `port ${port} is already in use; choose another with --port <n> or PORT=<n>`
          : `cannot listen on port ${port}: ${error.message}`,
      ),
    );
    probe.listen(port, () => probe.close(resolve));
  });
}

// ---- build ---------------------------------------------------------------------------------------

/** Prints esbuild's messages of a failed build (or the error itself), then exits. @param {unknown} error @param {string} what */
async function buildFailed(error, what) {
  const failure = /** @type {{ errors?: esbuild.Message[] }} */ (error);
  if (Array.isArray(failure.errors) && failure.errors.length > 0) {
    const lines = await esbuild.formatMessages(failure.errors, { kind: 'error', color: process.stderr.isTTY });
    console.error(lines.join(''));
  } else {
    console.error(error);
  }
  fail(`building ${what} failed (see above); nothing was started.`);
}

/** @param {esbuild.Message[]} warnings */
async function printWarnings(warnings) {
  for (const line of await esbuild.formatMessages(warnings, { kind: 'warning', color: process.stderr.isTTY })) {
    console.warn(line);
  }
}

try {
  const result = await esbuild.build({
    entryPoints: [path.join(demoDir, 'app.ts')],
    outfile: path.join(demoDir, 'dist', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    define: versionDefine(),
    logLevel: 'silent',
  });
  await printWarnings(result.warnings);
} catch (error) {
  await buildFailed(error, 'demo/app.ts');
}

// The micro-frontend demo: demo/mfe/dist/{shell,lit,react,vue}.js, independent bundles.
try {
  const { warnings } = await buildMfe({ minify: true });
  await printWarnings(warnings);
} catch (error) {
  await buildFailed(error, 'the micro-frontend demo (demo/mfe/)');
}

// ---- serve ---------------------------------------------------------------------------------------

const backend = createBackend({
  base: '/api',
  store: pgliteStore({ dataDir }),
  mode: seed ? 'seed' : 'hardened',
  accessTtl: 20,
  latency,
  allowedOrigins: [],
  feedInterval: 2000,
  log: (line) => console.log(`[api] ${line}`),
});

/** `/mfe` → `/mfe/`, so the page's relative URLs (./dist/…, ./mfe.css) resolve. */
const mfeRedirect = async (/** @type {any} */ ctx, /** @type {() => Promise<unknown>} */ next) => {
  if (ctx.path === '/mfe') {
    ctx.status = 301;
    ctx.redirect(`/mfe/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
    return;
  }
  await next();
};

/** Adds the seed-mode methods to the pages' provider (see the header comment). */
const seedPagePlugin = {
  name: 'auth-shell-demo-seed-mode',
  /** @param {any} context */
  transform(context) {
    if (!seed || !context.response.is('html') || typeof context.body !== 'string') return undefined;
    const tag = '<auth-provider api="/api"';
    if (!context.body.includes(tag)) return undefined;
    return { body: context.body.replace(tag, `${tag} refresh-method="GET" logout-method="GET"`) };
  },
};

// The store first: PGlite opens (or creates) its data directory, the schema is migrated and the
// signing key made on the very first start.
try {
  await backend.auth.ready();
} catch (error) {
  fail(`the session store in ${dataDir} could not be opened: ${error instanceof Error ? error.message : error}`);
}

const server = await startDevServer({
  config: {
    rootDir: demoDir,
    port,
    hostname: 'localhost',
    watch: false,
    nodeResolve: false,
    injectWebSocket: false,
    middleware: [backend.middleware, mfeRedirect],
    plugins: [seedPagePlugin],
  },
  readCliArgs: false,
  readFileConfig: false,
  logStartMessage: false,
  autoExitProcess: false,
});

// @web/dev-server 0.4.6 exposes its Node http server as `server.server` (its own socket, /wds, is
// not used here: injectWebSocket is off; attachWebSocket would leave it alone anyway).
if (!server.server) fail('the dev server did not expose its http server; cannot attach the socket endpoint');
const detachWebSocket = backend.attachWebSocket(/** @type {import('node:http').Server} */ (server.server));

const address = server.server?.address();
const actualPort = address && typeof address === 'object' ? address.port : port;
const users = DEFAULT_USERS.map((u) => `${u.login}/${u.pass}`).join(', ');
console.log(
  `auth-shell demo: http://localhost:${actualPort}/  (users ${users}; ${seed ? 'seed' : 'hardened'} backend, access token 20 s, latency ${latency} ms)`,
);
console.log(
  `auth-shell sessions: PGlite in ${path.relative(process.cwd(), dataDir) || dataDir} (kept across restarts)`,
);
console.log(`auth-shell micro-frontends: http://localhost:${actualPort}/mfe/`);

// ---- shutdown ------------------------------------------------------------------------------------

let stopping = false;
/** @param {NodeJS.Signals} signal */
async function shutdown(signal) {
  if (stopping) process.exit(1); // a second signal: do not wait any longer
  stopping = true;
  console.log(`auth-shell demo: ${signal}, stopping`);
  try {
    detachWebSocket(); // close frames (1001) before the dev server destroys its connections
    await server.stop();
    await backend.close(); // PGlite writes its data directory out
  } finally {
    process.exit(0);
  }
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
