// Separately bundled copies of auth-shell for the multi-bundle and multi-tab tests, built from the
// sources in memory and served under /__bundles__/:
//   a.js    — auth-shell + the login form, all dependencies included (a micro-frontend's own copy)
//   b.js    — the same, built again as another copy that reports version 9.9.9-test
//   ctx.js  — only the context helpers (consumeAuth, getAuth), registering nothing
// the standalone build (scripts/standalone.mjs, as `npm run build` makes it) under /__standalone__/,
// and builds the micro-frontend demo (demo/mfe/dist/) once, for the tests that load that page.
import { build } from 'esbuild';
import { buildMfe } from '../../demo/mfe/build.js';
import { standaloneOptions } from '../../scripts/standalone.mjs';
import { versionDefine } from '../../scripts/version.mjs';

const PREFIX = '/__bundles__/';
const STANDALONE = '/__standalone__/';
const ENTRY = "export * from './src/index.ts';\nexport * from './src/login-form.ts';\n";

const bundles = {
  'a.js': { source: ENTRY },
  'b.js': { source: ENTRY, version: '9.9.9-test' },
  'ctx.js': { source: "export { consumeAuth, getAuth } from './src/context/consume.ts';\n" },
};

async function bundle({ source, version }) {
  const result = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'bundle-entry.ts' },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    conditions: ['production'],
    write: false,
    logLevel: 'silent',
    define: versionDefine(version),
  });
  return result.outputFiles[0].text;
}

export function bundlesPlugin() {
  /** @type {Map<string, Promise<string>>} */
  const built = new Map();
  /** @type {Promise<Map<string, string>> | undefined} */
  let standalone;
  return {
    name: 'auth-shell-bundles',
    async serverStart() {
      await buildMfe();
    },
    async serve(context) {
      if (context.path.startsWith(STANDALONE)) {
        standalone ??= build({ ...standaloneOptions, outdir: 'standalone', write: false, logLevel: 'silent' }).then(
          (result) =>
            new Map(
              result.outputFiles.map((file) => [file.path.slice(file.path.indexOf('/standalone/') + 12), file.text]),
            ),
        );
        const body = (await standalone).get(context.path.slice(STANDALONE.length));
        return body === undefined ? undefined : { body, type: 'js' };
      }
      if (!context.path.startsWith(PREFIX)) return undefined;
      const name = context.path.slice(PREFIX.length);
      if (!(name in bundles)) return undefined;
      if (!built.has(name)) built.set(name, bundle(bundles[name]));
      return { body: await built.get(name), type: 'js' };
    },
  };
}
