// The demo backend (demo/server/backend.js): a thin app on auth-shell/server. What is its own — the
// demo APIs (/me, /admin, /mfe/:name), the option names it keeps, the test-only routes the browser
// suite drives, the Koa middleware in a real @web/dev-server, and the test runner's backends with
// their sid cookie names — on a real http server. The contract itself is tested in
// server-kit.test.js and stores.test.js, the socket endpoint in sockets.test.js.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startDevServer } from '@web/dev-server';
import { createBackend } from '../../demo/server/backend.js';
import { testBackends } from '../support/backend.mjs';

const XRW = { 'X-Requested-With': 'auth-shell' };
const JSON_CT = { 'Content-Type': 'application/json' };

/** @param {import('../../demo/server/backend.js').BackendOptions} [options] */
async function startServer(options = {}) {
  const clock = { t: Date.now() };
  const backend = createBackend({ log: () => {}, now: () => clock.t, ...options });
  const server = http.createServer(async (req, res) => {
    if (!(await backend.handle(req, res))) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('fallback');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const origin = `http://127.0.0.1:${port}`;
  return {
    backend,
    clock,
    origin,
    /** @param {string} path @param {RequestInit} [init] */
    fetch: (path, init) => fetch(origin + path, init),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await backend.close();
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startServer>>} Srv */

/** @param {Srv} srv @param {string} [user] @param {string} [base] */
async function login(srv, user = 'alice', base = '/api') {
  const res = await srv.fetch(`${base}/login`, {
    method: 'POST',
    headers: { ...JSON_CT, ...XRW },
    body: JSON.stringify({ login: user, pass: user }),
  });
  assert.equal(res.status, 200);
  const cookies = res.headers.getSetCookie();
  return {
    at: /** @type {string} */ ((await res.json()).access_token),
    rt: cookies[0].split(';')[0].slice(3),
    cookies,
  };
}

describe('the demo APIs', () => {
  /** @type {Srv} */
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('/me with a Bearer access token → 200 with the user; its claims are the demo users', async () => {
    const { at } = await login(srv, 'bob');
    const res = await srv.fetch('/api/me', { headers: { Authorization: `Bearer ${at}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { user_id: 2, role: 'user', name: 'Bob', login: 'bob' });
    const claims = decodeJwt(at);
    assert.deepEqual(
      [claims.sub, claims.user_id, claims.role, claims.name, claims.iss, claims.aud],
      ['2', 2, 'user', 'Bob', 'auth-shell-demo', 'auth-shell-demo-api'],
    );
    assert.equal(decodeProtectedHeader(at).alg, 'EdDSA', "the store's key pair, made on first start");
  });

  test('/me with only the refresh cookie, a token in the query, or no token → 401 invalid_token', async () => {
    const { at, rt } = await login(srv);
    for (const [path, headers] of [
      ['/api/me', { Cookie: `rt=${rt}` }],
      [`/api/me?access_token=${at}`, {}],
      ['/api/me', {}],
      ['/api/me', { Authorization: `Bearer ${rt}` }],
    ]) {
      const res = await srv.fetch(/** @type {string} */ (path), {
        headers: /** @type {Record<string, string>} */ (headers),
      });
      assert.equal(res.status, 401, String(path));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.deepEqual(await res.json(), { error: 'invalid_token' });
    }
  });

  test('/admin: 403 for a user, 200 for the admin, 401 without token', async () => {
    const alice = await login(srv);
    const forbidden = await srv.fetch('/api/admin', { headers: { Authorization: `Bearer ${alice.at}` } });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(await forbidden.json(), { error: 'forbidden' });
    const admin = await login(srv, 'admin');
    assert.equal(decodeJwt(admin.at).role, 'admin');
    const ok = await srv.fetch('/api/admin', { headers: { Authorization: `Bearer ${admin.at}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(await ok.json()), ['secret']);
    assert.equal((await srv.fetch('/api/admin')).status, 401);
  });

  test('/mfe/:name: the three demo lists for a Bearer token; any other name → 404', async () => {
    const { at } = await login(srv);
    for (const name of ['orders', 'profile', 'news']) {
      const res = await srv.fetch(`/api/mfe/${name}`, { headers: { Authorization: `Bearer ${at}` } });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.deepEqual(
        [body.name, body.user, body.items.length],
        [name, { user_id: 1, name: 'Alice', role: 'user' }, 3],
      );
    }
    assert.equal((await srv.fetch('/api/mfe/orders')).status, 401);
    assert.equal((await srv.fetch('/api/mfe/other', { headers: { Authorization: `Bearer ${at}` } })).status, 404);
  });

  test('routing: unknown route → 404 JSON; wrong method → 405; the test routes are off by default; paths outside base fall through', async () => {
    const unknown = await srv.fetch('/api/unknown?x=1');
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'not_found' });
    const postMe = await srv.fetch('/api/me', { method: 'POST' });
    assert.equal(postMe.status, 405);
    assert.equal(postMe.headers.get('allow'), 'GET');
    for (const [method, path] of [
      ['GET', '/api/_stats'],
      ['POST', '/api/_faults/drop-next-refresh'],
      ['POST', '/api/_faults/next-logout'],
    ]) {
      assert.equal((await srv.fetch(path, { method })).status, 404, path);
    }
    for (const path of ['/', '/apix/login', '/other/api/login'])
      assert.equal(await (await srv.fetch(path)).text(), 'fallback', path);
  });
});

describe('the demo options', () => {
  test('base, accessTtl, sendExpiresIn, users, graceMs and a shared secret map onto auth-shell/server', async () => {
    const users = [{ login: 'carol', pass: 's3cret', user_id: 7, role: 'admin', name: 'Carol' }];
    const secret = 'a custom secret that is 32 bytes';
    const srv = await startServer({ base: '/auth', accessTtl: 30, sendExpiresIn: false, users, graceMs: 0, secret });
    try {
      assert.equal(await (await srv.fetch('/api/me')).text(), 'fallback');
      const res = await srv.fetch('/auth/login', {
        method: 'POST',
        headers: { ...JSON_CT, ...XRW },
        body: '{"login":"carol","pass":"s3cret"}',
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.getSetCookie()[0], /; Path=\/auth; /);
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'token_type']);
      const claims = decodeJwt(body.access_token);
      assert.equal(/** @type {number} */ (claims.exp) - /** @type {number} */ (claims.iat), 30);
      assert.equal(claims.user_id, 7);
      assert.equal(decodeProtectedHeader(body.access_token).alg, 'HS256');
      const me = await srv.fetch('/auth/me', { headers: { Authorization: `Bearer ${body.access_token}` } });
      assert.deepEqual(await me.json(), { user_id: 7, role: 'admin', name: 'Carol', login: 'carol' });
      // graceMs 0: any replay of a rotated token is reuse.
      const rt0 = res.headers.getSetCookie()[0].split(';')[0].slice(3);
      const r1 = await srv.fetch('/auth/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt0}` } });
      assert.equal(r1.status, 200);
      srv.clock.t += 1;
      const replay = await srv.fetch('/auth/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt0}` } });
      assert.equal(replay.status, 401);
      assert.equal(srv.backend.stats.reuseDetections, 1);
      const wrong = await srv.fetch('/auth/login', {
        method: 'POST',
        headers: { ...JSON_CT, ...XRW },
        body: '{"login":"carol","pass":"s3cre"}',
      });
      assert.equal(wrong.status, 401);
    } finally {
      await srv.close();
    }
  });

  test('latency delays every response under base, and only those', async () => {
    const srv = await startServer({ latency: 150 });
    try {
      for (const path of ['/api/me', '/api/nope']) {
        const started = performance.now();
        const res = await srv.fetch(path);
        await res.arrayBuffer();
        assert.ok(performance.now() - started >= 145, `${path} answered too early`);
      }
      const started = performance.now();
      await (await srv.fetch('/outside')).text();
      assert.ok(performance.now() - started < 100, 'paths outside base are not delayed');
    } finally {
      await srv.close();
    }
  });

  test('onSessionRevoked listeners hear logout and reuse revocations, with the sid and the user', async () => {
    const srv = await startServer();
    try {
      /** @type {Array<[string, string, string]>} */
      const heard = [];
      const off = srv.backend.onSessionRevoked((sid, userId, reason) => heard.push([sid, userId, reason]));
      const bob = await login(srv, 'bob');
      await srv.fetch('/api/logout', { method: 'POST', headers: { ...XRW, Cookie: `rt=${bob.rt}` } });
      const alice = await login(srv);
      const r1 = await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${alice.rt}` } });
      const rt1 = r1.headers.getSetCookie()[0].split(';')[0].slice(3);
      await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt1}` } });
      await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${alice.rt}` } });
      off();
      const third = await login(srv);
      await srv.fetch('/api/logout', { method: 'POST', headers: { ...XRW, Cookie: `rt=${third.rt}` } });
      assert.deepEqual(heard, [
        [decodeJwt(bob.at).sid, '2', 'logout'],
        [decodeJwt(alice.at).sid, '1', 'reuse'],
      ]);
    } finally {
      await srv.close();
    }
  });

  test('loginThrottle.maxKeys bounds the memory store; option errors surface', async () => {
    assert.throws(() => createBackend({ loginThrottle: { maxKeys: 0 } }), RangeError);
    assert.throws(() => createBackend({ loginThrottle: /** @type {any} */ ({ maxFailure: 5 }) }), TypeError);
    for (const [name, value] of [
      ['maxSocketsPerUser', 0],
      ['feedInterval', -1],
      ['ticketTtl', 61],
      ['maxFamiliesPerUser', 2.5],
    ]) {
      assert.throws(() => createBackend({ [name]: value }), RangeError, `${name}: ${value}`);
    }
  });
});

describe('the test routes', () => {
  /** @type {Srv} */
  let srv;
  before(async () => {
    srv = await startServer({ testRoutes: true });
  });
  after(() => srv.close());

  test('GET /_stats returns the counters (the socket ones once a socket endpoint is attached)', async () => {
    await login(srv);
    const res = await srv.fetch('/api/_stats');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      logins: 1,
      refreshes: 0,
      rotations: 0,
      graceHits: 0,
      reuseDetections: 0,
      revokedFamilies: 0,
      logouts: 0,
      ambiguousCookies: 0,
    });
  });

  test("drop-next-refresh: the next N refreshes of the caller's session rotate, then the connection drops; the retry is grace", async () => {
    const { rt } = await login(srv);
    const before = srv.backend.stats;
    assert.equal(
      (await srv.fetch('/api/_faults/drop-next-refresh', { method: 'POST' })).status,
      404,
      'no session: 404',
    );
    const set = await srv.fetch('/api/_faults/drop-next-refresh?times=2', {
      method: 'POST',
      headers: { Cookie: `rt=${rt}` },
    });
    assert.equal(set.status, 204);
    const refresh = () => srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt}` } });
    await assert.rejects(refresh(), TypeError);
    await assert.rejects(refresh(), TypeError);
    const ok = await refresh();
    assert.equal(ok.status, 200);
    const after = srv.backend.stats;
    assert.deepEqual(
      [
        after.rotations - before.rotations,
        after.graceHits - before.graceHits,
        after.reuseDetections - before.reuseDetections,
      ],
      [1, 2, 0],
    );
  });

  test('next-logout: ?status answers so and revokes nothing; ?delay holds it; ?drop cuts the answer off unheard', async () => {
    const { rt } = await login(srv);
    const logout = () => srv.fetch('/api/logout', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt}` } });
    const fault = (/** @type {string} */ q) =>
      srv.fetch(`/api/_faults/next-logout?${q}`, { method: 'POST', headers: { Cookie: `rt=${rt}` } });
    assert.equal((await fault('status=403')).status, 204);
    const refused = await logout();
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), { error: 'fault' });
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.equal((await fault('drop')).status, 204);
    await assert.rejects(
      logout().then((r) => r.text()),
      TypeError,
    );
    assert.equal((await fault('delay=200')).status, 204);
    const started = performance.now();
    const held = await logout();
    assert.equal(held.status, 204);
    assert.ok(performance.now() - started >= 195, 'held');
    const refresh = await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt}` } });
    assert.equal(refresh.status, 401, 'the held logout was handled at last');
  });
});

describe('in @web/dev-server (the same middleware model as @web/test-runner)', () => {
  /** @type {Awaited<ReturnType<typeof startDevServer>>} */
  let server;
  /** @type {string} */
  let root;
  /** @type {string} */
  let origin;
  const backend = createBackend({ log: () => {} });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'auth-shell-wds-'));
    await writeFile(join(root, 'index.html'), '<p>static page</p>');
    server = await startDevServer({
      config: { rootDir: root, port: 0, hostname: '127.0.0.1', middleware: [backend.middleware] },
      readCliArgs: false,
      readFileConfig: false,
      autoExitProcess: false,
      logStartMessage: false,
    });
    const address = /** @type {import('node:net').AddressInfo} */ (server.server?.address());
    origin = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await server.stop();
    await backend.close();
    await rm(root, { recursive: true, force: true });
  });

  test('middleware: login, refresh and /me through @web/dev-server; Koa leaves the response alone', async () => {
    const res = await fetch(`${origin}/api/login`, {
      method: 'POST',
      headers: { ...JSON_CT, ...XRW, Origin: origin },
      body: '{"login":"alice","pass":"alice"}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('etag'), null, 'no etag middleware touched the response');
    const cookies = res.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    assert.match(cookies[0], /^rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800$/);
    assert.match(cookies[1], /^auth-shell-sid=[A-Za-z0-9_-]{22}; SameSite=Strict; Path=\/; Max-Age=28800$/);
    const { access_token: at } = await res.json();

    const refresh = await fetch(`${origin}/api/refresh`, {
      method: 'POST',
      headers: { ...XRW, Origin: origin, Cookie: cookies[0].split(';')[0] },
    });
    assert.equal(refresh.status, 200);
    assert.notEqual(refresh.headers.getSetCookie()[0], cookies[0]);

    const me = await fetch(`${origin}/api/me`, { headers: { Authorization: `Bearer ${at}` } });
    assert.deepEqual(await me.json(), { user_id: 1, role: 'user', name: 'Alice', login: 'alice' });

    const out = await fetch(`${origin}/api/logout`, { method: 'POST', headers: XRW });
    assert.equal(out.status, 204);
    const missing = await fetch(`${origin}/api/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'not_found' });
    assert.equal(backend.stats.logins, 1);
    assert.equal(backend.stats.rotations, 1);
  });

  test('middleware: other paths fall through to the dev server', async () => {
    const page = await fetch(`${origin}/index.html`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<p>static page</p>');
    const apiLike = await fetch(`${origin}/apix`);
    assert.equal(apiLike.status, 404);
    assert.notEqual(apiLike.headers.get('content-type'), 'application/json');
  });
});

describe("the test runner's backends", () => {
  test('each base has its own sid cookie name (they share the origin); /seed-api sets none', async () => {
    const { middleware } = testBackends({ port: 8000 });
    const server = http.createServer(async (req, res) => {
      for (const m of middleware) {
        /** @type {any} */
        const ctx = { req, res, respond: true };
        let next = false;
        await m(ctx, async () => void (next = true));
        if (!next) return;
      }
      res.writeHead(404).end();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    try {
      /** @type {Record<string, string | null>} */
      const names = {};
      for (const base of ['/api', '/seed-api', '/fault-api', '/tabs-api', '/newtab-api', '/throttle-api']) {
        const res = await fetch(`http://127.0.0.1:${port}${base}/login`, {
          method: 'POST',
          headers: { ...JSON_CT, ...XRW },
          body: '{"login":"alice","pass":"alice"}',
        });
        assert.equal(res.status, 200, base);
        const cookies = res.headers.getSetCookie();
        assert.match(cookies[0], new RegExp(`^rt=.*; Path=${base}; `));
        names[base] = cookies[1]?.split('=')[0] ?? null;
        if (cookies[1]) assert.match(cookies[1], /; SameSite=Strict; Path=\/; Max-Age=28800$/);
        assert.equal(cookies.length, cookies[1] ? 2 : 1);
      }
      assert.deepEqual(names, {
        '/api': 'auth-shell-sid',
        '/seed-api': null,
        '/fault-api': 'fault-api-sid',
        '/tabs-api': 'tabs-api-sid',
        '/newtab-api': 'newtab-api-sid',
        '/throttle-api': 'throttle-api-sid',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    }
  });
});
