// The three engines the browser tests run in, all from Debian packages:
//   chromium — /usr/bin/chromium through Playwright (a fresh browser context per test file);
//   firefox  — /usr/bin/firefox-esr through puppeteer-core over WebDriver BiDi (no driver binary);
//   webkit   — WebKitGTK's MiniBrowser through WebKitWebDriver on an Xvfb display, both started here.
// BROWSERS=chromium,firefox picks some of them (default: all three).
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome';
import { playwrightLauncher } from '@web/test-runner-playwright';
import { WebdriverLauncher } from '@web/test-runner-webdriver';
import { CHROMIUM_ARGS } from './chromium-args.mjs';
import { MINIBROWSER, startWebKitDriver } from './webkit-driver.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The engines named in `value` (comma separated), in ENGINES order; all of them when empty. */
export function selectedEngines(value = process.env.BROWSERS) {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !ENGINES.includes(name));
  if (unknown.length) throw new Error(`BROWSERS: unknown engine ${unknown.join(', ')} (known: ${ENGINES.join(', ')})`);
  return names.length ? ENGINES.filter((name) => names.includes(name)) : ENGINES;
}

function chromium() {
  return playwrightLauncher({
    product: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  });
}

// The same launcher @web/test-runner-puppeteer wraps, given puppeteer-core instead of puppeteer (whose
// install step would try to download a Chrome). One test file at a time: headless Firefox opens each
// page as a tab of one window, and every tab but the front one is hidden, its timers and animation
// frames throttled to about one a second. The page is reused from one file to the next, so cookies
// and storage are NOT reset between files. (By default all pages would also share one browser
// context; each page gets its own, should files ever run side by side again.)
function firefox() {
  const launcher = chromeLauncher({
    concurrency: 1,
    puppeteer: puppeteerCore,
    launchOptions: {
      browser: 'firefox',
      executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
      headless: true,
    },
    createPage: async ({ browser }) => (await browser.createBrowserContext()).newPage(),
  });
  // Firefox can take longer than puppeteer's 5 s to quit: its shutdown waits for a service worker
  // (msw's) that still has a request open. puppeteer then kills it and deletes its temporary profile,
  // but without waiting, so the run could end first and leave ~50 MB in /tmp: wait for both here.
  const stop = launcher.stop.bind(launcher);
  launcher.stop = async () => {
    const child = launcher.browser?.process();
    await stop();
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    const profile = child.spawnargs[child.spawnargs.indexOf('--profile') + 1];
    if (profile?.startsWith(join(tmpdir(), 'puppeteer_dev_firefox_profile-')))
      await rm(profile, { recursive: true, force: true });
  };
  return launcher;
}

/**
 * WebKitGTK through @web/test-runner-webdriver. Xvfb and WebKitWebDriver are started when the runner
 * initializes the launcher and stopped when it stops it (see webkit-driver.mjs for the other exits).
 * One WebDriver session runs the test files one after the other in its top-level page (the launcher's
 * SessionManager: concurrency 1; with more it would run files in iframes of one page). Cookies and
 * storage are NOT reset between files.
 */
class WebKitLauncher extends WebdriverLauncher {
  constructor() {
    super({
      hostname: '127.0.0.1',
      port: 0, // set once the driver runs
      logLevel: 'error',
      capabilities: {
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        // Plain W3C WebDriver: WebKitWebDriver speaks no WebDriver BiDi.
        'wdio:enforceWebDriverClassic': true,
      },
    });
    this.concurrency = 1;
  }

  async initialize(config, testFiles) {
    this.driverProcess = await startWebKitDriver();
    this.options.port = this.driverProcess.port;
    await super.initialize({ ...config, concurrency: 1 }, testFiles);
    this.name = 'WebKit';
  }

  async stop() {
    try {
      await super.stop();
    } finally {
      await this.driverProcess?.stop();
    }
  }
}

const launchers = { chromium, firefox, webkit: () => new WebKitLauncher() };

/** Launchers for the selected engines. */
export function browsers(engines = selectedEngines()) {
  return engines.map((name) => launchers[name]());
}
