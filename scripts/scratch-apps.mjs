// `npm run scratch-apps`: what a user's first hour with the published package looks like, checked.
// The package is packed as npm would publish it (`npm pack`, which builds it), installed from that
// tarball into scratch apps in a temporary directory — every other package from the npm registry —
// and each app is type-checked strictly and built by its own Vite:
//   react   React 19: useAuth, requireAuthLoader in a React Router data router, the elements in JSX;
//           `tsc --strict`, `vite build`;
//   vue     Vue 3: useAuth, isAuthShellElement (vite.config), requireAuthGuard in Vue Router, the
//           elements in a single-file component's template; `vue-tsc` with strictTemplates (and a
//           template with a wrong attribute value must fail it, naming the value), `vite build`;
//   svelte  Svelte 5: authStore in a runes component with the elements; `svelte-check`, `vite build`;
//   core    a plain TypeScript file on auth-shell/core (guards, roles, errors); `tsc --strict`.
// Zero errors everywhere, or it fails loudly with the tool's output. The directory and the tarball
// are removed afterwards (`--keep` leaves them for a look). Prints each check and how long it took.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const keep = process.argv.includes('--keep');

/**
 * The scratch apps' dependencies. The frameworks and TypeScript at the versions the repository
 * tests with (its devDependencies); the build and check tools pinned here, at versions that run on
 * Node 20 with npm 11 (Vite 8 needs Node ≥ 20.19).
 */
const dev = (name) => pkg.devDependencies[name];
const DEPENDENCIES = {
  react: dev('react'),
  'react-dom': dev('react-dom'),
  'react-router': dev('react-router'),
  '@types/react': dev('@types/react'),
  '@types/react-dom': dev('@types/react-dom'),
  vue: dev('vue'),
  'vue-router': dev('vue-router'),
  svelte: dev('svelte'),
  typescript: dev('typescript'),
  vite: '8.4.0',
  '@vitejs/plugin-react': '6.3.0',
  '@vitejs/plugin-vue': '6.0.11',
  '@sveltejs/vite-plugin-svelte': '7.3.1',
  'vue-tsc': '3.3.14',
  'svelte-check': '4.7.8',
};

const STRICT = {
  target: 'ES2022',
  module: 'ESNext',
  moduleResolution: 'Bundler',
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  strict: true,
  noEmit: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  skipLibCheck: false,
};

const INDEX = (script) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>scratch</title></head>\n<body><div id="app"></div><script type="module" src="${script}"></script></body></html>\n`;

/** The apps: their files, relative to the scratch directory. */
const FILES = {
  'react/index.html': INDEX('./main.tsx'),
  'react/tsconfig.json': JSON.stringify({ compilerOptions: { ...STRICT, jsx: 'react-jsx' }, include: ['main.tsx'] }),
  'react/vite.config.ts': `import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
export default defineConfig({ root: fileURLToPath(new URL('.', import.meta.url)), plugins: [react()], logLevel: 'warn' });
`,
  'react/main.tsx': `import 'auth-shell';
import 'auth-shell/login-form';
import 'auth-shell/auth-shell.css';
import { readReturnTo } from 'auth-shell/core';
import { requireAuthLoader, useAuth } from 'auth-shell/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider, useNavigate, useLocation } from 'react-router';

function Orders() {
  const { user, isAuthenticated, error, hasRole, logout } = useAuth('/api');
  if (!isAuthenticated) return null;
  return (
    <p>
      {String(user?.['name'])} {hasRole('admin') ? '(admin)' : ''} {error?.code}
      <button onClick={() => void logout()}>Sign out</button>
    </p>
  );
}

function Login() {
  const navigate = useNavigate();
  const { search } = useLocation();
  return <auth-login-form onauth-login={(event) => void navigate(readReturnTo(search), { state: event.detail.user })} />;
}

const router = createBrowserRouter([
  { path: '/orders', loader: requireAuthLoader('/api'), Component: Orders },
  { path: '/login', Component: Login },
]);

createRoot(document.getElementById('app')!).render(
  <StrictMode>
    <auth-provider api="/api" csrf-header="X-Requested-With: scratch" onauth-change={(event) => console.log(event.detail.state)}>
      <auth-gate require-role="user admin">
        <p slot="pending">Restoring…</p>
        <RouterProvider router={router} />
      </auth-gate>
    </auth-provider>
  </StrictMode>,
);
`,
  'vue/index.html': INDEX('./main.ts'),
  // Without exactOptionalPropertyTypes: vue-router's own declarations fail it.
  'vue/tsconfig.json': JSON.stringify({
    compilerOptions: { ...STRICT, exactOptionalPropertyTypes: false, jsx: 'preserve', types: [] },
    vueCompilerOptions: { strictTemplates: true },
    include: ['main.ts', 'App.vue', 'env.d.ts'],
  }),
  'vue/tsconfig.wrong.json': JSON.stringify({
    compilerOptions: { ...STRICT, exactOptionalPropertyTypes: false, jsx: 'preserve', types: [] },
    vueCompilerOptions: { strictTemplates: true },
    include: ['Wrong.vue', 'env.d.ts'],
  }),
  'vue/env.d.ts': `declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
`,
  'vue/vite.config.ts': `import vue from '@vitejs/plugin-vue';
import { isAuthShellElement } from 'auth-shell/vue';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue({ template: { compilerOptions: { isCustomElement: isAuthShellElement } } })],
  logLevel: 'warn',
});
`,
  'vue/main.ts': `import 'auth-shell';
import 'auth-shell/login-form';
import { requireAuthGuard } from 'auth-shell/vue';
import { createApp } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import App from './App.vue';

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/orders', component: App, meta: { requiresAuth: true } },
    { path: '/login', component: App },
  ],
});
router.beforeEach(requireAuthGuard('/api', { loginPath: '/login' }));
createApp(App).use(router).mount('#app');
`,
  'vue/App.vue': `<script setup lang="ts">
import { safeReturnTo, type User } from 'auth-shell/core';
import { useAuth } from 'auth-shell/vue';
import { useRoute, useRouter } from 'vue-router';

const { state, user, isLoading, isAuthenticated, error, hasRole, logout } = useAuth('/api');
const route = useRoute();
const router = useRouter();
const back = (who: Readonly<User>) => void router.replace({ path: safeReturnTo(route.query['returnTo']), state: { who: String(who['name']) } });
const changed = (state: string) => console.log(state);
const failed = (code: string) => console.warn(code);
</script>

<template>
  <auth-provider api="/api" refresh-method="POST" :leeway="30" allowed-origins="https://api.example.com" @auth-change="changed($event.detail.state)" @auth-error="failed($event.detail.error.code)">
    <auth-gate require-role="user admin">
      <p slot="pending">{{ isLoading ? 'Restoring…' : state }}</p>
      <auth-login-form slot="login" submit-label="Go" @auth-login="back($event.detail.user)" />
      <p v-if="isAuthenticated">{{ user?.['name'] }} {{ hasRole('admin') ? '(admin)' : '' }} {{ error?.code }}</p>
      <button @click="logout()">Sign out</button>
    </auth-gate>
    <auth-devtools hide="message" collapsed />
  </auth-provider>
</template>
`,
  // Must fail, on each of these lines: proves that vue-tsc checks the elements' attribute values,
  // event details and attribute names from auth-shell's typings.
  'vue/Wrong.vue': `<script setup lang="ts">
import 'auth-shell/vue';
</script>

<template>
  <auth-provider api="/api" refresh-method="DELETE" @auth-change="(event) => event.detail.nope"></auth-provider>
  <auth-gate requires-role="admin"></auth-gate>
</template>
`,
  'svelte/index.html': INDEX('./main.ts'),
  'svelte/tsconfig.json': JSON.stringify({
    compilerOptions: { ...STRICT, types: [] },
    include: ['main.ts', 'App.svelte'],
  }),
  'svelte/svelte.config.js': 'export default {};\n',
  'svelte/vite.config.ts': `import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
export default defineConfig({ root: fileURLToPath(new URL('.', import.meta.url)), plugins: [svelte()], logLevel: 'warn' });
`,
  'svelte/main.ts': `import 'auth-shell';
import 'auth-shell/login-form';
import { mount } from 'svelte';
import App from './App.svelte';

mount(App, { target: document.getElementById('app')! });
`,
  'svelte/App.svelte': `<script lang="ts">
  import { readReturnTo, requireAuth } from 'auth-shell/core';
  import { authStore } from 'auth-shell/svelte';
  import { derived } from 'svelte/store';

  const auth = authStore('/api');
  const admin = derived(auth, ($auth) => $auth.hasRole('admin'));
  let login = $state<string | null>(null);
  void requireAuth('/api', { returnTo: location.pathname }).then((to) => (login = to));
  const back = () => location.assign(readReturnTo());
</script>

<auth-provider api="/api" csrf-header="X-Requested-With: scratch">
  <auth-gate>
    <p slot="pending">Restoring…</p>
    <auth-login-form slot="login" onauth-login={back}></auth-login-form>
    {#if $auth.isAuthenticated}
      <p>{$auth.user?.['name']} {$admin ? '(admin)' : ''} {$auth.error?.code ?? ''} {login}</p>
      <button onclick={() => $auth.logout()}>Sign out</button>
    {/if}
  </auth-gate>
</auth-provider>
`,
  'core/tsconfig.json': JSON.stringify({ compilerOptions: { ...STRICT, types: [] }, include: ['main.ts'] }),
  'core/main.ts': `import {
  createSession,
  firstSession,
  getSession,
  hasRole,
  isAuthError,
  readReturnTo,
  requireAuth,
  safeReturnTo,
  type RequireAuthOptions,
  type Session,
} from 'auth-shell/core';

const options: RequireAuthOptions = { loginPath: '/login', returnTo: new URL(location.href) };
const session: Session = getSession('/api');
const login: string | null = await requireAuth(session, options);
if (login) location.assign(login);
const admin: boolean = hasRole(session.user, ['admin', 'editor']);
const back: string = safeReturnTo(new URLSearchParams(location.search).get('returnTo'), '/home') + readReturnTo();
const first: Session = await firstSession();
const own = createSession({ api: '/api', allowedOrigins: ['https://api.example.com'] });
try {
  await own.login('alice', 'secret');
} catch (error) {
  if (isAuthError(error, 'invalid-credentials')) console.log(error.code, admin, back, first.state);
}
export {};
`,
};

/** Runs `command` in `cwd`; resolves with its stdout and stderr, rejects with both when it fails. */
async function run(cwd, command, args) {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_ENV: 'production', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { stdout, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (error);
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}${failure.message}`,
    );
  }
}

const checks = [];
/** Runs one named check and records how long it took. */
async function check(name, work) {
  const start = performance.now();
  process.stdout.write(`scratch-apps: ${name} … `);
  try {
    await work();
  } catch (error) {
    console.log('FAILED');
    throw error;
  }
  const seconds = (performance.now() - start) / 1000;
  checks.push({ name, seconds });
  console.log(`ok (${seconds.toFixed(1)} s)`);
}

const started = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'auth-shell-scratch-'));
let failed = false;
try {
  let tarball = '';
  await check('npm pack (builds the package)', async () => {
    const { stdout } = await run(root, 'npm', ['pack', '--json', '--pack-destination', dir]);
    // prepack's own output comes first; the JSON report is the rest.
    tarball = JSON.parse(stdout.slice(stdout.search(/^\[/m)))[0].filename;
  });
  await check(
    `npm install the tarball and ${Object.keys(DEPENDENCIES).length} packages from the registry`,
    async () => {
      const dependencies = { 'auth-shell': `file:./${tarball}`, ...DEPENDENCIES };
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'auth-shell-scratch', private: true, type: 'module', dependencies }, null, 2),
      );
      for (const [path, text] of Object.entries(FILES)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      await run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
    },
  );
  const bin = (name) => join(dir, 'node_modules', '.bin', name);
  await check('react: tsc --strict', () => run(dir, bin('tsc'), ['-p', 'react']));
  await check('react: vite build', () => run(dir, bin('vite'), ['build', '--config', 'react/vite.config.ts']));
  await check('vue: vue-tsc with strictTemplates', () => run(dir, bin('vue-tsc'), ['-p', 'vue']));
  await check('vue: a wrong attribute value, event detail and attribute name each fail vue-tsc', async () => {
    const out = await run(dir, bin('vue-tsc'), ['-p', 'vue/tsconfig.wrong.json']).then(
      ({ output }) => {
        throw new Error(`vue-tsc accepted vue/Wrong.vue:\n${output}`);
      },
      (error) => /** @type {Error} */ (error).message,
    );
    const expected = [`'"DELETE"'`, `'"POST" | "GET"`, `'nope'`, `'requiresRole'`];
    const missing = expected.filter((text) => !out.includes(text));
    if (missing.length) throw new Error(`vue-tsc failed Wrong.vue, but did not name ${missing.join(', ')}:\n${out}`);
  });
  await check('vue: vite build', () => run(dir, bin('vite'), ['build', '--config', 'vue/vite.config.ts']));
  await check('svelte: svelte-check', () =>
    run(join(dir, 'svelte'), bin('svelte-check'), ['--tsconfig', './tsconfig.json', '--fail-on-warnings']),
  );
  await check('svelte: vite build', () => run(dir, bin('vite'), ['build', '--config', 'svelte/vite.config.ts']));
  await check('core: tsc --strict on plain TypeScript', () => run(dir, bin('tsc'), ['-p', 'core']));
} catch (error) {
  failed = true;
  console.error(`\nscratch-apps: FAILED\n${/** @type {Error} */ (error).message}`);
} finally {
  if (keep) console.log(`scratch-apps: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
const total = ((performance.now() - started) / 1000).toFixed(1);
if (failed) {
  console.error(`scratch-apps: failed after ${total} s`);
  process.exit(1);
}
console.log(`scratch-apps: ${checks.length} checks passed in ${total} s (${checks.map((c) => c.name).join('; ')})`);
