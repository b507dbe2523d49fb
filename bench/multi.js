// @ts-check
/**
 * The multi-bundle and multi-tab scenarios of `npm run bench` (reported, never enforced):
 *
 * - `providersScenario`: a page with N `<auth-provider api="/api">` (in pairs, the second nested in
 *   the first) loading M separately bundled copies of auth-shell, with a refresh cookie in the jar:
 *   how many `/api/refresh` requests reach the server per load (expected: 1, the one restore).
 * - `tabsScenario`: M tabs (same-origin iframes of one page: separate realms with their own copy of
 *   the library, sharing cookies, BroadcastChannel and Web Locks, as tabs do), each on a manual
 *   clock; after a login in one tab, R rounds of "every clock +10 min, then authFetch in every tab
 *   at once": refreshes per round (expected ≤ 1), reuse detections and revoked families (expected 0),
 *   failed requests (expected 0).
 *
 * - `newTabsScenario`: with a server session in the cookie jar, M tabs opened one after another:
 *   how many refresh requests each opening costs (expected: 1 for the first tab, which restores over
 *   the network, then 0: a new tab restores from its siblings), and the time from a tab's navigation
 *   start to `authenticated` — from the siblings (median, max) beside the first tab's network restore
 *   measured in the same run.
 *
 * Each case runs in a fresh browser context (own cookie jar), closed in `finally`.
 */
import { build } from 'esbuild';
import { describe, withTimeout } from './util.js';

export const PROVIDER_CASES = [
  { n: 1, m: 1 },
  { n: 3, m: 2 },
  { n: 6, m: 3 },
];
export const TAB_CASES = [2, 5, 10];
export const ROUNDS = 20;
const ADVANCE = 10 * 60_000;
const USER = { login: 'alice', pass: 'alice' };
/** After every provider's `ready` settled: how long late requests are still counted. */
const GRACE_MS = 250;
const TIMEOUT = { page: 15_000, round: 10_000 };

const ENTRY = "export * from './src/index.ts';\nexport * from './src/login-form.ts';\n";

/**
 * `count` separately bundled copies of auth-shell + the login form, all dependencies included —
 * as test/support/bundles-plugin.mjs builds a.js / b.js. Each is its own esbuild build; a banner
 * tells them apart.
 * @param {string} root @param {number} count
 * @returns {Promise<string[]>}
 */
export async function buildCopies(root, count) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const result = await build({
        absWorkingDir: root,
        stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: `bench-copy-${i}.ts` },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        conditions: ['production'],
        banner: { js: `/* auth-shell bench copy ${i} */` },
        write: false,
        logLevel: 'silent',
      });
      return result.outputFiles[0].text;
    }),
  );
}

/**
 * @typedef {{ section: string, metric: string, value: string, target?: string, result?: string }} Row
 * @typedef {{ url: string, counts: () => Record<string, number>, stats: () => import('../demo/server/backend.js').Stats }} Server
 * @typedef {{ browser: import('playwright').Browser, server: Server, errors: string[] }} Env
 */

const check = (/** @type {boolean} */ ok) => (ok ? 'ok' : 'UNEXPECTED');

/** A fresh context and page; page errors and console warnings go to `errors`. @param {Env} env @param {string} label */
async function freshPage({ browser, errors }, label) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(`${label}: page: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'warning') errors.push(`${label}: console.warn: ${msg.text()}`);
  });
  return { context, page };
}

/** Logs in with a plain fetch from a page of the server's origin: the refresh cookie lands in the context's jar. @param {import('playwright').Page} page */
async function loginWithCookie(page) {
  const status = await page.evaluate(async (user) => {
    const res = await fetch('/api/login', {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'bench' },
      body: JSON.stringify(user),
    });
    await res.text();
    return res.status;
  }, USER);
  if (status !== 200) throw new Error(`login: HTTP ${status}`);
}

// ---- N providers × M bundles -------------------------------------------------------------------

/**
 * @param {Env} env
 * @returns {Promise<{ rows: Row[], report: unknown[] }>}
 */
export async function providersScenario(env) {
  const { server, errors } = env;
  /** @type {Row[]} */
  const rows = [];
  const report = [];
  const started = performance.now();
  for (const { n, m } of PROVIDER_CASES) {
    const label = `providers ${n}×${m}`;
    const { context, page } = await freshPage(env, label);
    try {
      await page.goto(`${server.url}blank`);
      await loginWithCookie(page);
      /** @type {number[]} */
      const statuses = [];
      page.on('response', (res) => {
        if (new URL(res.url()).pathname === '/api/refresh') statuses.push(res.status());
      });
      const before = server.counts()['/api/refresh'] ?? 0;
      const started = performance.now();
      await page.goto(`${server.url}providers?n=${n}&m=${m}`, { timeout: TIMEOUT.page });
      const settled = /** @type {{ states: string[], sameSession: boolean }} */ (
        await withTimeout(
          page.evaluate(() => /** @type {any} */ (window).settled),
          TIMEOUT.page,
        )
      );
      const readyMs = performance.now() - started;
      await page.waitForTimeout(GRACE_MS);
      const refreshes = (server.counts()['/api/refresh'] ?? 0) - before;
      const authenticated = settled.states.filter((s) => s === 'authenticated').length;
      report.push({ n, m, refreshes, statuses, states: settled.states, sameSession: settled.sameSession, readyMs });
      rows.push({
        section: 'bundles',
        metric: `${n} provider${n > 1 ? 's' : ''} × ${m} bundle${m > 1 ? 's' : ''}: refresh requests per load (server)`,
        value: `${refreshes}  (answered ${statuses.join(', ') || '-'}; ready after ${readyMs.toFixed(0)} ms)`,
        target: '1',
        result: check(refreshes === 1 && statuses.every((s) => s === 200)),
      });
      rows.push({
        section: 'bundles',
        metric: `${n} × ${m}: providers authenticated / one shared session`,
        value: `${authenticated}/${n} / ${settled.sameSession ? 'yes' : 'NO'}`,
        target: `${n}/${n} / yes`,
        result: check(authenticated === n && settled.sameSession),
      });
    } catch (err) {
      errors.push(`${label}: ${describe(err)}`);
      rows.push({ section: 'bundles', metric: `${n} × ${m}`, value: 'ERROR' });
    } finally {
      await context.close().catch(() => {});
    }
  }
  rows.push({
    section: 'bundles',
    metric: 'scenario wall (build excluded)',
    value: `${(performance.now() - started).toFixed(0)} ms`,
  });
  return { rows, report };
}

// ---- M tabs, R rounds of expiry ----------------------------------------------------------------

/**
 * @param {Env} env @param {number} bundleCount how many copies the server has (tab i loads copy i mod count)
 * @returns {Promise<{ rows: Row[], report: unknown[] }>}
 */
export async function tabsScenario(env, bundleCount) {
  const { server, errors } = env;
  /** @type {Row[]} */
  const rows = [];
  const report = [];
  const started = performance.now();
  for (const m of TAB_CASES) {
    const label = `tabs ${m}`;
    const { context, page } = await freshPage(env, label);
    try {
      await page.goto(`${server.url}blank`);
      const beforeOpen = server.stats().refreshes;
      await withTimeout(
        page.evaluate(
          ({ m, bundles }) =>
            Promise.all(
              Array.from({ length: m }, (_, i) => {
                const frame = document.createElement('iframe');
                frame.style.cssText = 'width: 200px; height: 50px';
                frame.src = `/tab?b=${i % bundles}`;
                const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
                document.body.append(frame);
                return loaded;
              }),
            ).then(() => undefined),
          { m, bundles: bundleCount },
        ),
        TIMEOUT.page,
      );
      const tabs = /** @param {string} expr */ (expr) =>
        `[...document.querySelectorAll('iframe')].map((f) => f.contentWindow.tab)${expr}`;
      await page.waitForFunction(tabs(".every((t) => t && t.state() !== 'restoring')"), undefined, {
        timeout: TIMEOUT.page,
        polling: 10,
      });
      const openRefreshes = server.stats().refreshes - beforeOpen;

      // Log in in tab 0; the others learn of it through the BroadcastChannel.
      const beforeLogin = server.stats();
      const loginStarted = performance.now();
      await withTimeout(
        page.evaluate(
          (user) => /** @type {any} */ (document.querySelector('iframe')).contentWindow.tab.login(user),
          USER.login,
        ),
        TIMEOUT.page,
      );
      await page.waitForFunction(tabs(".every((t) => t.state() === 'authenticated')"), undefined, {
        timeout: TIMEOUT.page,
        polling: 10,
      });
      const loginMs = performance.now() - loginStarted;
      const loginRefreshes = server.stats().refreshes - beforeLogin.refreshes;
      const seenBefore = await page.evaluate(tabs('.map((t) => t.seen())'));

      const start = server.stats();
      /** @type {number[]} */
      const perRound = [];
      /** @type {number[]} */
      const roundMs = [];
      /** @type {Record<string, number>} */
      const failed = {};
      for (let round = 0; round < ROUNDS; round++) {
        const before = server.stats().refreshes;
        const t0 = performance.now();
        const statuses = /** @type {string[]} */ (
          await withTimeout(
            page.evaluate((advance) => {
              const all = [...document.querySelectorAll('iframe')].map((f) => /** @type {any} */ (f.contentWindow).tab);
              for (const t of all) t.advance(advance); // every tab's token is now expired
              return Promise.all(all.map((t) => t.me()));
            }, ADVANCE),
            TIMEOUT.round,
          )
        );
        roundMs.push(performance.now() - t0);
        perRound.push(server.stats().refreshes - before);
        for (const s of statuses) if (s !== '200') failed[s] = (failed[s] ?? 0) + 1;
      }
      const end = server.stats();
      const seenAfter = /** @type {{ refreshes: number, handedOver: number }[]} */ (
        await page.evaluate(tabs('.map((t) => t.seen())'))
      );
      const clientRuns = seenAfter.reduce((a, s, i) => a + s.refreshes - seenBefore[i].refreshes, 0);

      const d = (/** @type {keyof typeof end} */ k) => (end[k] ?? 0) - (start[k] ?? 0);
      const max = Math.max(...perRound);
      const total = perRound.reduce((a, b) => a + b, 0);
      const mean = total / ROUNDS;
      const failures = Object.values(failed).reduce((a, b) => a + b, 0);
      const sortedMs = [...roundMs].sort((a, b) => a - b);
      report.push({
        tabs: m,
        rounds: ROUNDS,
        perRound,
        openRefreshes,
        loginRefreshes,
        loginMs,
        roundMs,
        reuseDetections: d('reuseDetections'),
        revokedFamilies: d('revokedFamilies'),
        rotations: d('rotations'),
        graceHits: d('graceHits'),
        failed,
        clientRefreshRuns: clientRuns,
      });
      rows.push(
        {
          section: 'tabs',
          metric: `${m} tabs, ${ROUNDS} rounds: refresh requests per round (server)`,
          value: `max ${max}, mean ${mean.toFixed(2)}  (${total} total: ${d('rotations')} rotations, ${d('graceHits')} grace hits)`,
          target: '<= 1',
          result: check(max <= 1),
        },
        {
          section: 'tabs',
          metric: `${m} tabs: reuse detections / revoked families (delta)`,
          value: `${d('reuseDetections')} / ${d('revokedFamilies')}`,
          target: '0 / 0',
          result: check(d('reuseDetections') === 0 && d('revokedFamilies') === 0),
        },
        {
          section: 'tabs',
          metric: `${m} tabs: failed authFetch (of ${m * ROUNDS})`,
          value: failures === 0 ? '0' : `${failures} ${JSON.stringify(failed)}`,
          target: '0',
          result: check(failures === 0),
        },
        {
          section: 'tabs',
          metric: `${m} tabs: round wall (median, max) / login reached all`,
          value: `${sortedMs[sortedMs.length >> 1].toFixed(0)} ms, ${sortedMs[sortedMs.length - 1].toFixed(0)} ms / ${loginMs.toFixed(0)} ms`,
        },
        {
          section: 'tabs',
          metric: `${m} tabs: refresh requests on open (no cookie) / for the login hand-over`,
          value: `${openRefreshes} / ${loginRefreshes}  (client refresh runs in the rounds: ${clientRuns})`,
          target: `<= ${m} / 0`,
          result: check(loginRefreshes === 0),
        },
      );
    } catch (err) {
      errors.push(`${label}: ${describe(err)}`);
      rows.push({ section: 'tabs', metric: `${m} tabs`, value: 'ERROR' });
    } finally {
      await context.close().catch(() => {});
    }
  }
  rows.push({ section: 'tabs', metric: 'scenario wall', value: `${(performance.now() - started).toFixed(0)} ms` });
  return { rows, report };
}

// ---- M new tabs, opened one after another ------------------------------------------------------

/**
 * @param {Env} env @param {number} bundleCount how many copies the server has (tab i loads copy i mod count)
 * @returns {Promise<{ rows: Row[], report: unknown[] }>}
 */
export async function newTabsScenario(env, bundleCount) {
  const { server, errors } = env;
  /** @type {Row[]} */
  const rows = [];
  const report = [];
  for (const m of TAB_CASES) {
    const label = `new tabs ${m}`;
    const { context, page } = await freshPage(env, label);
    try {
      await page.goto(`${server.url}blank`);
      await loginWithCookie(page);
      /** @type {number[]} */
      const refreshesOnOpen = [];
      /** @type {{ at: number, from: string }[]} */
      const opened = [];
      for (let i = 0; i < m; i++) {
        const before = server.stats().refreshes;
        await withTimeout(
          page.evaluate(
            ({ i, bundles }) => {
              const frame = document.createElement('iframe');
              frame.style.cssText = 'width: 200px; height: 50px';
              frame.src = `/tab?b=${i % bundles}`;
              const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
              document.body.append(frame);
              return loaded.then(() => undefined);
            },
            { i, bundles: bundleCount },
          ),
          TIMEOUT.page,
        );
        const seen = /** @type {{ authenticatedAt: number, restoredFrom: string }} */ (
          await (
            await page.waitForFunction(
              (i) => {
                const tab = /** @type {any} */ (document.querySelectorAll('iframe')[i]).contentWindow.tab;
                const seen = tab?.seen();
                return seen?.restoredFrom && seen.authenticatedAt !== null ? seen : false;
              },
              i,
              { timeout: TIMEOUT.page, polling: 10 },
            )
          ).jsonValue()
        );
        refreshesOnOpen.push(server.stats().refreshes - before);
        opened.push({ at: seen.authenticatedAt, from: seen.restoredFrom });
      }
      const fromTabs = opened
        .slice(1)
        .map((o) => o.at)
        .sort((a, b) => a - b);
      const network = opened[0].at;
      const median = fromTabs[fromTabs.length >> 1];
      const max = fromTabs[fromTabs.length - 1];
      report.push({ tabs: m, refreshesOnOpen, opened, network, median, max });
      rows.push(
        {
          section: 'new tabs',
          metric: `${m} tabs opened one after another: refresh requests on open (server)`,
          value: refreshesOnOpen.join(', '),
          target: '1, then 0',
          result: check(refreshesOnOpen[0] === 1 && refreshesOnOpen.slice(1).every((n) => n === 0)),
        },
        {
          section: 'new tabs',
          metric: `${m} tabs: restored from a sibling tab`,
          value: `${opened.slice(1).filter((o) => o.from === 'tab').length}/${m - 1}`,
          target: `${m - 1}/${m - 1}`,
          result: check(opened.slice(1).every((o) => o.from === 'tab')),
        },
        {
          section: 'new tabs',
          metric: `${m} tabs: navigation start → authenticated, from siblings (median, max) / over the network`,
          value: `${median.toFixed(0)} ms, ${max.toFixed(0)} ms / ${network.toFixed(0)} ms`,
        },
      );
    } catch (err) {
      errors.push(`${label}: ${describe(err)}`);
      rows.push({ section: 'new tabs', metric: `${m} tabs`, value: 'ERROR' });
    } finally {
      await context.close().catch(() => {});
    }
  }
  return { rows, report };
}

/**
 * An anonymous first visit (no cookie, nothing stored), with and without `session-hint`: the
 * refresh requests it costs and the time from navigation start to the login form.
 * @param {Env} env
 * @returns {Promise<{ rows: Row[], report: { hint: boolean, refreshes: number, loginAt: number }[] }>}
 */
export async function firstVisitScenario(env) {
  const { server, errors } = env;
  /** @type {Row[]} */
  const rows = [];
  const report = [];
  for (const hint of [false, true]) {
    const label = `first visit${hint ? ' with session-hint' : ''}`;
    const { context, page } = await freshPage(env, label);
    try {
      const before = server.stats().refreshes;
      await withTimeout(page.goto(`${server.url}visit?hint=${hint ? 1 : 0}`), TIMEOUT.page);
      const loginAt = /** @type {number} */ (
        await (
          await page.waitForFunction(() => /** @type {any} */ (window).visit?.loginAt ?? false, undefined, {
            timeout: TIMEOUT.page,
            polling: 10,
          })
        ).jsonValue()
      );
      const refreshes = server.stats().refreshes - before;
      report.push({ hint, refreshes, loginAt });
      rows.push({
        section: 'first visit',
        metric: `anonymous first visit${hint ? ', session-hint' : ''}: refresh requests / navigation start → login form`,
        value: `${refreshes} / ${loginAt.toFixed(0)} ms`,
        target: hint ? '0' : '1',
        result: check(refreshes === (hint ? 0 : 1)),
      });
    } catch (err) {
      errors.push(`${label}: ${describe(err)}`);
      rows.push({ section: 'first visit', metric: label, value: 'ERROR' });
    } finally {
      await context.close().catch(() => {});
    }
  }
  return { rows, report };
}
