// The standalone build (dist/standalone/), defined once: `npm run build` writes it, and the test
// server builds the same thing in memory for the test that loads it through an import map.
import { version, versionDefine } from './version.mjs';

/** esbuild options: everything bundled, Lit included, minified; the entries share Lit through a chunk. */
export const standaloneOptions = {
  entryPoints: { 'auth-shell': 'src/index.ts', 'login-form': 'src/login-form.ts', devtools: 'src/devtools.ts' },
  chunkNames: 'chunks/[name]-[hash]',
  format: /** @type {const} */ ('esm'),
  target: 'es2022',
  bundle: true,
  conditions: ['production'],
  define: versionDefine(version, false), // the production build: no bundler to choose another
  splitting: true,
  minify: true,
  legalComments: /** @type {const} */ ('eof'),
};
