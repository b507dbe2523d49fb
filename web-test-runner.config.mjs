// Browser tests: TypeScript through esbuild, headless Debian Chromium through Playwright (a fresh
// browser context per test file, so cookies never leak between files), msw pre-bundled, and the
// reference backend mounted in the test server itself for real cookie, CORS and socket behaviour.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { mswPlugin } from './test/support/msw-plugin.mjs';
import { testBackends } from './test/support/backend.mjs';
import { bundlesPlugin } from './test/support/bundles-plugin.mjs';
import { browsers } from './test/support/browsers.mjs';
import { engineSummary } from './test/support/engine-summary.mjs';

const port = Number(process.env.WTR_PORT ?? 8321);
const backends = testBackends({ port });

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  port,
  concurrency: 2,
  // One engine at a time: the test files share the backends, whose counters some tests read exactly.
  concurrentBrowsers: 1,
  testFramework: { config: { timeout: 15000 } },
  testsFinishTimeout: 10 * 60 * 1000,
  middleware: backends.middleware,
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json' }), mswPlugin(), bundlesPlugin(), backends.plugin],
  browsers: browsers(),
  reporters: [defaultReporter(), engineSummary()],
};
