// Serves msw pre-bundled (≈240 modules unbundled cost ≈3 s per test page) and its service worker at
// the root, so the worker's scope covers every request of the test pages.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const PREFIX = '/__msw__/';

export function mswPlugin() {
  /** @type {Promise<Map<string, string>> | undefined} */
  let files;
  const bundle = async () => {
    const result = await build({
      entryPoints: { msw: 'msw', browser: 'msw/browser' },
      bundle: true,
      splitting: true,
      format: 'esm',
      outdir: 'out',
      write: false,
      platform: 'browser',
      logLevel: 'silent',
    });
    return new Map(result.outputFiles.map((file) => [PREFIX + file.path.split('/out/')[1], file.text]));
  };
  return {
    name: 'msw-bundle',
    resolveImport({ source }) {
      if (source === 'msw') return `${PREFIX}msw.js`;
      if (source === 'msw/browser') return `${PREFIX}browser.js`;
      return undefined;
    },
    async serve(context) {
      if (context.path === '/mockServiceWorker.js') {
        return { body: await readFile(new URL('./mockServiceWorker.js', import.meta.url), 'utf8'), type: 'js' };
      }
      if (!context.path.startsWith(PREFIX)) return undefined;
      files ??= bundle();
      const body = (await files).get(context.path);
      return body === undefined ? undefined : { body, type: 'js' };
    },
  };
}
