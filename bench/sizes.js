// @ts-check
/**
 * Bundle sizes of auth-shell, min + gzip, built from the TypeScript sources (no `npm run build`
 * needed) as a user's bundler builds each entry with code splitting: what a page loads at once, and
 * apart what it loads later with `import()`. `measureSizes()` is what `bench/bench.js` prints and
 * what a test can enforce.
 */
import { build } from 'esbuild';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { versionDefine } from '../scripts/version.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Budgets in gzip bytes. Every raise is written here, with its reason.
 *
 * `core` (the session engine, without sockets): 4 KB at the foundation; raised to 5.5 KB there
 * (measured 5.1 KB: jwt-decode ≈0.5 KB, typed errors, validated options, the activity events,
 * restore/logout recovery), then to 6.25 KB with the multi-tab work (measured 6.1 KB: the Web Lock +
 * BroadcastChannel hand-over and the page-global registry, ≈0.9 KB, which sharing a session across tabs and bundles needs).
 *
 * `main` (everything the elements need: core, sockets, context, elements + their dependencies):
 * 12 KB at the foundation and through the socket work (12.1 KB); raised to 13.5 KB with the
 * multi-tab and multi-bundle work (measured 13.5 KB: tab hand-over, the registry, and @lit/context's
 * ContextRoot so consumers defined before their provider still get the session).
 *
 * `page` (main + the login form, the documented page): 12 KB, then 13.5 KB with sockets, then
 * 14.5 KB with the multi-tab work — always main's budget plus the form's ≈1 KB.
 *
 * Hardening (measured core 7,625 B, main 15,050 B, page 16,153 B): the bearer decided on the
 * request actually sent, lifetimes only from what a response proves with a freshness floor and
 * backoff, the 401 pause, validated tab messages on a shared monotonic clock, conflicting-option
 * errors and the older-copy notice in the registry, the socket connection hook that keeps the token
 * inside the session, owed logouts, RateLimitError. Raised to just above those figures (+1.5 KB
 * each); the structure work that follows is to win the bytes back.
 *
 * The state-machine refactor then made every row smaller again (core 7,659 B, main 15,051 B, page
 * 16,128 B).
 *
 * Clear answers to mistakes (measured core 7,814 B, main 15,430 B, page 16,568 B): the `debug` option
 * (+0.1 KB in the core), and a provider that cannot make a session reports the attribute to fix and
 * acts anonymous instead of waiting forever (+0.2 KB in the elements). Raised to just above.
 *
 * Server rendering (measured core 7,948 B, main 15,555 B, page 16,691 B): getSession outside a
 * browser returns an inert session (+0.13 KB) instead of throwing or keeping Node alive.
 *
 * The login form in any language (measured page 17,071 B; the form alone +0.38 KB): every text
 * settable, errors chosen by code, and German defaults beside English (about half of it) so `lang`
 * has something to follow. The form is its own entry: pages with their own form do not pay.
 *
 * A login right after a logout waits for the logout's answer (+23 B): budgets set to the figures
 * rounded up to the next 64 B (core 7,971 → 8,000; main 15,581 → 15,616; page 17,096 → 17,152).
 *
 * A new tab restores from its sibling tabs (measured core 8,341 B, main 15,940 B, page 17,448 B;
 * +0.34 KB): the shared presence lock that tells a new tab whether siblings exist, the ask and its
 * bounded wait, the offer. It saves a refresh request and a round trip per opened tab.
 *
 * Requests keep their own abort controller (WebKit could collect a combined signal and lose the
 * timeout; +35 B): page 17,487 B → 17,536.
 *
 * What the fuzzing found (measured core 8,608 B, main 16,240 B, page 17,723 B; +0.23 KB): every
 * option of the wrong type is a UsageError (not a TypeError or a session that cannot work), timer
 * values capped to what timers take, one refresh per authFetch, the lock fallback only for a wait
 * that timed out, a received logout time capped at now.
 *
 * Tab hand-overs stamped no earlier than the last logout the sending tab knows of (a login that won
 * over another tab's logout did not reach that tab when the two documents rounded the shared clock
 * apart, as Firefox does; +35 B): core 8,634 B, main 16,290 B, page 17,770 B.
 *
 * The session as a pure machine that knows which session it holds, hardened and adopted (measured
 * core 12,638 B, main 19,774 B, page 21,581 B, in the production build; +4 KB on core over 8,634):
 * - the transition table and its effect modules (freshness, the logout courier, the socket hook);
 * - the session id: the sid cookie read at every request, sid-carrying tab messages, the announced
 *   logout, the authenticated new-tab ask, the session hint;
 * - options frozen with private origins; the registry as a facade where declarations configure and
 *   lookups attach, conflicts naming both declarations;
 * - one backoff per browser (the outage shared by the tabs, Retry-After on 503);
 * - set-up mistakes said in words (SetupError, the CORS probe), any backend shape (login fields,
 *   token fields, the one-time code step).
 * Sockets moved to a chunk loaded on first use (main −0.7 KB), and long developer messages to the
 * development build (−0.7 KB). The goals (core 6,656 B, main 12,288 B) were set before the
 * hardening and adoption work; what reaching them would cost is in the README's Size section.
 *
 * Nothing more may hide in the margins: lower a budget when its bundle shrinks.
 */
export const BUDGETS = { core: 12_672, main: 19_776, page: 21_632 };

/**
 * Route guards and roles in the core (measured main 20,364 B, page 22,164 B; +0.59 KB over 19,774 and
 * 21,581): hasRole (moved from the gate, so the same rule serves the handles and guards),
 * requireAuth, safeReturnTo, readReturnTo and firstSession. The main entry re-exports the whole core,
 * so they count in main and page although a bundle that does not call them drops them. Raised to the
 * figures rounded up to the next 64 B (main 19,776 → 20,416; page 21,632 → 22,208).
 */
BUDGETS.main = 20_416;
BUDGETS.page = 22_208;

/**
 * The socket chunk: what `openSocket` loads with `import()` when a page first opens a socket (the
 * phase × event table, its runner, the shared backoff's use), so that pages without sockets never
 * download it. 2 KB when it was split off main; ticket mode's request is a chunk of its own.
 */
BUDGETS.socket = 2048;

/** Runtime deps that a page normally shares with other code (external for the "alone" figure). */
const DEPS = ['@lit/*', 'jwt-decode'];

/**
 * @typedef {{ name: string, minBytes: number, gzipBytes: number, budget?: number, note?: string }} SizeRow
 * @typedef {{ entry?: string, source?: string, external?: string[] }} Target
 * @typedef {{ minBytes: number, gzipBytes: number }} Size
 * @typedef {Size & { chunks: (Size & { entryPoint: string })[] }} Measured
 */

/**
 * One entry (a file, or a source text resolved from the repo root) as a user's bundler builds it
 * with code splitting (esbuild `splitting: true`), minified ESM: what a page downloads when it
 * imports the entry — the entry's file and every file it imports statically — and, apart, each chunk
 * it loads later with `import()` (with the files only that chunk imports). Every file is gzipped on
 * its own, as a server sends it, and the sizes are added up.
 * @param {Target} target
 * @returns {Promise<Measured>}
 */
async function measure({ entry, source, external = [] }) {
  const result = await build({
    absWorkingDir: root,
    ...(entry
      ? { entryPoints: [entry] }
      : { stdin: { contents: source ?? '', resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' } }),
    bundle: true,
    splitting: true,
    outdir: 'out',
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Lit's packages map their `development` condition to the dev build (warnings, checks, ~30 % larger).
    // Only `production` is enabled, so the `default` (production) files are what gets measured.
    conditions: ['production'],
    define: versionDefine(undefined, false), // what a production build of a user's app gets
    external,
    write: false,
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((file) => [relative(root, file.path), file]));
  const outputs = result.metafile?.outputs ?? {};
  // Guard: the dev build of Lit announces itself; measuring it would be meaningless.
  for (const file of files.values())
    if (/Lit is in dev mode/.test(file.text))
      throw new Error(`sizes: ${entry ?? 'entry'} bundled the development build of Lit`);
  /** The files `path` loads before it runs: itself and its static imports, transitively. */
  const staticClosure = (/** @type {string} */ path, seen = new Set()) => {
    if (seen.has(path)) return seen;
    seen.add(path);
    for (const imported of outputs[path].imports)
      if (imported.kind === 'import-statement' && !imported.external) staticClosure(imported.path, seen);
    return seen;
  };
  /** @returns {Size} */
  const total = (/** @type {Iterable<string>} */ paths) => {
    let minBytes = 0;
    let gzipBytes = 0;
    for (const path of paths) {
      const code = /** @type {import('esbuild').OutputFile} */ (files.get(path)).contents;
      minBytes += code.length;
      gzipBytes += gzipSync(code, { level: 9 }).length;
    }
    return { minBytes, gzipBytes };
  };
  const main = Object.keys(outputs).find((path) => outputs[path].entryPoint === (entry ?? 'entry.ts'));
  if (!main) throw new Error(`sizes: no output for ${entry ?? 'the source entry'}`);
  const loaded = staticClosure(main);
  const chunks = [...loaded]
    .flatMap((path) => outputs[path].imports)
    .filter((imported) => imported.kind === 'dynamic-import' && !imported.external)
    .map((imported) => ({
      entryPoint: outputs[imported.path].entryPoint ?? imported.path,
      ...total([...staticClosure(imported.path)].filter((path) => !loaded.has(path))),
    }));
  return { ...total(loaded), chunks };
}

/** The core as a route loader or a framework app imports it: everything but the socket module. */
const CORE_ENGINE = `export {
  Session, createSession, getSession, AuthError, InvalidCredentialsError, NetworkError, TimeoutError,
  ProtocolError, HttpError, UnauthenticatedError, UsageError, SocketError, isAuthError,
} from './src/core/index.ts';
`;

/** The core's guards and roles, measured apart from the engine. */
const CORE_GUARDS = `export { hasRole, requireAuth, safeReturnTo, readReturnTo, firstSession } from './src/core/index.ts';
`;

/** @returns {Promise<SizeRow[]>} */
export async function measureSizes() {
  // `export *` rather than bare imports, so nothing depends on how `sideEffects` is read.
  const [core, coreGuards, coreAll, main, both, formAlone, devtools, react, vue, svelte] = await Promise.all([
    measure({ source: CORE_ENGINE }),
    measure({ source: CORE_ENGINE + CORE_GUARDS }),
    measure({ entry: 'src/core/index.ts' }),
    measure({ entry: 'src/index.ts' }),
    measure({ source: "export * from './src/index.ts';\nexport * from './src/login-form.ts';\n" }),
    measure({ entry: 'src/login-form.ts', external: DEPS }),
    measure({ source: "export * from './src/index.ts';\nexport * from './src/devtools.ts';\n" }),
    // The adapters as an app imports them: the core and its sockets with them, the framework external.
    ...['react', 'vue', 'svelte'].map((name) =>
      measure({
        source: `export * from './src/core/index.ts';\nexport * from './src/${name}.ts';\n`,
        external: ['react', 'vue'],
      }),
    ),
  ]);
  // main loads the socket chunk on demand, which loads ticket mode's only in ticket mode.
  const socket = main.chunks.find((chunk) => chunk.entryPoint === 'src/core/socket-runner.ts');
  if (!socket || main.chunks.length !== 1)
    throw new Error(`sizes: main should load one chunk later, the socket's: ${JSON.stringify(main.chunks)}`);
  const ticket = await measure({ entry: 'src/core/socket-runner.ts' }).then((runner) => runner.chunks[0]);
  if (ticket?.entryPoint !== 'src/core/socket-ticket.ts')
    throw new Error(`sizes: the socket chunk should load ticket mode's on demand, not ${JSON.stringify(ticket)}`);
  /** The bytes `extra` adds to `base`, as a row. */
  const onTop = (
    /** @type {string} */ name,
    /** @type {Size} */ extra,
    /** @type {Size} */ base,
    /** @type {string} */ note,
  ) => ({
    name,
    minBytes: extra.minBytes - base.minBytes,
    gzipBytes: extra.gzipBytes - base.gzipBytes,
    note,
  });
  return [
    {
      name: 'core',
      minBytes: core.minBytes,
      gzipBytes: core.gzipBytes,
      budget: BUDGETS.core,
      note: 'the session engine (auth-shell/core without sockets) + jwt-decode',
    },
    onTop(
      'guards and roles (on top of core)',
      coreGuards,
      core,
      'hasRole, requireAuth, safeReturnTo, readReturnTo, firstSession from auth-shell/core',
    ),
    onTop(
      'socket facade (on top of core)',
      coreAll,
      coreGuards,
      `openSocket/AuthSocket as every page loads them (options, queue, readyState, events); all of auth-shell/core = ${coreAll.gzipBytes} B gz`,
    ),
    {
      name: 'socket chunk (on first openSocket)',
      minBytes: socket.minBytes,
      gzipBytes: socket.gzipBytes,
      budget: BUDGETS.socket,
      note: 'socket-runner.ts + socket-machine.ts, loaded with import() when a page first opens a socket',
    },
    {
      name: 'ticket chunk (ticket mode)',
      minBytes: ticket.minBytes,
      gzipBytes: ticket.gzipBytes,
      note: 'socket-ticket.ts, loaded by the socket chunk on the first connect with { ticket: true }',
    },
    {
      name: 'main',
      minBytes: main.minBytes,
      gzipBytes: main.gzipBytes,
      budget: BUDGETS.main,
      note: 'src/index.ts (elements, context, core, socket facade) + @lit/reactive-element, @lit/context, jwt-decode',
    },
    {
      name: 'page (main + login-form)',
      minBytes: both.minBytes,
      gzipBytes: both.gzipBytes,
      budget: BUDGETS.page,
      note: 'what the documented page loads',
    },
    onTop('login-form (on top of main)', both, main, 'the extra cost of import "auth-shell/login-form"'),
    {
      name: 'login-form (alone, deps external)',
      minBytes: formAlone.minBytes,
      gzipBytes: formAlone.gzipBytes,
      note: '@lit/*, jwt-decode external',
    },
    onTop('devtools (on top of main)', devtools, main, 'import "auth-shell/devtools", for development builds'),
    onTop('react adapter (on top of core)', react, coreAll, 'useAuth from auth-shell/react; React external'),
    onTop(
      'vue adapter (on top of core)',
      vue,
      coreAll,
      'useAuth, isAuthShellElement from auth-shell/vue; Vue external',
    ),
    onTop('svelte adapter (on top of core)', svelte, coreAll, 'authStore from auth-shell/svelte'),
  ];
}
