// The real frameworks in the browser tests of the adapters (test/browser/*-adapter.test.ts):
//   react, react-dom/client, react/jsx-runtime — React's CommonJS packages, bundled once by esbuild
//     into one module (one React on the page) and re-exported per specifier under /__frameworks__/,
//     and react-router on that React;
//   vue — Vue's full build (runtime + template compiler, so tests can give it templates),
//     vue/compiler-sfc (what build tools compile templates with), and vue-router on that Vue;
//   *.svelte — components compiled by svelte/compiler when a test imports them; the Svelte modules
//     they and the tests import come from one esbuild build with shared chunks (one runtime);
//   /examples/angular/dist/main.js — the Angular example, AOT-compiled and bundled by its own build
//     script (examples/angular/build.mjs) on the first request, so runs that do not load it do not wait.
// Bare imports of these names, from test files and from src/ (auth-shell/react imports react, and
// auth-shell/vue imports vue), resolve to the same modules, as they would in an app's bundle.
// Development builds: React and Vue then check more (getSnapshot caching, unresolved components)
// and warn; the tests read those warnings.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const PREFIX = '/__frameworks__/';
const require = createRequire(import.meta.url);

/** React's specifiers, each re-exported from the one bundle (its named exports read from the package). */
const REACT = ['react', 'react-dom', 'react-dom/client', 'react/jsx-runtime'];
const fileOf = (specifier) => `${specifier.replace(/\//g, '__')}.js`;
const DEV = { 'process.env.NODE_ENV': '"development"' };
/** Vue's esm-bundler builds expect their compile-time feature flags to be defined. */
const VUE_FLAGS = {
  ...DEV,
  __VUE_OPTIONS_API__: 'true',
  __VUE_PROD_DEVTOOLS__: 'false',
  __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
};

const sources = {
  'react-all.js': {
    contents: REACT.map((specifier, i) => `export * as m${i} from '${specifier}';`).join('\n'),
    define: DEV,
  },
  ...Object.fromEntries(
    REACT.map((specifier, i) => {
      const names = Object.keys(require(specifier)).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
      const shim = `import { m${i} as m } from './react-all.js';\nexport const { ${names.join(', ')} } = m;\nexport default m;\n`;
      return [fileOf(specifier), { shim }];
    }),
  ),
  'vue.js': { contents: "export * from 'vue/dist/vue.esm-bundler.js';", define: VUE_FLAGS },
  // What build tools compile single-file components with (in its browser build).
  'vue__compiler-sfc.js': { contents: "export * from 'vue/compiler-sfc';", define: VUE_FLAGS },
  // React Router on the one React above (its `react` imports are resolved to it by this plugin).
  'react-router.js': { contents: "export * from 'react-router';", define: DEV, external: ['react', 'react-dom'] },
  // Vue Router on the one Vue above (its `vue` import is resolved to it by this plugin).
  'vue-router.js': { contents: "export * from 'vue-router';", define: VUE_FLAGS, external: ['vue'] },
};

/** Svelte's modules that tests and compiled components import: one build, shared chunks, one runtime. */
const SVELTE = [
  'svelte',
  'svelte/store',
  'svelte/internal/client',
  'svelte/internal/disclose-version',
  'svelte/internal/flags/legacy',
];

const SPECIFIERS = new Map([
  ...REACT.map((specifier) => [specifier, fileOf(specifier)]),
  ['vue', 'vue.js'],
  ['vue/compiler-sfc', fileOf('vue/compiler-sfc')],
  ['vue-router', 'vue-router.js'],
  ['react-router', 'react-router.js'],
  ...SVELTE.map((specifier) => [specifier, `svelte/${fileOf(specifier)}`]),
]);

/** The Svelte build: its files by path under PREFIX. */
async function buildSvelte() {
  const result = await build({
    entryPoints: Object.fromEntries(SVELTE.map((specifier) => [fileOf(specifier).slice(0, -3), specifier])),
    outdir: 'svelte',
    bundle: true,
    splitting: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['browser', 'production'],
    write: false,
    logLevel: 'silent',
  });
  const root = `${process.cwd()}/`;
  return new Map(result.outputFiles.map((file) => [file.path.slice(root.length), file.text]));
}

async function bundle({ contents, define, external = [] }) {
  const result = await build({
    stdin: { contents, resolveDir: process.cwd(), loader: 'js', sourcefile: 'frameworks-entry.js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    define,
    external,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/**
 * The dev-server plugin: resolves the frameworks' bare imports to the builds above, serves them,
 * compiles `.svelte` files on request and builds the Angular example on its first request.
 * @returns {import('@web/dev-server-core').Plugin}
 */
export function frameworksPlugin() {
  /** @type {Map<string, Promise<string>>} */
  const built = new Map();
  /** @type {Promise<Map<string, string>> | undefined} */
  let svelte;
  /** @type {Promise<{ file: string }> | undefined} */
  let angular;
  return {
    name: 'auth-shell-frameworks',
    resolveImport({ source }) {
      const file = SPECIFIERS.get(source);
      return file ? PREFIX + file : undefined;
    },
    resolveMimeType(context) {
      return context.path.endsWith('.svelte') ? 'js' : undefined;
    },
    async serve(context) {
      if (context.path === '/examples/angular/dist/main.js') {
        // Imported here: runs that never load the example do not load Angular's compiler either.
        angular ??= import('../../examples/angular/build.mjs').then((m) => m.buildAngularExample());
        return { body: await readFile((await angular).file, 'utf8'), type: 'js' };
      }
      if (context.path.endsWith('.svelte')) {
        const filename = context.path.slice(1);
        const { compile } = await import('svelte/compiler');
        const { js } = compile(await readFile(filename, 'utf8'), { filename, generate: 'client' });
        // TypeScript sources are imported as .js (as in the .ts files, which the esbuild plugin maps).
        const body = js.code.replace(/(from\s+['"]\.{1,2}\/[^'"]+)\.js(['"])/g, (whole, path, quote) =>
          existsSync(join(dirname(filename), `${path.replace(/^from\s+['"]/, '')}.ts`)) ? `${path}.ts${quote}` : whole,
        );
        return { body, type: 'js' };
      }
      if (!context.path.startsWith(PREFIX)) return undefined;
      const name = context.path.slice(PREFIX.length);
      if (name.startsWith('svelte/')) {
        svelte ??= buildSvelte();
        const body = (await svelte).get(name);
        return body === undefined ? undefined : { body, type: 'js' };
      }
      const source = sources[name];
      if (!source) return undefined;
      if (source.shim) return { body: source.shim, type: 'js' };
      if (!built.has(name)) built.set(name, bundle(source));
      return { body: await built.get(name), type: 'js' };
    },
  };
}
