// @ts-check
/**
 * Builds the Angular example (examples/angular/) into examples/angular/dist/main.js, the way an
 * Angular build does it, without the Angular CLI:
 *   1. ngc (Angular's ahead-of-time compiler) compiles the component and its template, checking
 *      the template strictly — CUSTOM_ELEMENTS_SCHEMA is what lets it accept auth-shell's tags;
 *   2. esbuild bundles the result, Angular's own packages passed through Angular's linker (its
 *      packages ship partially compiled; the linker finishes that, so no JIT compiler is shipped),
 *      and `auth-shell` taken from this repository's sources.
 *
 *   node examples/angular/build.mjs
 *
 * index.html then loads dist/main.js; it expects the auth API (the reference backend, demo/server/)
 * at /api on its origin. The browser test (test/browser/angular-example.test.ts) serves it so, and
 * builds it through its dev-server plugin.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transformAsync } from '@babel/core';
import linkerPlugin from '@angular/compiler-cli/linker/babel';
import * as esbuild from 'esbuild';
import { versionDefine } from '../../scripts/version.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '../..');

/** What `auth-shell` resolves to: the package's entries, from the sources. */
const ENTRIES = {
  'auth-shell': 'src/index.ts',
  'auth-shell/core': 'src/core/index.ts',
  'auth-shell/login-form': 'src/login-form.ts',
};

/** @type {import('esbuild').Plugin} */
const fromSources = {
  name: 'auth-shell-from-sources',
  setup(build) {
    build.onResolve({ filter: /^auth-shell(\/.*)?$/ }, ({ path: specifier }) => {
      const entry = ENTRIES[/** @type {keyof typeof ENTRIES} */ (specifier)];
      if (!entry) return { errors: [{ text: `auth-shell has no entry ${specifier}` }] };
      return { path: path.join(root, entry) };
    });
  },
};

/** @type {import('esbuild').Plugin} */
const angularLinker = {
  name: 'angular-linker',
  setup(build) {
    build.onLoad({ filter: /[\\/]@angular[\\/].*\.m?js$/ }, async ({ path: file }) => {
      const code = await readFile(file, 'utf8');
      if (!code.includes('ɵɵngDeclare')) return { contents: code, loader: 'js' };
      const linked = await transformAsync(code, {
        filename: file,
        plugins: [linkerPlugin],
        babelrc: false,
        configFile: false,
        compact: false,
        sourceMaps: false,
      });
      return { contents: linked?.code ?? code, loader: 'js' };
    });
  },
};

/**
 * Compiles and bundles the example. Rejects with ngc's diagnostics or esbuild's errors.
 * @param {{ minify?: boolean }} [options]
 * @returns {Promise<{ file: string, bytes: number }>}
 */
export async function buildAngularExample({ minify = false } = {}) {
  const ngc = path.join(root, 'node_modules/@angular/compiler-cli/bundles/src/bin/ngc.js');
  try {
    await promisify(execFile)(process.execPath, [ngc, '-p', path.join(here, 'tsconfig.json')], { cwd: root });
  } catch (error) {
    const { stdout = '', stderr = '' } = /** @type {{ stdout?: string, stderr?: string }} */ (error);
    throw new Error(`ngc failed:\n${stdout}${stderr}`);
  }
  const file = path.join(here, 'dist/main.js');
  const result = await esbuild.build({
    entryPoints: [path.join(here, 'dist/ngc/examples/angular/src/main.js')],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['production'],
    // ngDevMode false: Angular's production mode (no dev checks), as `ng build` gives.
    define: { ...versionDefine(), ngDevMode: 'false' },
    plugins: [fromSources, angularLinker],
    minify,
    metafile: true,
    logLevel: 'silent',
  });
  return { file, bytes: result.metafile.outputs[path.relative(process.cwd(), file)]?.bytes ?? 0 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { file, bytes } = await buildAngularExample({ minify: true });
  console.log(`built ${path.relative(process.cwd(), file)} (${bytes} bytes)`);
}
