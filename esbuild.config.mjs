// `npm run build`: dist/ for bundlers (ESM, one file per module, dependencies external, .d.ts),
// dist/server/ for auth-shell/server (Node, from src/server's plain JS, .d.ts from its JSDoc), and
// dist/standalone/ for a plain <script type="module"> (minified, Lit included, shared chunk), each
// with source maps that carry their sources (a debugger or an error tracker needs nothing else);
// then the Custom Elements Manifest and the editor data made from it (scripts/custom-elements.mjs).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeTooling } from './scripts/custom-elements.mjs';
import { standaloneOptions } from './scripts/standalone.mjs';
import { version, versionDefine } from './scripts/version.mjs';

const sources = (dir, ext = '.ts') =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? sources(path, ext)
      : path.endsWith(ext) && !path.endsWith('.d.ts')
        ? [path]
        : [];
  });

rmSync('dist', { recursive: true, force: true });

// Module per module: consumers' bundlers tree-shake and dedupe, and `sideEffects` stays exact.
// Twice: dist/ is the production build (messages keep their facts and an error code's link),
// dist/development/ says more (the `development` export condition; see src/core/dev.ts). Syntax
// is minified (constants folded, so the production messages' long words are gone), names are not.
for (const [outdir, dev] of [
  ['dist', false],
  ['dist/development', true],
]) {
  await build({
    entryPoints: sources('src'),
    outdir,
    outbase: 'src',
    format: 'esm',
    target: 'es2022',
    bundle: false,
    sourcemap: true,
    minifySyntax: true,
    define: versionDefine(version, dev),
    logLevel: 'warning',
  });
}

// The first-frame stylesheet, as it is.
copyFileSync('src/auth-shell.css', 'dist/auth-shell.css');

// Declarations straight from the compiler.
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

// auth-shell/server: plain JS for Node (what npm start and the tests run as it is), one file per
// module with its source map, the drivers left to the app (optional peer dependencies); its
// declarations from the JSDoc types.
await build({
  entryPoints: sources('src/server', '.js'),
  outdir: 'dist/server',
  outbase: 'src/server',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  sourcemap: true,
  logLevel: 'warning',
});
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.server-build.json'], {
  stdio: 'inherit',
});

// Standalone: everything bundled; the entries share Lit through a chunk (scripts/standalone.mjs).
await build({ ...standaloneOptions, outdir: 'dist/standalone', sourcemap: true, logLevel: 'warning' });

// custom-elements.json, vscode.html-custom-data.json, vscode.css-custom-data.json, web-types.json.
writeTooling();

console.log('built dist/, dist/standalone/, the manifest and the editor data');
