// Authenticated WebSockets of the demo backend (its socket hub on auth-shell/server's tokens and
// tickets): a real http server per test, the `ws` package as a browser-style client (it sends an
// Origin header). Run with `node --test test/node/`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SignJWT, UnsecuredJWT, decodeJwt, generateKeyPair, importJWK } from 'jose';
import { WebSocket, WebSocketServer } from 'ws';
import { startDevServer } from '@web/dev-server';
import { createBackend } from '../../demo/server/backend.js';
import { generateSigningKey } from '../../src/server/keys.js';

const XRW = { 'X-Requested-With': 'auth-shell' };
const ALLOWED = 'https://app.example';
const EVIL = 'https://evil.example';
/** The backends' signing key, known here so tokens can be forged with it (a wrong audience). */
const KEY = await generateSigningKey();
const OTHER_KEY = (await generateKeyPair('EdDSA')).privateKey;

/**
 * A token signed with KEY (or another key), with claims and a lifetime of the test's choosing.
 * @param {Record<string, unknown>} claims @param {{ key?: any, audience?: string }} [o]
 */
async function forge(claims, { key, audience = 'auth-shell-demo-api' } = {}) {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: /** @type {string} */ (KEY.kid) })
    .setIssuer('auth-shell-demo')
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(key ?? (await importJWK(/** @type {any} */ (KEY), 'EdDSA')));
}
const WAIT_MS = 2000;

/**
 * A backend behind a plain http server on port 0 with the socket endpoint attached. Its clock is
 * real time plus `clock.offset` ms, so a test can jump forward without freezing socket timers.
 * @param {import('../../demo/server/backend.js').BackendOptions} [options]
 */
async function startServer(options = {}) {
  const clock = { offset: 0 };
  /** @type {string[]} */
  const lines = [];
  const backend = createBackend({
    keys: [KEY],
    log: (l) => lines.push(l),
    now: () => Date.now() + clock.offset,
    allowedOrigins: [ALLOWED],
    feedInterval: 0,
    testRoutes: true,
    ...options,
  });
  const server = http.createServer(async (req, res) => {
    if (!(await backend.handle(req, res))) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('fallback');
  });
  const detach = backend.attachWebSocket(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const origin = `http://127.0.0.1:${port}`;
  /** @type {Set<WebSocket>} */
  const clients = new Set();
  return {
    backend,
    server,
    clock,
    lines,
    origin,
    clients,
    detach,
    /** @param {string} path @param {RequestInit} [init] */
    fetch: (path, init) => fetch(origin + path, init),
    async close() {
      for (const ws of clients) ws.terminate();
      detach();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await backend.close();
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startServer>>} Srv */

/** @template T @param {Promise<T>} promise @param {string} what @param {number} [ms] @returns {Promise<T>} */
function within(promise, what, ms = WAIT_MS) {
  /** @type {NodeJS.Timeout} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}

/**
 * Polls `check` until it returns a truthy value.
 * @template T @param {() => Promise<T>} check @param {string} what
 * @returns {Promise<Exclude<T, false | null | undefined | 0 | ''>>}
 */
async function eventually(check, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return /** @type {Exclude<T, false | null | undefined | 0 | ''>} */ (value);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens a client socket. `upgrade` resolves 'open' on 101 or the HTTP status of a refused upgrade.
 * `host` replaces the Host header (the URL's by default).
 * @param {Srv} srv @param {string} [query] @param {{ origin?: string | null, path?: string, host?: string }} [o]
 */
function connect(srv, query = '', { origin = srv.origin, path = '/api/ws', host } = {}) {
  const headers = { ...(origin ? { Origin: origin } : {}), ...(host ? { Host: host } : {}) };
  const ws = new WebSocket(`${srv.origin.replace('http', 'ws')}${path}${query}`, { headers });
  srv.clients.add(ws);
  /** @type {any[]} */
  const messages = [];
  /** @type {Array<{ type: string, resolve: (m: any) => void }>} */
  let waiters = [];
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const message = isBinary ? { binary: true } : JSON.parse(data.toString());
    messages.push(message);
    const ready = waiters.filter((w) => w.type === message.type);
    waiters = waiters.filter((w) => w.type !== message.type);
    for (const w of ready) w.resolve(message);
  });
  /** @type {Promise<{ code: number, reason: string }>} */
  const closed = new Promise((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  /** @type {Promise<'open' | { status: number, body: string }>} */
  const upgrade = new Promise((resolve) => {
    ws.on('open', () => resolve('open'));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
  });
  const handled = (/** @type {Promise<any>} */ p) => (p.catch(() => {}), p); // a test may never await it
  return {
    ws,
    messages,
    closed: handled(within(closed, `close of ${path}`)),
    upgrade: handled(within(upgrade, `upgrade of ${path}`)),
    /** The first message of a type (already received or the next one). @param {string} type */
    next(type) {
      const seen = messages.find((m) => m.type === type);
      if (seen) return Promise.resolve(seen);
      return within(new Promise((resolve) => waiters.push({ type, resolve })), `a ${type} message`);
    },
    /** Sends text and resolves the echo of exactly that text. @param {string} text */
    async echo(text) {
      const got = new Promise((resolve) => {
        const onMessage = (/** @type {Buffer} */ data) => {
          const m = JSON.parse(data.toString());
          if (m.type === 'echo' && m.data === text) {
            ws.off('message', onMessage);
            resolve(m);
          }
        };
        ws.on('message', onMessage);
      });
      ws.send(text);
      return within(got, `echo of ${text}`);
    },
  };
}

/** @typedef {ReturnType<typeof connect>} Client */

/** Connects and waits for hello. @param {Srv} srv @param {string} query @param {{ origin?: string | null, path?: string, host?: string }} [o] */
async function open(srv, query, o) {
  const client = connect(srv, query, o);
  assert.equal(await client.upgrade, 'open');
  await client.next('hello');
  return client;
}

/** Asserts an accepted upgrade that the server closed with `code` before any message. @param {Client} client @param {number} code @param {string} reason */
async function assertRejected(client, code, reason) {
  assert.equal(await client.upgrade, 'open', 'the upgrade is accepted so the browser sees the close code');
  assert.deepEqual(await client.closed, { code, reason });
  assert.deepEqual(client.messages, []);
}

/** @param {Srv} srv @param {{ login?: string, pass?: string }} [o] */
async function login(srv, { login = 'alice', pass = 'alice' } = {}) {
  const res = await srv.fetch('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...XRW },
    body: JSON.stringify({ login, pass }),
  });
  assert.equal(res.status, 200);
  const { access_token: at } = await res.json();
  const rt = /^rt=([^;]+);/.exec(res.headers.getSetCookie()[0])?.[1];
  assert.ok(rt);
  return { at: /** @type {string} */ (at), rt, sid: /** @type {string} */ (decodeJwt(at).sid) };
}

/** @param {Srv} srv @param {string} rt */
async function refresh(srv, rt) {
  const res = await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt}` } });
  if (res.status !== 200) return { status: res.status };
  const { access_token: at } = await res.json();
  const next = /^rt=([^;]+);/.exec(res.headers.getSetCookie()[0])?.[1];
  return { status: 200, at: /** @type {string} */ (at), rt: /** @type {string} */ (next) };
}

/** @param {Srv} srv @param {string} path @param {string} [at] @param {string} [method] */
const bearer = (srv, path, at, method = 'POST') =>
  srv.fetch(path, { method, headers: at ? { Authorization: `Bearer ${at}` } : {} });

/** @param {Srv} srv @param {string} at */
async function ticketFor(srv, at) {
  const res = await bearer(srv, '/api/ws-ticket', at);
  assert.equal(res.status, 200);
  return /** @type {{ ticket: string, expires_in: number }} */ (await res.json());
}

/** @param {Srv} srv @param {string} sid */
async function wsLog(srv, sid) {
  const res = await srv.fetch(`/api/_ws/log?sid=${encodeURIComponent(sid)}`);
  assert.equal(res.status, 200);
  return /** @type {any[]} */ (await res.json());
}

/** Records without their timestamps, after checking them. @param {any[]} records */
function stripTimes(records) {
  return records.map(({ openedAt, closedAt, ...rest }) => {
    assert.equal(typeof openedAt, 'number');
    if (closedAt !== undefined) assert.ok(closedAt >= openedAt);
    return rest;
  });
}

/** @param {Srv} srv @param {string} sid @param {number} n */
const logSettled = (srv, sid, n) =>
  eventually(async () => {
    const records = await wsLog(srv, sid);
    return records.length === n && records.every((r) => r.closedAt !== undefined) && records;
  }, `${n} closed records`);

/** @param {(srv: Srv) => Promise<void>} body @param {import('../../demo/server/backend.js').BackendOptions} [options] */
async function withServer(body, options) {
  const srv = await startServer(options);
  try {
    await body(srv);
  } finally {
    await srv.close();
  }
}

describe('handshake', () => {
  test('access tokens carry an opaque per-family sid, kept across refreshes', () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const b = await login(srv);
      assert.match(a.sid, /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(a.sid, b.sid);
      const r = await refresh(srv, a.rt);
      assert.equal(decodeJwt(/** @type {string} */ (r.at)).sid, a.sid);
      const handle = Buffer.from(/** @type {string} */ (r.rt), 'base64url')
        .subarray(0, 16)
        .toString('base64url');
      assert.notEqual(handle, a.sid, "sid is not the family's internal handle");
      assert.equal(/** @type {string} */ (r.rt).includes(a.sid), false);
    }));

  test('valid token → hello, echo of every text message, ticks every feedInterval', () =>
    withServer(
      async (srv) => {
        const { at } = await login(srv);
        const client = connect(srv, `?access_token=${at}`);
        assert.equal(await client.upgrade, 'open');
        assert.deepEqual(await client.next('hello'), { type: 'hello', user_id: 1, name: 'Alice' });
        assert.deepEqual(await client.echo('ping'), { type: 'echo', data: 'ping' });
        assert.deepEqual(await client.echo('{"not":"parsed"}'), { type: 'echo', data: '{"not":"parsed"}' });
        await eventually(async () => client.messages.filter((m) => m.type === 'tick').length >= 2, 'two ticks');
        const ticks = client.messages.filter((m) => m.type === 'tick');
        assert.deepEqual(
          ticks.slice(0, 2).map((t) => [Object.keys(t).sort(), t.n]),
          [
            [['at', 'n', 'type'], 1],
            [['at', 'n', 'type'], 2],
          ],
        );
        for (const t of ticks) assert.equal(new Date(t.at).toISOString(), t.at);
        assert.equal(client.messages[0].type, 'hello', 'hello comes first');
        client.ws.close(1000, 'bye');
        assert.deepEqual(await client.closed, { code: 1000, reason: 'bye' });
        await eventually(async () => srv.backend.stats.socketsClosed === 1, 'server-side close');
        assert.equal(srv.backend.stats.socketsOpened, 1);
      },
      { feedInterval: 40 },
    ));

  test('feedInterval 0: no ticks; a binary message → 1003', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const client = await open(srv, `?access_token=${at}`);
      await sleep(120);
      client.ws.send(Buffer.from([1, 2, 3]));
      assert.deepEqual(await client.closed, { code: 1003, reason: 'text only' });
      assert.deepEqual(
        client.messages.map((m) => m.type),
        ['hello'],
      );
    }));

  test('missing token → accepted, then closed 1008', () =>
    withServer(async (srv) => {
      await assertRejected(connect(srv), 1008, 'missing token');
      await assertRejected(connect(srv, '?access_token=&x=1'), 1008, 'missing token');
      await assertRejected(connect(srv, '?ticket='), 1008, 'missing token');
    }));

  test('garbage, alg:none, expired, wrong-key, wrong-aud and unknown-user tokens → 4001', () =>
    withServer(async (srv) => {
      const { sid } = await login(srv);
      const claims = { sub: '1', user_id: 1, sid };
      const bad = {
        garbage: 'not-a-jwt',
        none: new UnsecuredJWT(claims)
          .setIssuer('auth-shell-demo')
          .setAudience('auth-shell-demo-api')
          .setIssuedAt()
          .setExpirationTime('1m')
          .encode(),
        expired: await srv.backend.signAccessToken(claims, { ttl: -60 }),
        wrongKey: await forge(claims, { key: OTHER_KEY }),
        wrongAud: await forge(claims, { audience: 'someone-else' }),
        unknownUser: await srv.backend.signAccessToken({ ...claims, sub: '99' }),
      };
      for (const [name, token] of Object.entries(bad)) {
        const client = connect(srv, `?access_token=${encodeURIComponent(token)}`);
        assert.equal(await client.upgrade, 'open', name);
        assert.deepEqual(await client.closed, { code: 4001, reason: 'invalid token' }, name);
        assert.deepEqual(client.messages, [], name);
      }
    }));

  test('foreign or missing Origin → 403 at the upgrade, no socket', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      for (const origin of [EVIL, null, srv.origin.replace('127.0.0.1', 'localhost')]) {
        const client = connect(srv, `?access_token=${at}`, { origin });
        assert.deepEqual(await client.upgrade, { status: 403, body: '{"error":"origin_not_allowed"}' }, String(origin));
      }
      assert.equal(srv.backend.stats.socketsOpened, 0);
      assert.deepEqual(
        srv.lines.filter((l) => l.startsWith('WS ')),
        Array(3).fill('WS /api/ws?[redacted] 403 origin_not_allowed'),
      );
    }));

  test('a foreign Host (DNS rebinding) → 421 at the upgrade, before the Origin check, no socket', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const port = new URL(srv.origin).port;
      const rebound = `rebind.evil.example:${port}`;
      // The attacker's page is same-origin with its own name, so its Origin matches the Host.
      for (const origin of [`http://${rebound}`, ALLOWED]) {
        const client = connect(srv, `?access_token=${at}`, { host: rebound, origin });
        assert.deepEqual(await client.upgrade, { status: 421, body: '{"error":"host_not_allowed"}' }, origin);
      }
      assert.equal(srv.backend.stats.socketsOpened, 0);
      assert.deepEqual(
        srv.lines.filter((l) => l.startsWith('WS ')),
        Array(2).fill('WS /api/ws?[redacted] 421 host_not_allowed'),
      );
      // The loopback names stay usable, with their own origin.
      const local = await open(srv, `?access_token=${at}`, {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`,
      });
      assert.deepEqual(await local.echo('still fine'), { type: 'echo', data: 'still fine' });
    }));

  test('an allowed foreign origin works', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const client = await open(srv, `?access_token=${at}`, { origin: ALLOWED });
      assert.deepEqual(await client.echo('hi'), { type: 'echo', data: 'hi' });
    }));

  test('token expiry closes an open socket 4001 "token expired" (timer from the backend clock)', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const exp = /** @type {number} */ (decodeJwt(at).exp);
      srv.clock.offset = exp * 1000 - 400 - Date.now(); // the token has 400 ms left
      const started = performance.now();
      const client = await open(srv, `?access_token=${at}`);
      assert.deepEqual(await client.closed, { code: 4001, reason: 'token expired' });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 300 && elapsed < 1500, `closed after ${Math.round(elapsed)} ms`);
    }));

  test('a token past exp but inside the verifier leeway is refused 4001 at the handshake', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      srv.clock.offset = /** @type {number} */ (decodeJwt(at).exp) * 1000 + 2000 - Date.now();
      assert.equal((await bearer(srv, '/api/me', at, 'GET')).status, 200, '/me still accepts it (5 s leeway)');
      await assertRejected(connect(srv, `?access_token=${at}`), 4001, 'token expired');
    }));

  test('plain HTTP on /ws → 426', () =>
    withServer(async (srv) => {
      const res = await srv.fetch('/api/ws');
      assert.equal(res.status, 426);
      assert.equal(res.headers.get('upgrade'), 'websocket');
      assert.deepEqual(await res.json(), { error: 'upgrade_required' });
    }));
});

describe('revocation', () => {
  test("logout closes that family's sockets 4001 and not another family's; the old token cannot reconnect", () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const b = await login(srv);
      const bob = await login(srv, { login: 'bob', pass: 'bob' });
      const [a1, a2, b1, bob1] = await Promise.all(
        [a.at, a.at, b.at, bob.at].map((at) => open(srv, `?access_token=${at}`)),
      );
      const out = await srv.fetch('/api/logout', { method: 'POST', headers: { ...XRW, Cookie: `rt=${a.rt}` } });
      assert.equal(out.status, 204);
      assert.deepEqual(await a1.closed, { code: 4001, reason: 'session revoked' });
      assert.deepEqual(await a2.closed, { code: 4001, reason: 'session revoked' });
      assert.deepEqual(await b1.echo('still here'), { type: 'echo', data: 'still here' });
      assert.deepEqual(await bob1.echo('me too'), { type: 'echo', data: 'me too' });
      await assertRejected(connect(srv, `?access_token=${a.at}`), 4001, 'session revoked');
    }));

  test('reuse detection closes every socket of the family', () =>
    withServer(
      async (srv) => {
        const a = await login(srv);
        const other = await login(srv);
        const r1 = await refresh(srv, a.rt);
        const r2 = await refresh(srv, /** @type {string} */ (r1.rt));
        assert.equal(r2.status, 200);
        const s0 = await open(srv, `?access_token=${a.at}`);
        const s2 = await open(srv, `?access_token=${r2.at}`);
        const keep = await open(srv, `?access_token=${other.at}`);
        assert.equal((await refresh(srv, a.rt)).status, 401, 'an old refresh token: reuse');
        assert.equal(srv.backend.stats.reuseDetections, 1);
        assert.deepEqual(await s0.closed, { code: 4001, reason: 'session revoked' });
        assert.deepEqual(await s2.closed, { code: 4001, reason: 'session revoked' });
        assert.deepEqual(await keep.echo('x'), { type: 'echo', data: 'x' });
      },
      { graceMs: 0 },
    ));

  test("logout-everywhere closes all the user's families' sockets, not other users'", () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const b = await login(srv);
      const bob = await login(srv, { login: 'bob', pass: 'bob' });
      const [a1, b1, bob1] = await Promise.all([a.at, b.at, bob.at].map((at) => open(srv, `?access_token=${at}`)));
      assert.equal((await bearer(srv, '/api/logout-everywhere')).status, 401);
      assert.equal((await bearer(srv, '/api/logout-everywhere', a.at, 'GET')).status, 405);
      const res = await bearer(srv, '/api/logout-everywhere', a.at);
      assert.equal(res.status, 204);
      assert.deepEqual(res.headers.getSetCookie(), [
        'rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0',
        'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0',
      ]);
      assert.deepEqual(await a1.closed, { code: 4001, reason: 'session revoked' });
      assert.deepEqual(await b1.closed, { code: 4001, reason: 'session revoked' });
      assert.deepEqual(await bob1.echo('ok'), { type: 'echo', data: 'ok' });
      assert.equal((await refresh(srv, b.rt)).status, 401);
      assert.equal(srv.backend.stats.revokedFamilies, 2);
      // revokeUser() goes through the same hook.
      assert.equal(await srv.backend.revokeUser(2), 1);
      assert.deepEqual(await bob1.closed, { code: 4001, reason: 'session revoked' });
    }));

  test('expire-token: that token’s sockets close 4001, /me and /ws-ticket with it → 401, a refreshed token works', () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const { ticket } = await ticketFor(srv, a.at);
      const r = await refresh(srv, a.rt);
      const byToken = await open(srv, `?access_token=${a.at}`);
      const byTicket = await open(srv, `?ticket=${ticket}`);
      const sameFamilyOtherToken = await open(srv, `?access_token=${r.at}`);
      const unusedTicket = (await ticketFor(srv, a.at)).ticket;

      assert.equal((await bearer(srv, '/api/expire-token')).status, 401);
      const res = await bearer(srv, '/api/expire-token', a.at);
      assert.equal(res.status, 204);
      assert.deepEqual(await byToken.closed, { code: 4001, reason: 'token expired' });
      assert.deepEqual(await byTicket.closed, { code: 4001, reason: 'token expired' });
      assert.deepEqual(await sameFamilyOtherToken.echo('alive'), { type: 'echo', data: 'alive' });

      const me = await bearer(srv, '/api/me', a.at, 'GET');
      assert.equal(me.status, 401);
      assert.equal(me.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.equal((await bearer(srv, '/api/admin', a.at, 'GET')).status, 401);
      assert.equal((await bearer(srv, '/api/ws-ticket', a.at)).status, 401);
      assert.equal((await bearer(srv, '/api/expire-token', a.at)).status, 401);
      await assert.rejects(srv.backend.verifyAccessToken(a.at));
      await assertRejected(connect(srv, `?access_token=${a.at}`), 4001, 'invalid token');
      await assertRejected(connect(srv, `?ticket=${unusedTicket}`), 4001, 'invalid token');

      const fresh = await refresh(srv, /** @type {string} */ (r.rt));
      assert.equal((await bearer(srv, '/api/me', fresh.at, 'GET')).status, 200);
      await open(srv, `?access_token=${fresh.at}`);
    }));
});

describe('tickets', () => {
  test('a ticket works once, bound to the user and session; reuse → 4001', () =>
    withServer(async (srv) => {
      const bob = await login(srv, { login: 'bob', pass: 'bob' });
      const res = await bearer(srv, '/api/ws-ticket', bob.at);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ['expires_in', 'ticket']);
      assert.equal(body.expires_in, 30);
      assert.match(body.ticket, /^[A-Za-z0-9_-]{43}$/);
      const client = await open(srv, `?ticket=${body.ticket}`);
      assert.deepEqual(client.messages[0], { type: 'hello', user_id: 2, name: 'Bob' });
      await assertRejected(connect(srv, `?ticket=${body.ticket}`), 4001, 'invalid ticket');
      await assertRejected(connect(srv, '?ticket=made-up'), 4001, 'invalid ticket');
      // Bound to the session: revoking the family closes it like a token socket.
      await srv.fetch('/api/logout', { method: 'POST', headers: { ...XRW, Cookie: `rt=${bob.rt}` } });
      assert.deepEqual(await client.closed, { code: 4001, reason: 'session revoked' });
      const jti = decodeJwt(bob.at).jti;
      assert.deepEqual(stripTimes(await logSettled(srv, bob.sid, 2)), [
        { jti, via: 'ticket', closeCode: 4001, closeReason: 'session revoked', closedBy: 'server' },
        { jti, via: 'ticket', closeCode: 4001, closeReason: 'invalid ticket', closedBy: 'server' },
      ]);
    }));

  test('an expired ticket → 4001; ticketTtl sets expires_in', () =>
    withServer(
      async (srv) => {
        const { at } = await login(srv);
        const { ticket, expires_in: ttl } = await ticketFor(srv, at);
        assert.equal(ttl, 5);
        srv.clock.offset += 5000;
        await assertRejected(connect(srv, `?ticket=${ticket}`), 4001, 'invalid ticket');
        const { ticket: second } = await ticketFor(srv, at);
        srv.clock.offset += 4900;
        await open(srv, `?ticket=${second}`);
      },
      { ticketTtl: 5 },
    ));

  test('ticket route: Bearer required, POST only; ticketTtl must be in (0, 60] s', () =>
    withServer(async (srv) => {
      const { rt } = await login(srv);
      const none = await bearer(srv, '/api/ws-ticket');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      const cookieOnly = await srv.fetch('/api/ws-ticket', { method: 'POST', headers: { Cookie: `rt=${rt}` } });
      assert.equal(cookieOnly.status, 401);
      assert.equal((await bearer(srv, '/api/ws-ticket', 'garbage')).status, 401);
      assert.equal((await bearer(srv, '/api/ws-ticket', (await login(srv)).at, 'GET')).status, 405);
      assert.throws(() => createBackend({ ticketTtl: 61 }), RangeError);
      assert.throws(() => createBackend({ ticketTtl: 0 }), RangeError);
      assert.throws(() => createBackend({ feedInterval: -1 }), RangeError);
    }));

  test('access_token and ticket together → 1008', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const { ticket } = await ticketFor(srv, at);
      await assertRejected(connect(srv, `?access_token=${at}&ticket=${ticket}`), 1008, 'one credential only');
    }));
});

describe('limits', () => {
  test('tickets: beyond maxTicketsPerToken outstanding → 429 too_many_tickets with Retry-After; using or outliving one frees a slot', () =>
    withServer(
      async (srv) => {
        const a = await login(srv);
        const first = await ticketFor(srv, a.at);
        srv.clock.offset += 10_000;
        const second = await ticketFor(srv, a.at);
        const refused = await bearer(srv, '/api/ws-ticket', a.at);
        assert.equal(refused.status, 429);
        assert.deepEqual(await refused.json(), { error: 'too_many_tickets' });
        assert.equal(refused.headers.get('retry-after'), '20', 'until the first ticket expires');
        assert.equal(refused.headers.get('cache-control'), 'no-store');
        // Per token: the same session's next access token has its own budget.
        const r = await refresh(srv, a.rt);
        await ticketFor(srv, /** @type {string} */ (r.at));
        // Spending a ticket frees its slot at once.
        await open(srv, `?ticket=${first.ticket}`);
        srv.clock.offset += 5000;
        const third = await ticketFor(srv, a.at);
        const again = await bearer(srv, '/api/ws-ticket', a.at);
        assert.equal(again.status, 429);
        assert.equal(again.headers.get('retry-after'), '25', 'until the second ticket expires');
        // So does expiry: the second ticket ends 30 s after its mint, the third 5 s later.
        srv.clock.offset += 25_000;
        await ticketFor(srv, a.at);
        assert.equal((await bearer(srv, '/api/ws-ticket', a.at)).status, 429, 'the third is still outstanding');
        await assertRejected(connect(srv, `?ticket=${second.ticket}`), 4001, 'invalid ticket');
        await open(srv, `?ticket=${third.ticket}`);
      },
      { maxTicketsPerToken: 2, ticketTtl: 30 },
    ));

  test('sockets: beyond maxSocketsPerUser open, the handshake closes 1013 "too many sockets"; other users and a freed slot work', () =>
    withServer(
      async (srv) => {
        const a = await login(srv);
        const b = await login(srv); // another session of the same user: still the same user
        const bob = await login(srv, { login: 'bob', pass: 'bob' });
        const s1 = await open(srv, `?access_token=${a.at}`);
        await open(srv, `?access_token=${b.at}`);
        await assertRejected(connect(srv, `?access_token=${a.at}`), 1013, 'too many sockets');
        const { ticket } = await ticketFor(srv, b.at);
        await assertRejected(connect(srv, `?ticket=${ticket}`), 1013, 'too many sockets');
        await open(srv, `?access_token=${bob.at}`);
        s1.ws.close(1000);
        await s1.closed;
        await eventually(
          async () => srv.lines.includes('WS /api/ws?[redacted] close 1000 by client'),
          'the server saw the close',
        );
        const again = await open(srv, `?access_token=${a.at}`);
        assert.deepEqual(await again.echo('back in'), { type: 'echo', data: 'back in' });
        // A socket the server closed (revocation) frees its slot too.
        await bearer(srv, '/api/expire-token', a.at);
        assert.deepEqual(await again.closed, { code: 4001, reason: 'token expired' });
        const r = await refresh(srv, a.rt);
        await open(srv, `?access_token=${r.at}`);
        assert.equal(srv.lines.filter((l) => l === 'WS /api/ws?[redacted] 101 reject 1013').length, 2);
      },
      { maxSocketsPerUser: 2 },
    ));

  test('defaults: 10 tickets per token, 20 sockets per user', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      for (let i = 0; i < 10; i++) await ticketFor(srv, at);
      assert.equal((await bearer(srv, '/api/ws-ticket', at)).status, 429);
      const { at: other } = await login(srv);
      await Promise.all(Array.from({ length: 20 }, () => open(srv, `?access_token=${other}`)));
      await assertRejected(connect(srv, `?access_token=${other}`), 1013, 'too many sockets');
    }));

  test('a family evicted by maxFamiliesPerUser closes its sockets 4001 "session revoked"', () =>
    withServer(
      async (srv) => {
        const a = await login(srv);
        const socket = await open(srv, `?access_token=${a.at}`);
        const b = await login(srv);
        assert.deepEqual(await socket.closed, { code: 4001, reason: 'session revoked' });
        await assertRejected(connect(srv, `?access_token=${a.at}`), 4001, 'session revoked');
        await open(srv, `?access_token=${b.at}`);
      },
      { maxFamiliesPerUser: 1 },
    ));
});

describe('test routes', () => {
  test('log: handshake records of one sid, oldest first, rejected ones included; never a credential', () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const other = await login(srv);
      const jti = decodeJwt(a.at).jti;
      const first = await open(srv, `?access_token=${a.at}`);
      first.ws.close(4000, 'client done');
      await first.closed;
      const expired = await srv.backend.signAccessToken({ sub: '1', sid: a.sid, jti: 'expired-jti' }, { ttl: -60 });
      await assertRejected(connect(srv, `?access_token=${expired}`), 4001, 'invalid token');
      const forged = await forge({ sub: '1', sid: a.sid }, { key: OTHER_KEY });
      await assertRejected(connect(srv, `?access_token=${forged}`), 4001, 'invalid token'); // not attributable: not logged
      await open(srv, `?access_token=${other.at}`);
      const records = await logSettled(srv, a.sid, 2);
      assert.deepEqual(stripTimes(records), [
        { jti, via: 'token', closeCode: 4000, closeReason: 'client done', closedBy: 'client' },
        { jti: 'expired-jti', via: 'token', closeCode: 4001, closeReason: 'invalid token', closedBy: 'server' },
      ]);
      assert.equal(JSON.stringify(records).includes(a.at), false);
      assert.deepEqual(stripTimes(await wsLog(srv, other.sid)), [{ jti: decodeJwt(other.at).jti, via: 'token' }]);
      assert.deepEqual(await wsLog(srv, 'unknown-sid'), []);
      assert.equal((await srv.fetch('/api/_ws/log')).status, 400);
    }));

  test('close: code 1011 with a reason, 1006 = terminate; only that sid', () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const other = await login(srv);
      const [a1, a2, o1] = await Promise.all([a.at, a.at, other.at].map((at) => open(srv, `?access_token=${at}`)));
      const res = await srv.fetch(
        `/api/_ws/close?sid=${a.sid}&code=1011&reason=${encodeURIComponent('server hiccup')}`,
        { method: 'POST' },
      );
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { closed: 2 });
      assert.deepEqual(await a1.closed, { code: 1011, reason: 'server hiccup' });
      assert.deepEqual(await a2.closed, { code: 1011, reason: 'server hiccup' });
      assert.deepEqual(await o1.echo('untouched'), { type: 'echo', data: 'untouched' });

      const a3 = await open(srv, `?access_token=${a.at}`);
      const abrupt = await srv.fetch(`/api/_ws/close?sid=${a.sid}&code=1006`, { method: 'POST' });
      assert.deepEqual(await abrupt.json(), { closed: 1 });
      assert.deepEqual(await a3.closed, { code: 1006, reason: '' });
      const records = stripTimes(await logSettled(srv, a.sid, 3));
      assert.deepEqual(
        records.map((r) => [r.closeCode, r.closedBy]),
        [
          [1011, 'server'],
          [1011, 'server'],
          [1006, 'server'],
        ],
      );

      const none = await srv.fetch(`/api/_ws/close?sid=${a.sid}&code=1000`, { method: 'POST' });
      assert.deepEqual(await none.json(), { closed: 0 });
      for (const bad of ['code=1005', 'code=999', 'code=abc', 'code=5000', '']) {
        assert.equal((await srv.fetch(`/api/_ws/close?sid=${a.sid}&${bad}`, { method: 'POST' })).status, 400, bad);
      }
      assert.equal((await srv.fetch(`/api/_ws/close?sid=${a.sid}&code=1000`)).status, 405);
    }));

  test('fault: the next N handshakes of that sid close at once; without times until DELETE', () =>
    withServer(async (srv) => {
      const a = await login(srv);
      const other = await login(srv);
      const post = (/** @type {string} */ q) => srv.fetch(`/api/_ws/fault?sid=${a.sid}&${q}`, { method: 'POST' });
      assert.equal((await post('code=1011&times=2')).status, 204);
      await open(srv, `?access_token=${other.at}`); // another sid is not affected
      await assertRejected(connect(srv, `?access_token=${a.at}`), 1011, 'injected fault');
      await assertRejected(connect(srv, `?access_token=${a.at}`), 1011, 'injected fault');
      await open(srv, `?access_token=${a.at}`);

      assert.equal((await post('code=1006')).status, 204);
      for (let i = 0; i < 3; i++) {
        const client = connect(srv, `?access_token=${a.at}`);
        assert.equal(await client.upgrade, 'open');
        assert.deepEqual(await client.closed, { code: 1006, reason: '' });
      }
      const del = await srv.fetch(`/api/_ws/fault?sid=${a.sid}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      await open(srv, `?access_token=${a.at}`);
      for (const bad of ['code=1011&times=0', 'code=1011&times=1.5', 'code=1015', 'times=1']) {
        assert.equal((await post(bad)).status, 400, bad);
      }
      const records = await eventually(async () => {
        const r = await wsLog(srv, a.sid);
        return r.length === 7 && r.slice(0, 2).every((x) => x.closedAt) && r;
      }, 'seven records');
      assert.deepEqual(
        records.map((r) => r.closeCode),
        [1011, 1011, undefined, 1006, 1006, 1006, undefined],
      );
    }));

  test('test routes exist only with testRoutes', () =>
    withServer(
      async (srv) => {
        const { sid } = await login(srv);
        for (const [method, path] of [
          ['GET', '_ws/log'],
          ['POST', '_ws/close'],
          ['POST', '_ws/fault'],
          ['DELETE', '_ws/fault'],
        ]) {
          const res = await srv.fetch(`/api/${path}?sid=${sid}&code=1000`, { method });
          assert.equal(res.status, 404, `${method} ${path}`);
        }
      },
      { testRoutes: false },
    ));
});

describe('server integration', () => {
  test('upgrades on other paths are untouched: a second WebSocketServer keeps working, unclaimed sockets are not written to', () =>
    withServer(async (srv) => {
      const other = new WebSocketServer({ noServer: true });
      other.on('connection', (ws) =>
        ws.on('message', (data) => ws.send(JSON.stringify({ type: 'other', data: data.toString() }))),
      );
      /** @type {import('node:stream').Duplex[]} */
      const unclaimed = [];
      srv.server.on('upgrade', (req, socket, head) => {
        if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req));
        else if (req.url?.startsWith('/api/ws') && req.url !== '/api/ws' && !req.url.startsWith('/api/ws?'))
          unclaimed.push(socket);
      });
      // Origin is irrelevant to other paths: even a foreign one passes through to their owner.
      const client = connect(srv, '', { path: '/other', origin: EVIL });
      assert.equal(await client.upgrade, 'open');
      client.ws.send('hi');
      assert.deepEqual(await client.next('other'), { type: 'other', data: 'hi' });

      const stray = connect(srv, '?access_token=x', { path: '/api/ws/extra' });
      await eventually(async () => unclaimed.length === 1, 'the unclaimed upgrade');
      await sleep(50);
      assert.equal(unclaimed[0].destroyed, false);
      assert.equal(/** @type {import('node:net').Socket} */ (unclaimed[0]).bytesWritten, 0);
      unclaimed[0].destroy();
      stray.ws.terminate();
      assert.deepEqual(
        srv.lines.filter((l) => l.startsWith('WS ')),
        [],
      );
      other.close();
    }));

  test("@web/dev-server: attached to devServer.server, /api/ws works and the dev server's /wds socket still does", async () => {
    const backend = createBackend({ log: () => {}, feedInterval: 0 });
    const dev = await startDevServer({
      config: { rootDir: process.cwd(), port: 0, hostname: '127.0.0.1', middleware: [backend.middleware] },
      readCliArgs: false,
      readFileConfig: false,
      autoExitProcess: false,
      logStartMessage: false,
    });
    const detach = backend.attachWebSocket(/** @type {http.Server} */ (dev.server));
    try {
      const { port } = /** @type {import('node:net').AddressInfo} */ (dev.server.address());
      const srv = /** @type {Srv} */ (
        /** @type {unknown} */ ({ origin: `http://127.0.0.1:${port}`, clients: new Set() })
      );
      const res = await fetch(`${srv.origin}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...XRW },
        body: '{"login":"alice","pass":"alice"}',
      });
      const { access_token: at } = await res.json();
      const api = await open(srv, `?access_token=${at}`);
      assert.deepEqual(await api.echo('via wds'), { type: 'echo', data: 'via wds' });
      const wds = connect(srv, '', { path: '/wds' });
      assert.equal(await wds.upgrade, 'open');
      for (const ws of srv.clients) ws.terminate();
    } finally {
      detach();
      await dev.stop();
    }
  });

  test('two backends with different bases share one server; the same base twice throws', () =>
    withServer(async (srv) => {
      const second = createBackend({ base: '/auth', log: () => {}, feedInterval: 0 });
      const detachSecond = second.attachWebSocket(srv.server);
      assert.throws(() => srv.backend.attachWebSocket(srv.server), /already attached at \/api\/ws/);
      const token = await second.signAccessToken({ sub: '2' });
      const onSecond = await open(srv, `?access_token=${token}`, { path: '/auth/ws' });
      assert.deepEqual(onSecond.messages[0], { type: 'hello', user_id: 2, name: 'Bob' });
      const { at } = await login(srv);
      await open(srv, `?access_token=${at}`);
      detachSecond();
      assert.deepEqual(await onSecond.closed, { code: 1001, reason: 'server shutting down' });
    }));

  test('detach() closes open sockets 1001 and stops claiming the path', () =>
    withServer(async (srv) => {
      const { at } = await login(srv);
      const client = await open(srv, `?access_token=${at}`);
      srv.detach();
      assert.deepEqual(await client.closed, { code: 1001, reason: 'server shutting down' });
      /** @type {string[]} */
      const seen = [];
      srv.server.on('upgrade', (req, socket) => {
        seen.push(/** @type {string} */ (req.url));
        socket.destroy();
      });
      const after = connect(srv, `?access_token=${at}`);
      await after.closed;
      assert.deepEqual(seen, [`/api/ws?access_token=${at}`]);
      assert.equal(srv.backend.stats.socketsOpened, 1);
      assert.equal(srv.backend.attachWebSocket(srv.server)(), undefined, 'the path can be attached again');
    }));

  test('stats: socketsOpened and socketsClosed (present once a socket endpoint is attached)', () =>
    withServer(async (srv) => {
      assert.equal('socketsOpened' in createBackend({ log: () => {} }).stats, false);
      const { at } = await login(srv);
      const c1 = await open(srv, `?access_token=${at}`);
      await assertRejected(connect(srv), 1008, 'missing token');
      await eventually(async () => srv.backend.stats.socketsClosed === 1, 'the rejected socket closed');
      assert.equal(srv.backend.stats.socketsOpened, 2);
      c1.ws.close();
      await eventually(async () => srv.backend.stats.socketsClosed === 2, 'both closed');
      const res = await srv.fetch('/api/_stats');
      const stats = await res.json();
      assert.deepEqual([stats.socketsOpened, stats.socketsClosed], [2, 2]);
    }));

  test('logs: one line per handshake and per close, query redacted, never a token, ticket or cookie', () =>
    withServer(async (srv) => {
      const { at, rt } = await login(srv);
      const c1 = await open(srv, `?access_token=${at}&x=1`);
      c1.ws.close(1000);
      await c1.closed;
      const { ticket } = await ticketFor(srv, at);
      const c2 = await open(srv, `?ticket=${ticket}`);
      await assertRejected(connect(srv, `?ticket=${ticket}`), 4001, 'invalid ticket');
      await assertRejected(connect(srv, '?access_token=garbage.token.here'), 4001, 'invalid token');
      await assertRejected(connect(srv), 1008, 'missing token');
      assert.deepEqual(await connect(srv, `?access_token=${at}`, { origin: EVIL }).upgrade, {
        status: 403,
        body: '{"error":"origin_not_allowed"}',
      });
      c2.ws.close(1000);
      await c2.closed;
      await eventually(async () => srv.backend.stats.socketsClosed === 5, 'all closes');
      const wsLines = srv.lines.filter((l) => l.startsWith('WS '));
      assert.deepEqual(wsLines.slice().sort(), [
        'WS /api/ws 101 reject 1008',
        'WS /api/ws close 1008 by server',
        'WS /api/ws?[redacted] 101 open',
        'WS /api/ws?[redacted] 101 open',
        'WS /api/ws?[redacted] 101 reject 4001',
        'WS /api/ws?[redacted] 101 reject 4001',
        'WS /api/ws?[redacted] 403 origin_not_allowed',
        'WS /api/ws?[redacted] close 1000 by client',
        'WS /api/ws?[redacted] close 1000 by client',
        'WS /api/ws?[redacted] close 4001 by server',
        'WS /api/ws?[redacted] close 4001 by server',
      ]);
      const all = srv.lines.join('\n');
      for (const secret of [at, at.split('.')[1], at.split('.')[2], ticket, rt, 'garbage', 'x=1', 'Bearer', 'rt=']) {
        assert.equal(all.includes(secret), false, `log contains ${secret.slice(0, 12)}`);
      }
    }));
});
