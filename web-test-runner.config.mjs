// Browser tests: TypeScript through esbuild, in Debian's Chromium, Firefox ESR and WebKitGTK (see
// test/support/browsers.mjs; BROWSERS=chromium,firefox picks engines), msw pre-bundled, and the
// reference backend mounted in the test server itself for real cookie, CORS and socket behaviour.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { mswPlugin } from './test/support/msw-plugin.mjs';
import { selfImportPlugin } from './test/support/self-import-plugin.mjs';
import { testBackends } from './test/support/backend.mjs';
import { bundlesPlugin } from './test/support/bundles-plugin.mjs';
import { frameworksPlugin } from './test/support/frameworks-plugin.mjs';
import { probeMiddleware, probePlugin } from './test/support/probe.mjs';
import { versionDefine } from './scripts/version.mjs';
import { browsers } from './test/support/browsers.mjs';
import { engineSummary } from './test/support/engine-summary.mjs';

const port = Number(process.env.WTR_PORT ?? 8321);
// web-test-runner stops on SIGINT and exits 1 without its report: say why the run ended (straight
// to stderr: it buffers the console, and exits before printing what it buffered).
process.once('SIGINT', () =>
  process.stderr.write(`web-test-runner: SIGINT received (pid ${process.pid}): stopping the run\n`),
);
const backends = testBackends({ port });

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  port,
  concurrency: 2, // Chromium; Firefox and WebKit run one file at a time (browsers.mjs says why)
  // One engine at a time: the test files share the backends, whose counters some tests read exactly.
  concurrentBrowsers: 1,
  testFramework: { config: { timeout: 15000 } },
  testsFinishTimeout: 10 * 60 * 1000,
  middleware: [probeMiddleware, ...backends.middleware],
  plugins: [
    // First: its bare framework imports must be resolved before the node resolver sees them.
    frameworksPlugin(),
    selfImportPlugin(),
    esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', define: versionDefine() }),
    mswPlugin(),
    bundlesPlugin(),
    backends.plugin,
    probePlugin,
  ],
  browsers: browsers(),
  reporters: [defaultReporter(), engineSummary()],
};
