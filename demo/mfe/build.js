// @ts-check
/**
 * Builds the micro-frontend demo (demo/mfe/) into demo/mfe/dist/: the host shell and three
 * micro-frontends, four independent ESM bundles. Each bundles its own copy of auth-shell from
 * ../../src — no shared chunk, no code splitting — because that is what the page demonstrates:
 * separately built copies sharing one session.
 *
 *   import { buildMfe } from './demo/mfe/build.js';
 *   await buildMfe({ minify: true });
 *
 * Called by demo/server/start.js at start-up; a test runner can call it too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { versionDefine } from '../../scripts/version.mjs';

const mfeDir = path.dirname(fileURLToPath(import.meta.url));

/** Production builds of React and Vue (no dev warnings, no devtools hooks). */
const PRODUCTION = { 'process.env.NODE_ENV': '"production"' };

/**
 * The bundles: output name (dist/<name>.js), entry, extra `define`s.
 * @type {ReadonlyArray<{ name: string, entry: string, define?: Record<string, string> }>}
 */
export const MFE_BUNDLES = Object.freeze([
  { name: 'shell', entry: 'shell.ts' },
  { name: 'lit', entry: 'lit-mfe.ts' },
  { name: 'react', entry: 'react-mfe.tsx', define: PRODUCTION },
  {
    name: 'vue',
    entry: 'vue-mfe.ts',
    // Vue's esm-bundler build expects its compile-time feature flags to be defined.
    define: {
      ...PRODUCTION,
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    },
  },
]);

/**
 * @typedef {object} MfeBuildResult
 * @property {string} outdir absolute path of the output directory
 * @property {{ name: string, file: string, bytes: number }[]} bundles one per bundle: its name, absolute path and size
 * @property {import('esbuild').Message[]} warnings esbuild's warnings (errors reject instead)
 */

/**
 * Builds every bundle of the micro-frontend demo, in parallel, into `outdir` (default
 * demo/mfe/dist/), with source maps. Rejects with esbuild's BuildFailure (its `errors`) when a
 * bundle does not build; nothing is logged, the caller reports.
 *
 * @param {{ minify?: boolean, outdir?: string }} [options]
 * @returns {Promise<MfeBuildResult>}
 */
export async function buildMfe({ minify = false, outdir = path.join(mfeDir, 'dist') } = {}) {
  const results = await Promise.all(
    MFE_BUNDLES.map(async ({ name, entry, define }) => {
      const file = path.join(outdir, `${name}.js`);
      const result = await esbuild.build({
        entryPoints: [path.join(mfeDir, entry)],
        outfile: file,
        bundle: true,
        splitting: false,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        jsx: 'automatic',
        define: { ...versionDefine(), ...define },
        minify,
        sourcemap: true,
        metafile: true,
        logLevel: 'silent',
      });
      const output = Object.entries(result.metafile?.outputs ?? {}).find(([out]) => out.endsWith(`${name}.js`));
      return { name, file, bytes: output?.[1].bytes ?? 0, warnings: result.warnings };
    }),
  );
  return {
    outdir,
    bundles: results.map(({ name, file, bytes }) => ({ name, file, bytes })),
    warnings: results.flatMap((r) => r.warnings),
  };
}
