// Many instances, proven: real Postgres and real Redis (started here, stopped by pid at the end),
// three server instances (child processes of test/support/instance.mjs) sharing one store behind a
// round-robin proxy, and Chromium tabs (Debian's /usr/bin/chromium through playwright) refreshing
// through them with auth-shell's own client. For each store:
//
// - steady refreshing from several tabs of two browsers: one rotation per refresh request, no grace
//   answer needed, 0 reuse detections, 0 lost sessions;
// - an instance killed with SIGKILL in the middle of a refresh (after the store rotated, before the
//   answer): the client's retry reaches another instance and is answered by the grace window — the
//   same successor — so the session goes on;
// - the store stopped: refreshes are answered 503 with Retry-After (never 401), the client retries,
//   and once the store is back (Redis from its append-only file, Postgres from disk) every session
//   goes on; a restart while tabs refresh loses none.
//
// Every wait is for a signal (an IPC message, a response seen by the proxy, a promise of the page),
// never for a time budget.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright';
import { CHROMIUM_ARGS } from '../support/chromium-args.mjs';
import { startPostgres, startRedis } from '../support/services.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const INSTANCE = fileURLToPath(new URL('../support/instance.mjs', import.meta.url));

/** @type {import('playwright').Browser} */
let browser;
/** @type {string} */
let coreJs;

before(async () => {
  const [bundle, launched] = await Promise.all([
    build({
      absWorkingDir: root,
      entryPoints: ['src/core/index.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    }),
    chromium.launch({ executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
  coreJs = bundle.outputFiles[0].text;
  browser = launched;
});

after(() => browser?.close());

const PAGE = `<!doctype html><meta charset="utf-8"><title>auth-shell tab</title>
<script type="module">
  import { getSession } from '/core.js';
  // Refresh retries enough to ride out a store restart (the server asks for 1 s between tries).
  const session = getSession({ api: '/api', refreshRetries: 12, retryDelay: 100 });
  window.tab = {
    ready: async () => { await session.ready; return session.state; },
    login: async (user) => { await session.login(user, user); return session.state; },
    refresh: async () => { await session.refresh(); return session.state; },
    state: () => session.state,
    sid: () => session.value.user && session.value.user.sid,
    me: async () => (await session.authFetch('/api/me')).status,
  };
</script>
`;

/**
 * A round-robin reverse proxy in front of the instances (what a load balancer does), serving the
 * tab page itself. It counts answers by path and status and emits each on `events`.
 * `pin(i)` sends the next /api/refresh to instance i; `remove(i)` / `add(i, port)` take an
 * instance out of or into the rotation (a load balancer's health check).
 */
async function startProxy() {
  /** @type {Array<number | undefined>} */
  const ports = [];
  let next = 0;
  /** @type {number | undefined} */
  let pinned;
  const events = new EventEmitter();
  /** @type {Map<string, number>} */
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    if (path === '/core.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(coreJs);
    if (path === '/favicon.ico') return void res.writeHead(404).end();
    /** @type {number} */
    let index;
    if (pinned !== undefined && path === '/api/refresh') {
      index = pinned;
      pinned = undefined;
    } else {
      const live = ports.flatMap((p, i) => (p === undefined ? [] : [i]));
      index = live[next++ % live.length];
    }
    const count = (/** @type {number} */ status) => {
      const key = `${path} ${status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      events.emit('answer', { path, status, instance: index });
    };
    const upstream = http.request(
      { host: '127.0.0.1', port: ports[index], method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        count(answer.statusCode ?? 0);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      count(502);
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    origin: `http://127.0.0.1:${port}`,
    events,
    counts,
    /** @param {string} key e.g. '/api/refresh 200' */
    count: (key) => counts.get(key) ?? 0,
    /** @param {number} i @param {number} p */
    add: (i, p) => void (ports[i] = p),
    /** @param {number} i */
    remove: (i) => void (ports[i] = undefined),
    /** @param {number} i */
    pin: (i) => void (pinned = i),
    /** Resolves with the next answer matching `match`. @param {(a: { path: string, status: number, instance: number }) => boolean} match */
    async answer(match) {
      for (;;) {
        const [a] = await once(events, 'answer');
        if (match(a)) return a;
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/**
 * Starts an instance; resolves once it listens.
 * @param {'postgres' | 'redis'} kind @param {string} url @param {string} allowedOrigin
 */
async function startInstance(kind, url, allowedOrigin) {
  const child = fork(INSTANCE, [], {
    env: { ...process.env, STORE_KIND: kind, STORE_URL: url, ALLOWED_ORIGIN: allowedOrigin },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [message] = await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => Promise.reject(new Error(`instance exited (${code}) before it listened`))),
  ]);
  return {
    child,
    port: /** @type {number} */ (message.port),
    exited,
    /** Asks the instance to hold its next successful refresh; resolves once it does. */
    async holdNextRefresh() {
      const res = await fetch(`http://127.0.0.1:${message.port}/_hold-next-refresh`, { method: 'POST' });
      assert.equal(res.status, 204);
    },
    /** @returns {Promise<Record<string, number>>} */
    stats: async () => (await fetch(`http://127.0.0.1:${message.port}/api/_stats`)).json(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** @param {Array<{ stats: () => Promise<Record<string, number>> }>} instances */
async function totals(instances) {
  /** @type {Record<string, number>} */
  const sum = {};
  for (const instance of instances) {
    for (const [name, value] of Object.entries(await instance.stats())) sum[name] = (sum[name] ?? 0) + value;
  }
  return sum;
}

/**
 * @param {'postgres' | 'redis'} kind
 * @param {() => Promise<{ url: string, down: () => Promise<void>, up: () => Promise<void>, restart: () => Promise<void>, stop: () => Promise<void> }>} startStore
 */
function multiInstance(kind, startStore) {
  describe(`three instances on ${kind}`, () => {
    /** @type {Awaited<ReturnType<typeof startStore>>} */
    let store;
    /** @type {Awaited<ReturnType<typeof startProxy>>} */
    let proxy;
    /** @type {Array<Awaited<ReturnType<typeof startInstance>>>} */
    let instances = [];
    /** Every instance that ever ran (their counters add up; a killed one's are lost with it). */
    /** @type {Array<Awaited<ReturnType<typeof startInstance>>>} */
    const live = [];
    /** @type {import('playwright').BrowserContext[]} */
    const contexts = [];
    /** Two browsers (contexts: each its own cookie jar), two tabs each. */
    /** @type {import('playwright').Page[][]} */
    const tabs = [];

    before(async () => {
      store = await startStore();
      proxy = await startProxy();
      instances = await Promise.all([0, 1, 2].map(() => startInstance(kind, store.url, proxy.origin)));
      instances.forEach((instance, i) => proxy.add(i, instance.port));
      live.push(...instances);
      for (const user of ['alice', 'bob']) {
        const context = await browser.newContext();
        contexts.push(context);
        const first = await context.newPage();
        await first.goto(proxy.origin);
        assert.equal(await first.evaluate(() => /** @type {any} */ (window).tab.ready()), 'anonymous');
        assert.equal(await first.evaluate((u) => /** @type {any} */ (window).tab.login(u), user), 'authenticated');
        // The second tab restores the session (from its sibling, or with one refresh).
        const second = await context.newPage();
        await second.goto(proxy.origin);
        assert.equal(await second.evaluate(() => /** @type {any} */ (window).tab.ready()), 'authenticated');
        tabs.push([first, second]);
      }
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => {});
      for (const instance of live) await instance.stop();
      await proxy?.close();
      await store?.stop();
    });

    /** Every tab of every browser refreshes at once; resolves their states. */
    const round = () =>
      Promise.all(tabs.flat().map((page) => page.evaluate(() => /** @type {any} */ (window).tab.refresh())));

    /** No session lost: every tab is signed in and its API call goes through. */
    async function everySessionAlive() {
      for (const page of tabs.flat()) {
        assert.equal(await page.evaluate(() => /** @type {any} */ (window).tab.state()), 'authenticated');
        assert.equal(await page.evaluate(() => /** @type {any} */ (window).tab.me()), 200);
      }
    }

    test('tabs refreshing through three instances: one rotation per refresh, 0 reuse detections, 0 lost sessions', async () => {
      const before = await totals(live);
      const unauthorized = proxy.count('/api/refresh 401'); // the first tabs' restores, before any login
      const answered = proxy.count('/api/refresh 200');
      /** @type {Set<number>} */
      const served = new Set();
      const onAnswer = (/** @type {{ path: string, instance: number }} */ a) =>
        void (a.path === '/api/refresh' && served.add(a.instance));
      proxy.events.on('answer', onAnswer);
      for (let i = 0; i < 8; i++) assert.deepEqual(await round(), Array(4).fill('authenticated'));
      const after = await totals(live);
      const refreshes = proxy.count('/api/refresh 200') - answered;
      assert.ok(refreshes >= 16, `${refreshes} refresh requests for 8 rounds of 2 browsers`);
      assert.equal(after.rotations - before.rotations, refreshes, 'every refresh request rotated once');
      assert.equal(after.graceHits - before.graceHits, 0);
      assert.equal(after.reuseDetections, 0);
      assert.equal(after.revokedFamilies, 0);
      assert.equal(proxy.count('/api/refresh 401'), unauthorized);
      proxy.events.off('answer', onAnswer);
      assert.equal(served.size, 3, 'the refreshes went through every instance');
      await everySessionAlive();
    });

    test('kill -9 of an instance in the middle of a refresh (rotated, not answered): the retry is answered by another, the session goes on', async () => {
      const before = await totals(live.filter((i) => i !== instances[0]));
      await instances[0].holdNextRefresh();
      proxy.pin(0);
      const tab = tabs[0][0];
      const refreshed = tab.evaluate(() => /** @type {any} */ (window).tab.refresh());
      await once(instances[0].child, 'message'); // { holding: true }: rotated in the store, answer held
      instances[0].child.kill('SIGKILL');
      await instances[0].exited;
      proxy.remove(0); // the load balancer's health check takes it out
      assert.equal(await refreshed, 'authenticated');
      const after = await totals(live.filter((i) => i !== instances[0]));
      assert.ok(after.graceHits - before.graceHits >= 1, 'the retry with the previous cookie got the same successor');
      assert.equal(after.reuseDetections, 0);
      assert.equal(after.revokedFamilies, 0);
      // The instance comes back; the session keeps rotating through all three.
      live.splice(live.indexOf(instances[0]), 1);
      instances[0] = await startInstance(kind, store.url, proxy.origin);
      live.push(instances[0]);
      proxy.add(0, instances[0].port);
      for (let i = 0; i < 3; i++) assert.deepEqual(await round(), Array(4).fill('authenticated'));
      await everySessionAlive();
    });

    test('the store down: 503 with Retry-After, never 401; the client retries and goes on once the store is back', async () => {
      const tab = tabs[1][0];
      const unauthorized = proxy.count('/api/refresh 401');
      await store.down();
      const unavailable = proxy.answer((a) => a.path === '/api/refresh' && a.status === 503);
      const refreshed = tab.evaluate(() => /** @type {any} */ (window).tab.refresh());
      await unavailable;
      await store.up();
      assert.equal(await refreshed, 'authenticated');
      assert.equal(proxy.count('/api/refresh 401'), unauthorized, 'no 401 while the store was down');
      const totalsNow = await totals(live);
      assert.equal(totalsNow.reuseDetections, 0);
      await everySessionAlive();
    });

    test('a store restart while tabs refresh loses no session', async (t) => {
      const before = proxy.count('/api/refresh 503');
      const unauthorized = proxy.count('/api/refresh 401');
      const [, states] = await Promise.all([store.restart(), round()]);
      assert.deepEqual(states, Array(4).fill('authenticated'));
      for (let i = 0; i < 2; i++) assert.deepEqual(await round(), Array(4).fill('authenticated'));
      const after = await totals(live);
      assert.equal(after.reuseDetections, 0);
      assert.equal(after.revokedFamilies, 0);
      assert.equal(proxy.count('/api/refresh 401'), unauthorized);
      await everySessionAlive();
      // What the restart cost, for the record: refresh answers 503 while the store was away.
      t.diagnostic(`${kind} restart: ${proxy.count('/api/refresh 503') - before} refresh answers 503 during it`);
    });
  });
}

multiInstance('postgres', () => startPostgres());
multiInstance('redis', () => startRedis());
