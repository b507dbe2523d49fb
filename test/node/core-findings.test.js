// @ts-check
// Core bugs the fuzz test (test/node/fuzz.test.js) and the soak (bench/soak.js) found, each kept as
// the smallest test that failed before its fix. The server is a stub `fetch` (no msw: msw in Node
// tees response bodies, which would hide the second test's bug behind itself).
import assert from 'node:assert/strict';
import { afterEach, before, test } from 'node:test';
import { loadCore } from '../../bench/core-node.js';
import { installLocks } from '../../bench/web-locks.js';

const API = 'http://findings.test/api';
/** @typedef {import('../../src/core/index.js').Session} Session */

/** @type {import('../../bench/core-node.js').Core} */
let core;
before(async () => {
  core = await loadCore();
});

const realFetch = globalThis.fetch;
/** @type {Session[]} */
const sessions = [];
afterEach(() => {
  globalThis.fetch = realFetch;
  for (const s of sessions.splice(0)) s.dispose();
});

/** @param {unknown} value @returns {string} */
const show = (value) =>
  Array.isArray(value)
    ? `[${value.map(show).join(', ')}]`
    : typeof value === 'symbol'
      ? value.toString()
      : String(value);
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sharedNow = () => performance.timeOrigin + performance.now();
let minted = 0;
const b64 = (/** @type {unknown} */ value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = () => `${b64({ alg: 'none' })}.${b64({ sub: '1', name: 'Alice', n: ++minted })}.sig${minted}`;
const tokenAnswer = () => Response.json({ access_token: jwt(), expires_in: 60 });

/**
 * Serves `routes` (by the last path segment: login, refresh, logout, data) from a stub fetch and
 * counts the requests of each. A route that is not given answers like a working server.
 * @param {Partial<Record<'login' | 'refresh' | 'logout' | 'data', (n: number) => Response | Promise<Response>>>} routes
 */
function serve(routes) {
  /** @type {Record<string, number>} */
  const counts = { login: 0, refresh: 0, logout: 0, data: 0 };
  /** @type {Record<string, (n: number) => Response | Promise<Response>>} */
  const defaults = {
    login: tokenAnswer,
    refresh: tokenAnswer,
    logout: () => new Response(null, { status: 204 }),
    data: () => Response.json({ ok: true }),
  };
  globalThis.fetch = async (input, init) => {
    const url = new URL(new Request(input, init).url);
    if (!/^https?:$/.test(url.protocol)) throw new TypeError('fetch failed: unknown scheme');
    const route = url.pathname.split('/').pop() ?? '';
    counts[route] = (counts[route] ?? 0) + 1;
    return (routes[/** @type {keyof typeof routes} */ (route)] ?? defaults[route])(counts[route]);
  };
  return counts;
}

/** @param {Partial<import('../../src/core/index.js').SessionOptions>} [options] */
function session(options = {}) {
  const s = core.createSession({ api: API, retryDelay: 1, ...options });
  sessions.push(s);
  return s;
}

test('a refresh that fails after holding the cross-tab lock longer than lockTimeout is not sent again, unlocked', async () => {
  // tab-sync.ts: the lock wait's timeout keeps running while the work runs; when it has fired, the
  // work's own failure is taken for "waited too long for the lock" and the work runs a second time.
  const uninstall = installLocks();
  try {
    const counts = serve({ refresh: () => sleep(60).then(() => new Response('busy', { status: 503 })) });
    const s = session({ refreshRetries: 0, lockTimeout: 20 });
    await s.refresh().catch(() => {});
    assert.equal(counts.refresh, 1, 'refreshRetries: 0 means one attempt');
  } finally {
    uninstall();
  }
});

test('authFetch settles on a 401 when a clone of the response is kept elsewhere (logging or tracing around fetch)', async () => {
  // fetch.ts awaits the 401's body.cancel() before the retry; a teed body (response.clone())
  // finishes cancelling only when every branch does — never, while the clone is kept unread.
  /** @type {Response[]} */
  const kept = [];
  serve({ data: (n) => (n === 1 ? new Response('expired', { status: 401 }) : Response.json({ ok: true })) });
  const server = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await server(input, init);
    kept.push(response.clone());
    return response;
  };
  const s = session();
  await s.login('alice', 'alice');
  const outcome = await Promise.race([
    s.authFetch(`${API}/data`).then((r) => r.status),
    sleep(2000).then(() => 'still pending after 2 s'),
  ]);
  assert.equal(outcome, 200);
});

test('one authFetch refreshes at most once: a token refreshed for the call and refused at once is not refreshed again', async () => {
  // session.ts #token: the stale token is refreshed, the API answers 401 to the new one, and the
  // 401 starts a second refresh in the same call (the futile-retry pause only covers tokens minted
  // for a 401).
  const counts = serve({ data: (n) => (n === 1 ? new Response('no', { status: 401 }) : Response.json({ ok: true })) });
  const clock = { t: 0 };
  const s = session({ clock: () => clock.t });
  await s.login('alice', 'alice');
  clock.t += 50_000; // expires_in 60, leeway min(30 s, 60 s / 4): stale after 45 s
  const before = counts.refresh;
  await s.authFetch(`${API}/data`);
  assert.equal(counts.refresh - before, 1);
});

test("a logout from a tab whose clock reads a little ahead (within the channel's 1 s allowance) does not make the next login fail", async () => {
  // session.ts #onTabMessage keeps the sender's `at` as it is: for up to a second every login here
  // counts as started before that logout and is rejected as superseded, though it started after.
  serve({});
  const s = session();
  const channel = new BroadcastChannel(`auth-shell:${API}`);
  try {
    channel.postMessage({ v: 1, type: 'logout', at: sharedNow() + 500 });
    await sleep(20);
    await s.login('alice', 'alice');
    assert.equal(s.state, 'authenticated');
  } finally {
    channel.close();
  }
});

test('a token requested at the very instant of a logout is adopted, as a login started at that instant succeeds', async () => {
  // login() is superseded only by a logout after its start (loggedOutAt > requestedAt), but the tab
  // message handler drops tokens requested at or before it (<=): on a tie the tab that logged in is
  // authenticated and every other tab stays logged out (the soak: logout and login in one instant).
  serve({});
  const s = session();
  const channel = new BroadcastChannel(`auth-shell:${API}`);
  try {
    const instant = sharedNow();
    channel.postMessage({ v: 1, type: 'logout', at: instant });
    channel.postMessage({
      v: 1,
      type: 'token',
      token: jwt(),
      remaining: 60_000,
      lifetime: 60_000,
      requestedAt: instant,
    });
    await sleep(20);
    assert.equal(s.state, 'authenticated');
  } finally {
    channel.close();
  }
});

test('a network failure does not end a session that refresh() restored after a failed restore', async () => {
  // session.ts: #restoreFailed stays set when refresh() authenticates the session, so the next
  // restore() (also the one `online`/`pageshow` start) refreshes again and, failing at network
  // level, ends the authenticated session.
  serve({ refresh: (n) => (n === 2 ? tokenAnswer() : Promise.reject(new TypeError('Failed to fetch'))) });
  const s = session({ refreshRetries: 0 });
  await s.restore(); // the network is down: anonymous, restore to be tried again
  await s.refresh(); // it is back: authenticated
  assert.equal(s.state, 'authenticated');
  await s.restore(); // down again (or another `online` event)
  assert.equal(s.state, 'authenticated', 'a network failure is never a logout');
});

test('every option value gives a UsageError at once or a session that works', async (t) => {
  // options.ts / origins.ts: values of the wrong type reach string and array methods (TypeError);
  // `clock` is not checked (every request then fails as "could not be reached"); timeouts are not
  // kept to what AbortSignal.timeout takes (fractions and values ≥ 2^32 throw in Node, ≥ 2^53 in
  // browsers); a `//` path throws from new URL; a non-http(s) api is accepted.
  /** @type {[string, unknown, boolean?][]} */
  const cases = [
    ['csrfHeader', 42],
    ['allowedOrigins', 42],
    ['allowedOrigins', [Symbol('x')]],
    ['loginPath', 42],
    ['refreshMethod', 42],
    ['refreshPath', '//'],
    ['api', Symbol('x')],
    ['api', 'ftp://findings.test/api'],
    ['clock', 'now'],
    ['timeout', 0.5],
    ['timeout', 2 ** 32],
    ['timeout', 1e300],
    ['lockTimeout', 1e300, true],
  ];
  for (const [name, value, locks] of cases) {
    await t.test(`${name}: ${show(value)}`, async () => {
      serve({});
      const uninstall = locks ? installLocks() : () => {};
      try {
        /** @type {Session} */
        let s;
        try {
          s = core.createSession(/** @type {any} */ ({ api: API, [name]: value }));
        } catch (error) {
          assert.ok(core.isAuthError(error, 'usage'), `threw ${show(error)}, not a UsageError`);
          return;
        }
        sessions.push(s);
        await s.refresh();
        await s.login('alice', 'alice');
        assert.equal((await s.authFetch(`${String(s.options.api)}/data`)).status, 200);
      } finally {
        uninstall();
      }
    });
  }
});
