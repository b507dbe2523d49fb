// Server rendering, route loaders on a server, Node tests: every entry of the package imports in
// plain Node (no DOM), and getSession() there is inert — settled at once, no request, no timer, no
// channel — so the process exits by itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ENTRIES = [
  'src/index.ts',
  'src/core/index.ts',
  'src/login-form.ts',
  'src/devtools.ts',
  'src/react.ts',
  'src/vue.ts',
  'src/svelte.ts',
  'src/testing/index.ts',
];

/** Bundles `source` for Node the way a server bundler would (packages left to Node), runs it, returns its output. */
async function runInNode(source) {
  const dir = mkdtempSync(join(tmpdir(), 'auth-shell-ssr-'));
  const file = join(dir, 'run.mjs');
  const result = await build({
    stdin: { contents: source, resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  // Packages resolve from the project, as they would from the app that installed auth-shell.
  writeFileSync(
    file,
    result.outputFiles[0].text.replace(
      /from "((?:@[\w.-]+\/)?[\w.-]+(?:\/[\w./-]+)?)"/g,
      (_, p) => `from ${JSON.stringify(import.meta.resolve(p))}`,
    ),
  );
  return new Promise((resolve) => {
    const started = performance.now();
    execFile(process.execPath, [file], { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error?.code ?? 0, killed: !!error?.killed, stdout, stderr, ms: performance.now() - started }),
    );
  });
}

for (const entry of ENTRIES) {
  test(`${entry} imports in Node without a DOM`, async () => {
    const run = await runInNode(`import * as m from './${entry}'; console.log(Object.keys(m).length);`);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\d+\n$/);
  });
}

test('getSession on a server is inert: settled at once, restoring, no request, nothing keeps Node alive', async () => {
  const run = await runInNode(`
    import { getSession } from './src/core/index.ts';
    let requests = 0;
    globalThis.fetch = async () => { requests++; throw new Error('no request expected'); };
    const relative = getSession('/api');
    const absolute = getSession({ api: 'https://auth.example/api', tabSync: true });
    const settled = await Promise.race([Promise.all([relative.ready, absolute.ready]).then(() => true), new Promise((r) => setTimeout(() => r(false), 100))]);
    await relative.restore();
    const login = await absolute.login('alice', 'alice').then(() => 'resolved', (e) => e.code);
    const refresh = await absolute.refresh().then(() => 'resolved', (e) => e.code);
    console.log(JSON.stringify({ settled, states: [relative.state, absolute.state], login, refresh, requests }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.killed, false);
  assert.deepEqual(JSON.parse(run.stdout), {
    settled: true,
    states: ['restoring', 'restoring'],
    login: 'usage',
    refresh: 'usage',
    requests: 0,
  });
  // Nothing kept the process alive after the script's own work (a BroadcastChannel or a timer would).
  assert.ok(run.ms < 3000, `the process took ${Math.round(run.ms)} ms to exit`);
});

/** Renders with a framework's server renderer and the adapter; prints the markup and the requests made. */
const NO_NETWORK = `let requests = 0; globalThis.fetch = async () => { requests++; throw new Error('no request expected'); };`;

test("React's renderToString with useAuth renders restoring, without a request", async () => {
  const run = await runInNode(`
    ${NO_NETWORK}
    import { createElement as h } from 'react';
    import { renderToString } from 'react-dom/server';
    import { useAuth } from './src/react.ts';
    function Status() {
      const { state, user, login, isLoading, isAuthenticated, error, hasRole } = useAuth();
      const more = [isLoading, isAuthenticated, error, hasRole('admin')].map(String).join(',');
      return h('p', { 'data-login': typeof login }, state + ':' + String(user) + ':' + more);
    }
    console.log(JSON.stringify({ html: renderToString(h(Status)), requests }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    html: '<p data-login="function">restoring:null:true,false,null,false</p>',
    requests: 0,
  });
  assert.ok(run.ms < 3000, `the process took ${Math.round(run.ms)} ms to exit`);
});

test("Vue's renderToString with useAuth renders restoring, without a request", async () => {
  const run = await runInNode(`
    ${NO_NETWORK}
    import { createSSRApp, h } from 'vue';
    import { renderToString } from 'vue/server-renderer';
    import { useAuth } from './src/vue.ts';
    const app = createSSRApp({ setup() { const { state, user } = useAuth('/api'); return () => h('p', state.value + ':' + String(user.value)); } });
    console.log(JSON.stringify({ html: await renderToString(app), requests }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { html: '<p>restoring:null</p>', requests: 0 });
  assert.ok(run.ms < 3000, `the process took ${Math.round(run.ms)} ms to exit`);
});

test('authStore on a server gives restoring, without a request', async () => {
  const run = await runInNode(`
    ${NO_NETWORK}
    import { get } from 'svelte/store';
    import { authStore } from './src/svelte.ts';
    const { state, isLoading, isAuthenticated, error } = get(authStore());
    console.log(JSON.stringify({ state, isLoading, isAuthenticated, error, requests }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    state: 'restoring',
    isLoading: true,
    isAuthenticated: false,
    error: null,
    requests: 0,
  });
});

test('the route guards on a server decide nothing and request nothing; firstSession says there is no page', async () => {
  const run = await runInNode(`
    ${NO_NETWORK}
    import { requireAuth, firstSession } from './src/core/index.ts';
    import { requireAuthLoader } from './src/react.ts';
    import { requireAuthGuard } from './src/vue.ts';
    const loader = await requireAuthLoader('/api')({ request: new Request('http://example.com/orders') });
    const guard = await requireAuthGuard('/api')({ fullPath: '/orders', meta: { requiresAuth: true } });
    const first = await firstSession().then(() => 'resolved', (error) => error.code);
    console.log(JSON.stringify({ core: await requireAuth('/api'), loader, guard, first, requests }));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { core: null, loader: null, guard: true, first: 'usage', requests: 0 });
  assert.ok(run.ms < 3000, `the process took ${Math.round(run.ms)} ms to exit`);
});
