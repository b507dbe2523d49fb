// Browser tests: TypeScript through esbuild, headless Debian Chromium through Playwright (a fresh
// browser context per test file, so cookies never leak between files), msw pre-bundled, and the
// reference backend mounted in the test server itself for real cookie, CORS and socket behaviour.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { mswPlugin } from './test/support/msw-plugin.mjs';
import { testBackends } from './test/support/backend.mjs';
import { bundlesPlugin } from './test/support/bundles-plugin.mjs';
import { probeMiddleware, probePlugin } from './test/support/probe.mjs';
import { versionDefine } from './scripts/version.mjs';

const port = Number(process.env.WTR_PORT ?? 8321);
const backends = testBackends({ port });

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  port,
  concurrency: 2,
  testFramework: { config: { timeout: 15000 } },
  testsFinishTimeout: 10 * 60 * 1000,
  middleware: [probeMiddleware, ...backends.middleware],
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', define: versionDefine() }), mswPlugin(), bundlesPlugin(), backends.plugin, probePlugin],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        args: [
          '--no-sandbox',
          '--headless=new',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
      },
    }),
  ],
};
