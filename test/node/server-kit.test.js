// auth-shell/server's HTTP contract on a real http server (its Node adapter), Node's fetch, cookies
// handled by hand, a memory store and a clock the tests move. What every store must do besides is
// in the shared store suite (stores.test.js). Run with `node --test test/node/`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import {
  createAuthServer,
  memoryStore,
  toNodeHandler,
  hashPassword,
  checkPassword,
  needsRehash,
  UnauthorizedError,
} from '../../src/server/index.js';
import { generateSigningKey } from '../../src/server/keys.js';

const XRW = { 'X-Requested-With': 'auth-shell' };
const JSON_CT = { 'Content-Type': 'application/json' };
const ALLOWED = 'https://app.example';
const EVIL = 'https://evil.example';
const RT_COOKIE = /^rt=([A-Za-z0-9_-]{64}); HttpOnly; SameSite=Strict; Path=\/api; Max-Age=(\d+)$/;
const CLEARED = 'rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0';
const SID_CLEARED = 'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0';
const ISSUER = 'auth-shell-test';
const AUDIENCE = 'auth-shell-test-api';

const USERS = [
  { login: 'alice', pass: 'alice', user_id: 1, role: 'user', name: 'Alice' },
  { login: 'bob', pass: 'bob', user_id: 2, role: 'user', name: 'Bob' },
  { login: 'admin', pass: 'admin', user_id: 3, role: 'admin', name: 'Ada Admin' },
];

/** One signing key for the whole file, so tokens can be forged with it (wrong typ, aud, …). */
const KEY = await generateSigningKey();

/**
 * Starts an auth server behind a plain http server on port 0, with a `/me` route of its own that
 * answers the verified claims. Its clock is frozen at `clock.t` and only moves when a test moves it.
 * @param {Partial<import('../../src/server/auth-server.js').AuthServerOptions>} [options]
 */
async function startServer(options = {}) {
  const clock = { t: Date.now() };
  /** @type {string[]} */
  const lines = [];
  const auth = createAuthServer({
    store: memoryStore(),
    keys: [KEY],
    issuer: ISSUER,
    audience: AUDIENCE,
    log: (l) => lines.push(l),
    now: () => clock.t,
    allowedOrigins: [ALLOWED],
    cleanupInterval: 0,
    verifyPassword: (login, pass) => {
      const user = USERS.find((u) => u.login === login && u.pass === pass);
      return user ? { id: user.user_id, user } : null;
    },
    claims: ({ user }) => {
      const u = /** @type {(typeof USERS)[number]} */ (user);
      return { user_id: u.user_id, role: u.role, name: u.name };
    },
    routes: {
      '/me': async (request, { verify }) => {
        if (request.method !== 'GET')
          return Response.json({ error: 'method_not_allowed' }, { status: 405, headers: { Allow: 'GET' } });
        const claims = await verify(request);
        return Response.json({ sub: claims.sub, name: claims.name });
      },
    },
    ...options,
  });
  const handler = toNodeHandler(auth);
  const server = http.createServer(async (req, res) => {
    if (!(await handler(req, res))) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('fallback');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const origin = `http://127.0.0.1:${address.port}`;
  return {
    auth,
    clock,
    lines,
    origin,
    /** @param {string} path @param {RequestInit} [init] */
    fetch: (path, init) => fetch(origin + path, init),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await auth.close();
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startServer>>} Srv */

/**
 * A request with a Host header of the test's choosing (Node's fetch always sends the URL's host),
 * optionally from another local address (another client).
 * @param {Srv} srv @param {string} path
 * @param {{ method?: string, headers?: Record<string, string>, body?: string, localAddress?: string }} [o]
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, cookies: string[], body: any }>}
 */
function rawRequest(srv, path, { method = 'GET', headers = {}, body, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(srv.origin + path, { method, headers, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        const json = res.headers['content-type'] === 'application/json';
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          cookies: res.headers['set-cookie'] ?? [],
          body: json ? JSON.parse(text) : text,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in alice with a given Host header (and more headers). @param {Srv} srv @param {string} host @param {string} [base] @param {Record<string, string>} [more] */
const loginAt = (srv, host, base = '/api', more = {}) =>
  rawRequest(srv, `${base}/login`, {
    method: 'POST',
    headers: { ...JSON_CT, ...XRW, Host: host, ...more },
    body: '{"login":"alice","pass":"alice"}',
  });

/** The refresh cookie of a response's Set-Cookie (asserts there is exactly one). @param {string[]} cookies */
function refreshCookieOf(cookies) {
  const found = cookies.filter((c) => /^(__Secure-|__Host-)?rt=/.test(c));
  assert.equal(found.length, 1, `expected one refresh cookie, got ${JSON.stringify(cookies)}`);
  return found[0];
}

/** The refresh cookie of a fetch Response. @param {Response} res */
const setCookie = (res) => refreshCookieOf(res.headers.getSetCookie());

/** The sid cookie of a fetch Response, if any. @param {Response} res */
const sidCookie = (res) => res.headers.getSetCookie().find((c) => c.startsWith('auth-shell-sid='));

/** The refresh token of a response's Set-Cookie. @param {Response} res */
function rtOf(res) {
  const m = RT_COOKIE.exec(setCookie(res));
  assert.ok(m, `not a refresh cookie: ${setCookie(res)}`);
  return m[1];
}

/** @param {Srv} srv @param {{ login?: string, pass?: string, headers?: Record<string, string> }} [o] */
async function login(srv, { login = 'alice', pass = 'alice', headers = {} } = {}) {
  const res = await srv.fetch('/api/login', {
    method: 'POST',
    headers: { ...JSON_CT, ...XRW, ...headers },
    body: JSON.stringify({ login, pass }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  return { res, body, rt: rtOf(res), at: /** @type {string} */ (body.access_token) };
}

/** @param {Srv} srv @param {string | undefined} rt @param {{ method?: string, headers?: Record<string, string> }} [o] */
function refresh(srv, rt, { method = 'POST', headers = XRW } = {}) {
  return srv.fetch('/api/refresh', {
    method,
    headers: { ...(rt !== undefined ? { Cookie: `rt=${rt}` } : {}), ...headers },
  });
}

/** @param {Srv} srv @param {string | undefined} rt @param {{ method?: string, headers?: Record<string, string> }} [o] */
function logout(srv, rt, { method = 'POST', headers = XRW } = {}) {
  return srv.fetch('/api/logout', {
    method,
    headers: { ...(rt !== undefined ? { Cookie: `rt=${rt}` } : {}), ...headers },
  });
}

/** @param {Srv} srv @param {string} path @param {Record<string, string>} headers */
const get = (srv, path, headers = {}) => srv.fetch(path, { headers });

/** @param {Response} res */
function assertUnauthorizedBearer(res) {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
}

/** A JWT signed with KEY (the server's key) with parameters of the test's choosing. */
async function forge(
  /** @type {Record<string, unknown>} */ claims,
  {
    typ = 'at+jwt',
    alg = 'EdDSA',
    kid = KEY.kid,
    iss = ISSUER,
    aud = AUDIENCE,
    ttl = 60,
    now = Date.now(),
    key = undefined,
  } = {},
) {
  const iat = Math.floor(now / 1000);
  const { importJWK } = await import('jose');
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ, kid: /** @type {string} */ (kid) })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key ?? (await importJWK(/** @type {any} */ (KEY), 'EdDSA')));
}

describe('hardened server', () => {
  /** @type {Srv} */
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  test('login success: token body, claims, cookie flags, sid cookie, no-store', async () => {
    const { res, body, rt } = await login(srv);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 60);
    assert.equal(setCookie(res), `rt=${rt}; HttpOnly; SameSite=Strict; Path=/api; Max-Age=28800`);

    assert.deepEqual(decodeProtectedHeader(body.access_token), { alg: 'EdDSA', typ: 'at+jwt', kid: KEY.kid });
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.sub, '1');
    assert.equal(claims.user_id, 1);
    assert.equal(claims.role, 'user');
    assert.equal(claims.name, 'Alice');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.iat, Math.floor(srv.clock.t / 1000));
    assert.equal(/** @type {number} */ (claims.exp) - /** @type {number} */ (claims.iat), 60);
    assert.match(String(claims.jti), /^[A-Za-z0-9_-]{16,}$/);
    assert.match(String(claims.sid), /^[A-Za-z0-9_-]{22}$/);
    assert.equal(sidCookie(res), `auth-shell-sid=${claims.sid}; SameSite=Strict; Path=/; Max-Age=28800`);
    assert.deepEqual(res.headers.getSetCookie(), [setCookie(res), sidCookie(res)]);
    assert.equal(JSON.stringify(claims).includes(rt), false);
    assert.equal(String(claims.sid).includes(rt.slice(0, 22)), false, 'the sid is not the family handle');
  });

  test('every login starts a new refresh family, a new sid and a new jti', async () => {
    const a = await login(srv);
    const b = await login(srv);
    assert.notEqual(a.rt, b.rt);
    assert.notEqual(decodeJwt(a.at).jti, decodeJwt(b.at).jti);
    assert.notEqual(decodeJwt(a.at).sid, decodeJwt(b.at).sid);
    // Both families live independently: rotating one does not touch the other.
    assert.equal((await refresh(srv, a.rt)).status, 200);
    assert.equal((await refresh(srv, b.rt)).status, 200);
  });

  test('Cache-Control: no-store on refresh and logout (success and failure)', async () => {
    const { rt } = await login(srv);
    for (const res of [await refresh(srv, rt), await refresh(srv, 'unknown'), await logout(srv, undefined)]) {
      assert.equal(res.headers.get('cache-control'), 'no-store', `${res.url} ${res.status}`);
      assert.equal(res.headers.get('pragma'), 'no-cache');
    }
  });

  test('login with bad credentials → 401 and no Set-Cookie', async () => {
    for (const [user, pass] of [
      ['alice', 'wrong'],
      ['nobody', 'alice'],
      ['alice', ''],
      ['alice', 'ALICE'],
    ]) {
      const res = await srv.fetch('/api/login', {
        method: 'POST',
        headers: { ...JSON_CT, ...XRW },
        body: JSON.stringify({ login: user, pass }),
      });
      assert.equal(res.status, 401, `${user}/${pass}`);
      assert.deepEqual(await res.json(), { error: 'invalid_credentials' });
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
  });

  test('login with form-urlencoded or text/plain body → 415, no Set-Cookie', async () => {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'login=alice&pass=alice'],
      ['text/plain', '{"login":"alice","pass":"alice"}'],
      ['multipart/form-data; boundary=x', '--x--'],
    ]) {
      const res = await srv.fetch('/api/login', { method: 'POST', headers: { 'Content-Type': type, ...XRW }, body });
      assert.equal(res.status, 415, type);
      assert.deepEqual(await res.json(), { error: 'unsupported_media_type' });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
  });

  test('cross-site text/plain login (form-style CSRF) → 403, no Set-Cookie', async () => {
    const res = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: EVIL, 'Sec-Fetch-Site': 'cross-site' },
      body: '{"login":"alice","pass":"alice"}',
    });
    assert.equal(res.status, 403);
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  test('login: JSON with charset accepted; malformed bodies → 400; oversized → 413', async () => {
    const ok = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...XRW },
      body: '{"login":"bob","pass":"bob"}',
    });
    assert.equal(ok.status, 200);
    for (const body of [
      '{',
      '[]',
      'null',
      '{"login":"alice"}',
      '{"login":"alice","pass":1}',
      '{"login":["alice"],"pass":"alice"}',
    ]) {
      const res = await srv.fetch('/api/login', { method: 'POST', headers: { ...JSON_CT, ...XRW }, body });
      assert.equal(res.status, 400, body);
      assert.deepEqual(await res.json(), { error: 'invalid_request' });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    const big = JSON.stringify({ login: 'alice', pass: 'alice', pad: 'x'.repeat(11 * 1024) });
    const res = await srv.fetch('/api/login', { method: 'POST', headers: { ...JSON_CT, ...XRW }, body: big });
    assert.equal(res.status, 413);
    assert.deepEqual(res.headers.getSetCookie(), []);
    // Chunked upload without Content-Length: the limit is enforced while reading.
    const chunked = /** @type {import('node:http').IncomingMessage} */ (
      await new Promise((resolve, reject) => {
        const req = http.request(
          `${srv.origin}/api/login`,
          { method: 'POST', headers: { ...JSON_CT, ...XRW } },
          resolve,
        );
        req.on('error', reject);
        req.write(big.slice(0, 6000));
        req.end(big.slice(6000));
      })
    );
    assert.equal(chunked.statusCode, 413);
    assert.equal(chunked.headers['set-cookie'], undefined);
    chunked.resume();
  });

  test('login: GET → 405 Allow: POST; missing X-Requested-With → 403', async () => {
    const res = await srv.fetch('/api/login');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    const noHeader = await srv.fetch('/api/login', {
      method: 'POST',
      headers: JSON_CT,
      body: '{"login":"alice","pass":"alice"}',
    });
    assert.equal(noHeader.status, 403);
    assert.deepEqual(noHeader.headers.getSetCookie(), []);
  });

  test('rotation: every refresh sets a new refresh token, the same sid cookie and a new access token', async () => {
    const { rt: rt0, at: at0 } = await login(srv);
    const sid = decodeJwt(at0).sid;
    const before = { ...srv.auth.stats };
    const seen = new Set([rt0]);
    let rt = rt0;
    let at = at0;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(srv, rt);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 60);
      assert.notEqual(body.access_token, at);
      assert.equal(decodeJwt(body.access_token).sid, sid);
      assert.equal(sidCookie(res), `auth-shell-sid=${sid}; SameSite=Strict; Path=/; Max-Age=28800`);
      const next = rtOf(res);
      assert.equal(seen.has(next), false, 'refresh token reused');
      seen.add(next);
      rt = next;
      at = body.access_token;
    }
    assert.equal(srv.auth.stats.rotations - before.rotations, 3);
    assert.equal(srv.auth.stats.refreshes - before.refreshes, 3);
    assert.equal(srv.auth.stats.graceHits - before.graceHits, 0);
  });

  test('grace window: the previous refresh token within the grace period returns the same successor', async () => {
    const { rt: rt0 } = await login(srv);
    const before = { ...srv.auth.stats };
    const first = await refresh(srv, rt0);
    const rt1 = rtOf(first);
    const firstAt = (await first.json()).access_token;
    srv.clock.t += 5000; // exactly the grace period later: still inside the window
    const retry = await refresh(srv, rt0);
    assert.equal(retry.status, 200);
    assert.equal(rtOf(retry), rt1);
    assert.equal(setCookie(retry), setCookie(first).replace('Max-Age=28800', 'Max-Age=28795'));
    const retryAt = (await retry.json()).access_token;
    assert.notEqual(retryAt, firstAt, 'a fresh access token is issued');
    assert.equal(srv.auth.stats.graceHits - before.graceHits, 1);
    assert.equal(srv.auth.stats.rotations - before.rotations, 1);
    assert.equal(srv.auth.stats.reuseDetections - before.reuseDetections, 0);
    // The family is intact: the successor rotates normally.
    const next = await refresh(srv, rt1);
    assert.equal(next.status, 200);
    assert.notEqual(rtOf(next), rt1);
  });

  test('concurrent refreshes with one token (several tabs): one rotation, the rest grace, no revocation', async () => {
    const { rt } = await login(srv);
    const before = { ...srv.auth.stats };
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(srv, rt)));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    const rts = new Set(results.map(rtOf));
    assert.equal(rts.size, 1);
    assert.equal(srv.auth.stats.rotations - before.rotations, 1);
    assert.equal(srv.auth.stats.graceHits - before.graceHits, 4);
    assert.equal(srv.auth.stats.revokedFamilies - before.revokedFamilies, 0);
    assert.equal((await refresh(srv, [...rts][0])).status, 200);
  });

  test('reuse of the previous token after the grace window revokes the family; both cookies cleared', async () => {
    const { rt: rt0 } = await login(srv);
    const before = { ...srv.auth.stats };
    const rt1 = rtOf(await refresh(srv, rt0));
    srv.clock.t += 5001;
    const replay = await refresh(srv, rt0);
    assert.equal(replay.status, 401);
    assert.deepEqual(await replay.json(), { error: 'invalid_grant' });
    assert.deepEqual(replay.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    const successor = await refresh(srv, rt1);
    assert.equal(successor.status, 401, 'the successor dies with its family');
    assert.deepEqual(successor.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    assert.equal(srv.auth.stats.reuseDetections - before.reuseDetections, 1);
    assert.equal(srv.auth.stats.revokedFamilies - before.revokedFamilies, 1);
  });

  test('reuse of an older token (even within grace) revokes the family', async () => {
    const { rt: rt0 } = await login(srv);
    const before = { ...srv.auth.stats };
    const rt1 = rtOf(await refresh(srv, rt0));
    const rt2 = rtOf(await refresh(srv, rt1));
    const replay = await refresh(srv, rt0);
    assert.equal(replay.status, 401);
    assert.equal((await refresh(srv, rt2)).status, 401);
    assert.equal((await refresh(srv, rt1)).status, 401);
    assert.equal(srv.auth.stats.reuseDetections - before.reuseDetections, 1);
    assert.equal(srv.auth.stats.revokedFamilies - before.revokedFamilies, 1);
  });

  test('revocation of one family leaves other families of the same user alive', async () => {
    const victim = await login(srv);
    const other = await login(srv);
    const rt1 = rtOf(await refresh(srv, victim.rt));
    await refresh(srv, rtOf(await refresh(srv, rt1))); // unrelated: keep rotating
    assert.equal((await refresh(srv, victim.rt)).status, 401);
    assert.equal((await refresh(srv, other.rt)).status, 200);
  });

  test('refresh without any refresh cookie → 401 "no refresh cookie"; with an unknown or empty one → 401 invalid_grant; cookies cleared', async () => {
    const none = await refresh(srv, undefined);
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { error: 'invalid_grant', error_description: 'no refresh cookie' });
    assert.deepEqual(none.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    const others = await refresh(srv, undefined, { headers: { ...XRW, Cookie: 'theme=dark; auth-shell-sid=x' } });
    assert.deepEqual(await others.json(), { error: 'invalid_grant', error_description: 'no refresh cookie' });
    for (const rt of ['x'.repeat(64), 'x'.repeat(43), '']) {
      const res = await refresh(srv, rt);
      assert.equal(res.status, 401, String(rt));
      assert.deepEqual(await res.json(), { error: 'invalid_grant' });
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    }
    const wrongForm = await refresh(srv, undefined, { headers: { ...XRW, Cookie: `__Secure-rt=${'x'.repeat(64)}` } });
    assert.deepEqual(
      await wrongForm.json(),
      { error: 'invalid_grant' },
      'a refresh cookie of another form is there, unread',
    );
  });

  test('logout revokes the family and expires both cookies', async () => {
    const { rt: rt0, at } = await login(srv);
    const rt1 = rtOf(await refresh(srv, rt0));
    const before = { ...srv.auth.stats };
    const res = await logout(srv, rt1);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal((await refresh(srv, rt1)).status, 401);
    assert.equal((await refresh(srv, rt0)).status, 401, 'the grace retry is gone too');
    assert.equal(srv.auth.stats.logouts - before.logouts, 1);
    assert.equal(srv.auth.stats.revokedFamilies - before.revokedFamilies, 1);
    assert.equal(srv.auth.stats.reuseDetections - before.reuseDetections, 0);
    // The access token stays valid until it expires (stateless JWT; short lifetime).
    assert.equal((await get(srv, '/api/me', { Authorization: `Bearer ${at}` })).status, 200);
  });

  test('logout without a cookie or with an unknown one → 204 and cleared cookies', async () => {
    for (const rt of [undefined, 'unknown']) {
      const res = await logout(srv, rt);
      assert.equal(res.status, 204);
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    }
  });

  test('hardened: GET /refresh and GET /logout → 405 Allow: POST, session intact', async () => {
    const { rt } = await login(srv);
    for (const path of ['/api/refresh', '/api/logout']) {
      const res = await srv.fetch(path, { headers: { Cookie: `rt=${rt}`, ...XRW } });
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    assert.equal((await refresh(srv, rt)).status, 200);
  });

  test('hardened: POST /refresh or /logout without X-Requested-With → 403, session intact', async () => {
    const { rt } = await login(srv);
    for (const call of [refresh, logout]) {
      const res = await call(srv, rt, { headers: {} });
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { error: 'csrf_header_required' });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    assert.equal((await refresh(srv, rt)).status, 200);
  });

  test('hardened: foreign Origin → 403 on refresh, logout and login, session intact', async () => {
    const { rt } = await login(srv);
    for (const origin of [EVIL, 'null', `${srv.origin}.evil.net`, srv.origin.replace('http:', 'https:')]) {
      for (const call of [refresh, logout]) {
        const res = await call(srv, rt, { headers: { ...XRW, Origin: origin } });
        assert.equal(res.status, 403, origin);
        assert.deepEqual(await res.json(), { error: 'origin_not_allowed' });
        assert.equal(res.headers.get('access-control-allow-origin'), null);
      }
    }
    const res = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { ...JSON_CT, ...XRW, Origin: EVIL },
      body: '{"login":"alice","pass":"alice"}',
    });
    assert.equal(res.status, 403);
    assert.deepEqual(res.headers.getSetCookie(), []);
    // Same-origin Origin header is fine.
    const same = await refresh(srv, rt, { headers: { ...XRW, Origin: srv.origin, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(same.status, 200);
  });

  test('hardened: Sec-Fetch-Site: cross-site → 403 unless the Origin is allowed', async () => {
    const { rt } = await login(srv);
    const res = await refresh(srv, rt, { headers: { ...XRW, 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: 'cross_site_request' });
    const spoofed = await refresh(srv, rt, { headers: { ...XRW, 'Sec-Fetch-Site': 'cross-site', Origin: srv.origin } });
    assert.equal(spoofed.status, 403);
    // An allowed https origin: the cookie it gets is the Secure one (see "cookie flags"), so it is read as such.
    const fromAllowed = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { ...JSON_CT, ...XRW, Origin: ALLOWED },
      body: '{"login":"alice","pass":"alice"}',
    });
    const cookie = refreshCookieOf(fromAllowed.headers.getSetCookie()).split(';')[0];
    const allowed = await srv.fetch('/api/refresh', {
      method: 'POST',
      headers: { ...XRW, 'Sec-Fetch-Site': 'cross-site', Origin: ALLOWED, Cookie: cookie },
    });
    assert.equal(allowed.status, 200);
  });

  test('allowed foreign Origin → login and refresh work with credentialed CORS headers', async () => {
    const login1 = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { ...JSON_CT, ...XRW, Origin: ALLOWED, 'Sec-Fetch-Site': 'cross-site' },
      body: '{"login":"alice","pass":"alice"}',
    });
    const cookie = refreshCookieOf(login1.headers.getSetCookie()).split(';')[0];
    for (const r of [
      login1,
      await srv.fetch('/api/refresh', { method: 'POST', headers: { ...XRW, Origin: ALLOWED, Cookie: cookie } }),
    ]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(r.headers.get('vary'), 'Origin');
    }
  });

  test('verify(): a Bearer access token → the claims', async () => {
    const { at } = await login(srv, { login: 'bob', pass: 'bob' });
    const res = await get(srv, '/api/me', { Authorization: `Bearer ${at}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { sub: '2', name: 'Bob' });
    const claims = await srv.auth.verify(new Request('http://x/', { headers: { Authorization: `bearer ${at}` } }));
    assert.equal(claims.sub, '2');
  });

  test('verify(): only the refresh cookie (or a token in the query) → 401 with WWW-Authenticate', async () => {
    const { rt, at } = await login(srv);
    assertUnauthorizedBearer(await get(srv, '/api/me', { Cookie: `rt=${rt}` }));
    assertUnauthorizedBearer(await get(srv, `/api/me?access_token=${at}`));
    const none = await get(srv, '/api/me');
    assertUnauthorizedBearer(none);
    assert.deepEqual(await none.json(), { error: 'invalid_token' });
    assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Bearer ${rt}` }));
    assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Basic ${at}` }));
    const error = await srv.auth.verify(new Request('http://x/', { headers: { Cookie: `rt=${rt}` } })).catch((e) => e);
    assert.ok(error instanceof UnauthorizedError);
    assert.equal(error.status, 401);
    const answer = error.toResponse();
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
  });

  test('verify() rejects alg:none, another key, another algorithm, wrong aud, iss or typ, and expired tokens', async () => {
    const claims = { sub: '3', user_id: 3, role: 'admin', name: 'Ada Admin' };
    const now = srv.clock.t;
    const other = await generateKeyPair('EdDSA');
    const ec = await generateKeyPair('ES256');
    const publicJwk = await exportJWK((await import('jose')).importJWK ? other.publicKey : other.publicKey);
    void publicJwk;
    const bad = {
      'alg:none': new UnsecuredJWT(claims)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 60)
        .encode(),
      'another key, same kid': await forge(claims, { now, key: other.privateKey }),
      'another key, unknown kid': await forge(claims, { now, key: other.privateKey, kid: 'not-a-kid' }),
      'another algorithm (ES256) under our kid': await forge(claims, { now, key: ec.privateKey, alg: 'ES256' }),
      'HS256 keyed with our public key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: KEY.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 60)
        .sign(new TextEncoder().encode(String(KEY.x))),
      'wrong aud': await forge(claims, { now, aud: 'another-api' }),
      'wrong iss': await forge(claims, { now, iss: 'someone-else' }),
      'expired beyond leeway': await forge(claims, { now, ttl: -6 }),
      'wrong typ': await forge(claims, { now, typ: 'JWT' }),
      'no sub': await forge({ name: 'x' }, { now }),
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await get(srv, '/api/me', { Authorization: `Bearer ${token}` });
      assert.equal(res.status, 401, name);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"', name);
    }
    // Control: the same claims signed correctly are accepted; expiry within the 5 s leeway too.
    for (const ttl of [60, -4]) {
      assert.equal(
        (await get(srv, '/api/me', { Authorization: `Bearer ${await forge(claims, { now, ttl })}` })).status,
        200,
        `ttl ${ttl}`,
      );
      const signed = await srv.auth.signAccessToken(claims, { ttl });
      assert.equal(
        (await get(srv, '/api/me', { Authorization: `Bearer ${signed}` })).status,
        200,
        `signed, ttl ${ttl}`,
      );
    }
  });

  test('verify(): the access token expires with the server clock (exp + 5 s leeway); claims of an expired one are kept on the error', async () => {
    const { at } = await login(srv);
    srv.clock.t += 64_000;
    assert.equal((await get(srv, '/api/me', { Authorization: `Bearer ${at}` })).status, 200);
    srv.clock.t += 2_000;
    assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Bearer ${at}` }));
    const error = await srv.auth.verifyToken(at).catch((e) => e);
    assert.equal(error.name, 'UnauthorizedError');
    assert.equal(error.claims?.sid, decodeJwt(at).sid, 'the signature verified: the claims are trustworthy');
    const forged = await srv.auth.verifyToken(`${at.slice(0, -4)}AAAA`).catch((e) => e);
    assert.equal(forged.claims, undefined, 'a bad signature: no claims');
  });

  test('401, 403, 404 and 405 responses carry CORS headers for an allowed origin only', async () => {
    const cases = [
      [401, get(srv, '/api/me', { Origin: ALLOWED })],
      [401, refresh(srv, 'unknown', { headers: { ...XRW, Origin: ALLOWED } })],
      [403, refresh(srv, 'x', { headers: { Origin: ALLOWED } })],
      [404, get(srv, '/api/nope', { Origin: ALLOWED })],
      [405, get(srv, '/api/refresh', { Origin: ALLOWED })],
    ];
    for (const [status, pending] of cases) {
      const res = await /** @type {Promise<Response>} */ (pending);
      assert.equal(res.status, status, res.url);
      assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED, res.url);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('vary'), 'Origin');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    const me401 = await get(srv, '/api/me', { Origin: ALLOWED });
    assert.match(String(me401.headers.get('access-control-expose-headers')), /WWW-Authenticate/);
    const foreign = await get(srv, '/api/me', { Origin: EVIL });
    assert.equal(foreign.status, 401);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    assert.equal(foreign.headers.get('access-control-allow-credentials'), null);
  });

  test('preflight: allowed origin → 204 with CORS headers; no Origin → 204 Allow; other origins → 403 without', async () => {
    const headers = {
      Origin: ALLOWED,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type,x-requested-with',
    };
    const res = await srv.fetch('/api/refresh', { method: 'OPTIONS', headers });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.equal(res.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, X-Requested-With');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('vary'), 'Origin');
    const evil = await srv.fetch('/api/refresh', { method: 'OPTIONS', headers: { ...headers, Origin: EVIL } });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
    const plain = await srv.fetch('/api/refresh', { method: 'OPTIONS' });
    assert.equal(plain.status, 204);
    assert.equal(plain.headers.get('allow'), 'GET, POST, OPTIONS');
  });

  test('absolute lifetime: rotation keeps it (both cookies count down); refresh after it → 401', async () => {
    const { rt: rt0 } = await login(srv);
    let rt = rt0;
    // Refresh every 50 minutes (inside the 1 h idle limit) for 7 h 30 min.
    for (let i = 1; i <= 9; i++) {
      srv.clock.t += 50 * 60_000;
      const res = await refresh(srv, rt);
      assert.equal(res.status, 200, `refresh ${i}`);
      assert.equal(
        RT_COOKIE.exec(setCookie(res))?.[2],
        String(28800 - i * 3000),
        'Max-Age = remaining absolute lifetime',
      );
      assert.match(String(sidCookie(res)), new RegExp(`; Max-Age=${28800 - i * 3000}$`));
      rt = rtOf(res);
    }
    srv.clock.t += 30 * 60_000; // exactly 8 h after login
    const res = await refresh(srv, rt);
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
  });

  test('idle expiry: a refresh token unused for longer than idleTtl → 401', async () => {
    const a = await login(srv);
    const b = await login(srv);
    srv.clock.t += 3600_000; // exactly idleTtl: still fine
    const ok = await refresh(srv, a.rt);
    assert.equal(ok.status, 200);
    srv.clock.t += 1;
    const idle = await refresh(srv, b.rt);
    assert.equal(idle.status, 401);
    assert.deepEqual(idle.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    // Rotation resets the idle timer (it was rotated 1 ms ago).
    srv.clock.t += 3600_000 - 1;
    assert.equal((await refresh(srv, rtOf(ok))).status, 200);
  });

  test('routing: unknown route → 404 JSON; wrong method → 405; paths outside base fall through', async () => {
    const unknown = await get(srv, '/api/unknown?x=1');
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'not_found' });
    assert.equal((await get(srv, '/api')).status, 404);
    assert.equal((await get(srv, '/api/')).status, 404);
    assert.equal((await get(srv, '/api/__proto__')).status, 404);
    assert.equal((await get(srv, '/api/constructor')).status, 404);
    for (const path of ['/', '/apix/login', '/other/api/login']) {
      const res = await get(srv, path);
      assert.equal(await res.text(), 'fallback', path);
    }
    const postMe = await srv.fetch('/api/me', { method: 'POST' });
    assert.equal(postMe.status, 405);
    assert.equal(postMe.headers.get('allow'), 'GET');
    const web = await srv.auth.handle(new Request('http://localhost/elsewhere'));
    assert.equal(web.status, 404, 'handle() outside basePath: 404');
    assert.equal(srv.auth.owns('/elsewhere'), false);
    assert.equal(srv.auth.owns('/api'), true);
  });

  test('JWKS: the public keys only, at {base}/jwks.json', async () => {
    const res = await get(srv, '/api/jwks.json');
    assert.equal(res.status, 200);
    const { keys } = await res.json();
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.deepEqual([keys[0].kid, keys[0].alg, keys[0].use, keys[0].x], [KEY.kid, 'EdDSA', 'sig', KEY.x]);
    assert.equal((await srv.fetch('/api/jwks.json', { method: 'POST' })).status, 405);
  });

  test('stats has exactly the documented counters', () => {
    assert.deepEqual(Object.keys(srv.auth.stats).sort(), [
      'ambiguousCookies',
      'graceHits',
      'logins',
      'logouts',
      'refreshes',
      'reuseDetections',
      'revokedFamilies',
      'rotations',
    ]);
    for (const value of Object.values(srv.auth.stats)) assert.equal(typeof value, 'number');
  });
});

describe('cookie tossing: more than one refresh cookie', () => {
  /** @type {Srv} */
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  /** @param {string} path @param {string} cookie */
  const post = (path, cookie) => srv.fetch(path, { method: 'POST', headers: { ...XRW, Cookie: cookie } });

  test("refresh with two sessions' cookies (rt=<bob>; rt=<alice>) → 401 invalid_grant, neither rotates", async () => {
    const alice = await login(srv);
    const bob = await login(srv, { login: 'bob', pass: 'bob' });
    const before = { ...srv.auth.stats };
    for (const cookie of [`rt=${bob.rt}; rt=${alice.rt}`, `rt=${alice.rt}; other=1; rt=${bob.rt}`]) {
      const res = await post('/api/refresh', cookie);
      assert.equal(res.status, 401, cookie);
      assert.deepEqual(await res.json(), { error: 'invalid_grant' });
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    }
    const after = srv.auth.stats;
    assert.equal(after.ambiguousCookies - before.ambiguousCookies, 2);
    assert.equal(after.refreshes - before.refreshes, 2);
    assert.equal(after.rotations - before.rotations, 0);
    assert.equal(after.graceHits - before.graceHits, 0);
    assert.equal(after.reuseDetections - before.reuseDetections, 0);
    assert.equal(after.revokedFamilies - before.revokedFamilies, 0);
    // Nothing rotated: each session still refreshes with its own (first) cookie alone, and the
    // rotation is a normal one, not a grace answer to an already rotated token.
    for (const { rt, user } of [
      { rt: alice.rt, user: 1 },
      { rt: bob.rt, user: 2 },
    ]) {
      const res = await refresh(srv, rt);
      assert.equal(res.status, 200);
      assert.notEqual(rtOf(res), rt);
      assert.equal(decodeJwt((await res.json()).access_token).user_id, user);
    }
    assert.equal(srv.auth.stats.rotations - before.rotations, 2);
    assert.equal(srv.auth.stats.graceHits - before.graceHits, 0);
  });

  test('the same name under the prefixed and the plain form is ambiguous too; all forms are cleared', async () => {
    const alice = await login(srv);
    const before = { ...srv.auth.stats };
    const res = await post('/api/refresh', `__Secure-rt=${'x'.repeat(64)}; rt=${alice.rt}`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_grant' });
    assert.deepEqual(res.headers.getSetCookie(), [
      CLEARED,
      '__Secure-rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0; Secure',
      SID_CLEARED,
    ]);
    const host = await post('/api/refresh', `rt=${alice.rt}; __Host-rt=${'y'.repeat(64)}`);
    assert.equal(host.status, 401);
    assert.deepEqual(host.headers.getSetCookie(), [
      CLEARED,
      '__Host-rt=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure',
      SID_CLEARED,
    ]);
    assert.equal(srv.auth.stats.ambiguousCookies - before.ambiguousCookies, 2);
    assert.equal(srv.auth.stats.rotations - before.rotations, 0);
    assert.equal((await refresh(srv, alice.rt)).status, 200, "alice's session was not touched");
    // A cookie of another name is no refresh cookie: the request is not ambiguous.
    const unrelated = await login(srv);
    assert.equal((await post('/api/refresh', `rt=${unrelated.rt}; rtx=1; RT=2; __Secure-rtx=3`)).status, 200);
  });

  test('logout with two refresh cookies → 401 invalid_grant, no family revoked, cookies cleared', async () => {
    const alice = await login(srv);
    const bob = await login(srv, { login: 'bob', pass: 'bob' });
    const before = { ...srv.auth.stats };
    const res = await post('/api/logout', `rt=${bob.rt}; rt=${alice.rt}`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_grant' });
    assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    assert.equal(srv.auth.stats.logouts - before.logouts, 0);
    assert.equal(srv.auth.stats.revokedFamilies - before.revokedFamilies, 0);
    assert.equal(srv.auth.stats.ambiguousCookies - before.ambiguousCookies, 1);
    assert.equal((await refresh(srv, alice.rt)).status, 200);
    assert.equal((await refresh(srv, bob.rt)).status, 200);
  });

  test('a single refresh cookie among other cookies is used as before', async () => {
    const { rt } = await login(srv);
    const res = await post('/api/refresh', `theme=dark; rt=${rt}; lang=en`);
    assert.equal(res.status, 200);
    assert.notEqual(rtOf(res), rt);
  });
});

describe('cookie flags, prefixes and the Secure decision', () => {
  /** The loopback defaults plus a deployment's name. */
  const allowedHosts = ['localhost', '127.0.0.1', '[::1]', 'app.example.com'];
  /** @param {string} cookie */
  const valueOf = (cookie) => cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));

  test('localhost, 127.0.0.1 and [::1] over http without an Origin: plain rt, HttpOnly, SameSite=Strict, Path=base, not Secure', async () => {
    const srv = await startServer();
    try {
      const port = new URL(srv.origin).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LocalHost']) {
        const res = await loginAt(srv, host);
        assert.equal(res.status, 200, host);
        assert.equal(res.cookies.length, 2);
        assert.match(
          res.cookies[0],
          /^rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800$/,
          host,
        );
        assert.match(
          res.cookies[1],
          /^auth-shell-sid=[A-Za-z0-9_-]{22}; SameSite=Strict; Path=\/; Max-Age=28800$/,
          host,
        );
        assert.equal(res.headers['cache-control'], 'no-store');
      }
    } finally {
      await srv.close();
    }
  });

  test('the browser on http://localhost, 127.0.0.1 or [::1] (its Origin): not Secure, whatever the Host', async () => {
    const srv = await startServer({
      allowedHosts,
      allowedOrigins: ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000'],
    });
    try {
      for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000']) {
        const res = await loginAt(srv, 'app.example.com', '/api', { Origin: origin });
        assert.equal(res.status, 200, origin);
        assert.match(res.cookies[0], /^rt=.*; Max-Age=28800$/, origin);
        assert.match(res.cookies[1], /^auth-shell-sid=.*; Max-Age=28800$/, origin);
      }
    } finally {
      await srv.close();
    }
  });

  test('behind a plain proxy_pass (Host: 127.0.0.1) with an https Origin: Secure cookies, __Secure-rt, read as such', async () => {
    const srv = await startServer({ allowedOrigins: ['https://app.example.com'] });
    try {
      const port = new URL(srv.origin).port;
      const headers = { Host: `127.0.0.1:${port}`, Origin: 'https://app.example.com' };
      const res = await loginAt(srv, headers.Host, '/api', { Origin: headers.Origin });
      assert.equal(res.status, 200);
      assert.match(
        res.cookies[0],
        /^__Secure-rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800; Secure$/,
      );
      assert.match(
        res.cookies[1],
        /^auth-shell-sid=[A-Za-z0-9_-]{22}; SameSite=Strict; Path=\/; Max-Age=28800; Secure$/,
      );
      const rt = valueOf(res.cookies[0]);
      const ok = await rawRequest(srv, '/api/refresh', {
        method: 'POST',
        headers: { ...XRW, ...headers, Cookie: `__Secure-rt=${rt}` },
      });
      assert.equal(ok.status, 200);
      assert.match(ok.cookies[0], /^__Secure-rt=.*; Secure$/);
      const plain = await rawRequest(srv, '/api/refresh', {
        method: 'POST',
        headers: { ...XRW, ...headers, Cookie: `rt=${valueOf(ok.cookies[0])}` },
      });
      assert.equal(plain.status, 401, 'the plain name is not read where the prefixed one is expected');
      // Seed-style GETs carry no Origin; their Referer tells the page's scheme the same way.
      const viaReferer = await loginAt(srv, headers.Host, '/api', { Referer: 'https://app.example.com/account' });
      assert.match(viaReferer.cookies[0], /^__Secure-rt=.*; Secure$/);
    } finally {
      await srv.close();
    }
  });

  test('trustProxy: X-Forwarded-Proto decides (its last entry); without trustProxy it is ignored', async () => {
    const trusting = await startServer({ allowedHosts, trustProxy: true });
    const ignoring = await startServer({ allowedHosts });
    try {
      const http1 = await loginAt(trusting, 'app.example.com', '/api', { 'X-Forwarded-Proto': 'https, http' });
      assert.match(http1.cookies[0], /^rt=.*; Max-Age=28800$/, 'the proxy saw plain http');
      const https = await loginAt(trusting, 'localhost', '/api', { 'X-Forwarded-Proto': 'https' });
      assert.match(https.cookies[0], /^__Secure-rt=.*; Secure$/, 'the proxy saw https');
      const spoofed = await loginAt(ignoring, 'app.example.com', '/api', { 'X-Forwarded-Proto': 'http' });
      assert.match(spoofed.cookies[0], /^__Secure-rt=.*; Secure$/, 'anyone can write the header');
    } finally {
      await trusting.close();
      await ignoring.close();
    }
  });

  test('another Host, even over plain http (TLS ends at a proxy): __Secure-rt with Secure, path-scoped; plain rt not read', async () => {
    const srv = await startServer({ allowedHosts });
    try {
      const host = 'app.example.com';
      const res = await loginAt(srv, host);
      assert.equal(res.status, 200);
      assert.equal(res.cookies.length, 2);
      assert.match(
        res.cookies[0],
        /^__Secure-rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800; Secure$/,
      );
      const rt = valueOf(res.cookies[0]);
      // https://<Host> is the page's own origin behind the proxy.
      const headers = { ...XRW, Host: host, Origin: `https://${host}` };
      const plain = await rawRequest(srv, '/api/refresh', {
        method: 'POST',
        headers: { ...headers, Cookie: `rt=${rt}` },
      });
      assert.equal(plain.status, 401, 'the unprefixed name is not read where the prefixed one is expected');
      assert.deepEqual(plain.cookies, [
        '__Secure-rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0; Secure',
        'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0; Secure',
      ]);
      const ok = await rawRequest(srv, '/api/refresh', {
        method: 'POST',
        headers: { ...headers, Cookie: `__Secure-rt=${rt}` },
      });
      assert.equal(ok.status, 200);
      assert.match(
        ok.cookies[0],
        /^__Secure-rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800; Secure$/,
      );
      assert.notEqual(valueOf(ok.cookies[0]), rt);
      const out = await rawRequest(srv, '/api/logout', {
        method: 'POST',
        headers: { ...headers, Cookie: ok.cookies[0].split(';')[0] },
      });
      assert.equal(out.status, 204);
      assert.deepEqual(out.cookies, [
        '__Secure-rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0; Secure',
        'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0; Secure',
      ]);
      assert.equal(srv.auth.stats.revokedFamilies, 1);
      assert.equal(srv.auth.cookieName, '__Secure-rt');
    } finally {
      await srv.close();
    }
  });

  test("cookiePath '/' (or basePath '/'): __Host-rt, Path=/, Secure off localhost; plain rt with Path=/ on localhost", async () => {
    for (const options of [{ cookiePath: '/' }, { basePath: '/' }]) {
      const srv = await startServer({ ...options, allowedHosts });
      const base = options.basePath === '/' ? '' : '/api';
      try {
        const res = await loginAt(srv, 'app.example.com', base);
        assert.equal(res.status, 200, JSON.stringify(options));
        assert.match(
          res.cookies[0],
          /^__Host-rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800; Secure$/,
        );
        assert.doesNotMatch(res.cookies[0], /Domain=/i);
        const rt = valueOf(res.cookies[0]);
        const headers = { ...XRW, Host: 'app.example.com' };
        const ok = await rawRequest(srv, `${base}/refresh`, {
          method: 'POST',
          headers: { ...headers, Cookie: `__Host-rt=${rt}` },
        });
        assert.equal(ok.status, 200);
        assert.match(ok.cookies[0], /^__Host-rt=.*; Path=\/; Max-Age=28800; Secure$/);
        const local = await loginAt(srv, 'localhost', base);
        assert.match(local.cookies[0], /^rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
        assert.equal(srv.auth.cookieName, '__Host-rt');
      } finally {
        await srv.close();
      }
    }
  });

  test('secure: false never sets Secure; secure: true always does, also on localhost', async () => {
    const never = await startServer({ secure: false, allowedHosts });
    const always = await startServer({ secure: true, allowedHosts });
    try {
      const plain = await loginAt(never, 'app.example.com');
      assert.match(plain.cookies[0], /^rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800$/);
      assert.match(plain.cookies[1], /^auth-shell-sid=.*; Max-Age=28800$/);
      const local = await loginAt(always, 'localhost');
      assert.match(
        local.cookies[0],
        /^__Secure-rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800; Secure$/,
      );
      assert.match(local.cookies[1], /^auth-shell-sid=.*; Secure$/);
    } finally {
      await never.close();
      await always.close();
    }
  });

  test('bad secure, cookiePath, basePath or sidCookie options throw', () => {
    const base = { verifyPassword: () => null };
    assert.throws(() => createAuthServer({ ...base, secure: /** @type {any} */ ('yes') }), TypeError);
    assert.throws(() => createAuthServer({ ...base, cookiePath: '/other' }), TypeError);
    assert.throws(
      () => createAuthServer({ ...base, cookiePath: '/ap' }),
      TypeError,
      'a prefix must end at a path segment',
    );
    for (const basePath of ['api', '/api/', '/a;b', '/a b', ''])
      assert.throws(() => createAuthServer({ ...base, basePath }), TypeError, basePath);
    assert.doesNotThrow(() => createAuthServer({ ...base, basePath: '/auth/v1', cookiePath: '/auth', log: () => {} }));
    for (const sidCookie of ['a b', 'a;b', '', 'rt', { path: 'x' }, { path: '/a;b' }])
      assert.throws(
        () => createAuthServer({ ...base, sidCookie: /** @type {any} */ (sidCookie) }),
        TypeError,
        JSON.stringify(sidCookie),
      );
    assert.throws(() => createAuthServer(/** @type {any} */ ({})), TypeError, 'verifyPassword is required');
  });
});

describe('the sid cookie', () => {
  test('renamed, with its own path, or switched off', async () => {
    const renamed = await startServer({ sidCookie: { name: 'my-sid', path: '/app' } });
    const named = await startServer({ sidCookie: 'app-sid' });
    const off = await startServer({ sidCookie: false });
    try {
      const a = await login(renamed);
      const sid = decodeJwt(a.at).sid;
      assert.deepEqual(a.res.headers.getSetCookie().slice(1), [
        `my-sid=${sid}; SameSite=Strict; Path=/app; Max-Age=28800`,
      ]);
      assert.equal(renamed.auth.sidCookieName, 'my-sid');
      assert.deepEqual((await logout(renamed, a.rt)).headers.getSetCookie(), [
        CLEARED,
        'my-sid=; SameSite=Strict; Path=/app; Max-Age=0',
      ]);
      const b = await login(named);
      assert.match(
        b.res.headers.getSetCookie()[1],
        /^app-sid=[A-Za-z0-9_-]{22}; SameSite=Strict; Path=\/; Max-Age=28800$/,
      );
      const c = await login(off);
      assert.deepEqual(c.res.headers.getSetCookie(), [setCookie(c.res)]);
      assert.equal(off.auth.sidCookieName, null);
      const r = await refresh(off, c.rt);
      assert.deepEqual(r.headers.getSetCookie().length, 1);
      assert.deepEqual((await refresh(off, undefined)).headers.getSetCookie(), [CLEARED]);
      assert.equal(decodeJwt((await r.json()).access_token).sid, decodeJwt(c.at).sid, 'the sid claim is there anyway');
    } finally {
      await renamed.close();
      await named.close();
      await off.close();
    }
  });

  test('logout-everywhere (Bearer) clears it; its value is never the refresh token or its handle', async () => {
    const srv = await startServer();
    try {
      const a = await login(srv);
      const b = await login(srv);
      const res = await srv.fetch('/api/logout-everywhere', {
        method: 'POST',
        headers: { Authorization: `Bearer ${b.at}` },
      });
      assert.equal(res.status, 204);
      assert.deepEqual(res.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
      assert.equal((await refresh(srv, a.rt)).status, 401);
      assert.equal((await srv.fetch('/api/logout-everywhere', { method: 'POST' })).status, 401);
      assert.equal(
        (await srv.fetch('/api/logout-everywhere', { headers: { Authorization: `Bearer ${b.at}` } })).status,
        405,
      );
      const sid = String(decodeJwt(a.at).sid);
      assert.equal(a.rt.includes(sid), false);
      assert.notEqual(Buffer.from(a.rt, 'base64url').subarray(0, 16).toString('base64url'), sid);
    } finally {
      await srv.close();
    }
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  test('a foreign Host → 421 host_not_allowed on every route, before anything else; no cookie, no-store', async () => {
    // The attacker's name resolved to this server: same-origin for the browser, so Origin passes.
    const srv = await startServer();
    try {
      const port = new URL(srv.origin).port;
      const before = { ...srv.auth.stats };
      for (const host of [
        `rebind.evil.example:${port}`,
        'localhost.evil.example',
        '127.0.0.1.nip.io',
        'localhost.',
        `0.0.0.0:${port}`,
      ]) {
        const headers = { ...XRW, ...JSON_CT, Host: host, Origin: `http://${host}` };
        for (const [method, path] of [
          ['POST', '/api/login'],
          ['POST', '/api/refresh'],
          ['POST', '/api/logout'],
          ['GET', '/api/me'],
          ['GET', '/api/jwks.json'],
          ['OPTIONS', '/api/refresh'],
          ['GET', '/api/nope'],
        ]) {
          const res = await rawRequest(srv, path, {
            method,
            headers,
            body: method === 'POST' ? '{"login":"alice","pass":"alice"}' : undefined,
          });
          assert.equal(res.status, 421, `${host} ${method} ${path}`);
          assert.deepEqual(res.body, { error: 'host_not_allowed' });
          assert.deepEqual(res.cookies, []);
          assert.equal(res.headers['cache-control'], 'no-store');
        }
      }
      assert.deepEqual(srv.auth.stats, before, 'nothing was counted: no route ran');
      // Paths outside base are not the server's business.
      const outside = await rawRequest(srv, '/elsewhere', { headers: { Host: 'rebind.evil.example' } });
      assert.deepEqual([outside.status, outside.body], [404, 'fallback']);
    } finally {
      await srv.close();
    }
  });

  test('default: localhost, 127.0.0.1, [::1] on any port (any case) and the hosts of allowedOrigins', async () => {
    const srv = await startServer({ allowedOrigins: [ALLOWED, 'null'] });
    try {
      for (const host of [
        'localhost',
        'LOCALHOST:1',
        '127.0.0.1:65535',
        '[::1]:8080',
        '[::1]',
        'app.example',
        'app.example:444',
      ]) {
        assert.equal((await loginAt(srv, host)).status, 200, host);
      }
      for (const host of ['example', 'evil.app.example', '[::2]', 'localhost:99999']) {
        assert.equal((await loginAt(srv, host)).status, 421, host);
      }
    } finally {
      await srv.close();
    }
  });

  test('allowedHosts replaces the loopback names; name:port entries allow that port only; bad entries throw', async () => {
    const srv = await startServer({ allowedHosts: ['api.example.com', 'Admin.Example.com:8443'] });
    try {
      assert.equal((await loginAt(srv, 'api.example.com')).status, 200);
      assert.equal((await loginAt(srv, 'api.example.com:3000')).status, 200);
      assert.equal((await loginAt(srv, 'admin.example.com:8443')).status, 200);
      assert.equal((await loginAt(srv, 'admin.example.com:8444')).status, 421);
      assert.equal((await loginAt(srv, 'admin.example.com')).status, 421);
      assert.equal((await loginAt(srv, 'app.example')).status, 200, 'the hosts of allowedOrigins stay allowed');
      assert.equal((await loginAt(srv, 'localhost')).status, 421);
      assert.equal((await srv.fetch('/api/me')).status, 421, 'the listening address 127.0.0.1 is not on the list');
    } finally {
      await srv.close();
    }
    for (const bad of ['http://example.com', 'example.com/path', 'user@example.com', '', 'a b']) {
      assert.throws(() => createAuthServer({ verifyPassword: () => null, allowedHosts: [bad] }), TypeError, bad);
    }
  });
});

describe('login throttling', () => {
  /**
   * One login attempt, answered as status, body and the headers the tests look at.
   * @param {Srv} srv @param {string} login @param {string} pass
   * @param {{ headers?: Record<string, string>, localAddress?: string }} [o]
   */
  async function attempt(srv, login, pass, { headers = {}, localAddress } = {}) {
    const res = await rawRequest(srv, '/api/login', {
      method: 'POST',
      headers: { ...JSON_CT, ...XRW, ...headers },
      body: JSON.stringify({ login, pass }),
      localAddress,
    });
    return {
      status: res.status,
      body: res.body,
      retryAfter: res.headers['retry-after'],
      cookies: res.cookies,
      headers: res.headers,
    };
  }

  /** @param {Awaited<ReturnType<typeof attempt>>} res @param {string} retryAfter */
  function assertThrottled(res, retryAfter) {
    assert.equal(res.status, 429);
    assert.deepEqual(res.body, { error: 'too_many_attempts' });
    assert.equal(res.retryAfter, retryAfter);
    assert.deepEqual(res.cookies, []);
    assert.equal(res.headers['cache-control'], 'no-store');
  }

  test('300 wrong passwords: 401 ×5, then 429 with Retry-After; the right one is 429 too until the lock ends, then 200', async () => {
    const srv = await startServer();
    try {
      const before = { ...srv.auth.stats };
      /** @type {Record<string, number>} */
      const statuses = {};
      for (let i = 0; i < 300; i++) {
        const res = await attempt(srv, 'alice', `guess-${i}`);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (i < 5) assert.equal(res.status, 401, `attempt ${i + 1}`);
        else assertThrottled(res, '900');
      }
      assert.deepEqual(statuses, { 401: 5, 429: 295 });
      // The lock does not reveal a right guess: the right password gets the same answer.
      assertThrottled(await attempt(srv, 'alice', 'alice'), '900');
      assertThrottled(await attempt(srv, 'ALICE', 'alice'), '900');
      // Another account from the same client is not locked (5 failures < the client's 20).
      assert.equal((await attempt(srv, 'bob', 'bob')).status, 200);
      srv.clock.t += 899_000;
      assertThrottled(await attempt(srv, 'alice', 'alice'), '1');
      srv.clock.t += 1000;
      const ok = await attempt(srv, 'alice', 'alice');
      assert.equal(ok.status, 200);
      assert.equal(ok.cookies.length, 2);
      assert.equal(srv.auth.stats.logins - before.logins, 2);
      // The success reset the account's count: 4 + 4 failures around a success never lock.
      for (let i = 0; i < 4; i++) assert.equal((await attempt(srv, 'alice', 'wrong')).status, 401);
      assert.equal((await attempt(srv, 'alice', 'alice')).status, 200);
      for (let i = 0; i < 4; i++) assert.equal((await attempt(srv, 'alice', 'wrong')).status, 401);
      assert.equal((await attempt(srv, 'alice', 'alice')).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('unknown accounts lock the same way (no account enumeration); failures older than windowMs do not add up', async () => {
    const srv = await startServer({ loginThrottle: { maxFailures: 3, windowMs: 60_000, lockMs: 30_000 } });
    try {
      for (const login of ['nobody', 'alice']) {
        assert.equal((await attempt(srv, login, 'x')).status, 401);
        assert.equal((await attempt(srv, login, 'x')).status, 401);
      }
      srv.clock.t += 60_000; // both windows are over
      for (const login of ['nobody', 'alice']) {
        assert.equal((await attempt(srv, login, 'x')).status, 401);
        assert.equal((await attempt(srv, login, 'x')).status, 401);
        assert.equal((await attempt(srv, login, 'x')).status, 401, 'the 3rd failure in the window locks');
        assertThrottled(await attempt(srv, login, 'x'), '30');
      }
      srv.clock.t += 30_000;
      assert.equal((await attempt(srv, 'alice', 'alice')).status, 200);
      assert.equal((await attempt(srv, 'nobody', 'x')).status, 401, 'a lock ends by itself');
    } finally {
      await srv.close();
    }
  });

  test('per client: failures across accounts lock that client, right password included; X-Forwarded-For is ignored; other clients go on', async () => {
    const srv = await startServer();
    try {
      for (let i = 0; i < 19; i++) {
        const res = await attempt(srv, `user-${i}`, 'x', { headers: { 'X-Forwarded-For': `198.51.100.${i}` } });
        assert.equal(res.status, 401, `attempt ${i + 1}`);
      }
      // A success does not reset the client's count (or a client could reset it with its own account).
      assert.equal((await attempt(srv, 'bob', 'bob')).status, 200);
      assert.equal((await attempt(srv, 'user-19', 'x')).status, 401, 'the 20th failure locks the client');
      assertThrottled(await attempt(srv, 'alice', 'alice', { headers: { 'X-Forwarded-For': '203.0.113.7' } }), '900');
      assertThrottled(await attempt(srv, 'bob', 'bob'), '900');
      // Another address of this machine is another client.
      assert.equal((await attempt(srv, 'alice', 'alice', { localAddress: '127.0.0.2' })).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('trustProxy: the last X-Forwarded-For address is the client; IPv6 clients count per /64', async () => {
    const srv = await startServer({ trustProxy: true, loginThrottle: { maxClientFailures: 3 } });
    try {
      /** @param {string} forwarded @param {string} [pass] */
      const from = (forwarded, pass = 'x') =>
        attempt(srv, 'alice', pass, { headers: { 'X-Forwarded-For': forwarded } });
      const fail = async (/** @type {string} */ forwarded, /** @type {number} */ n) => {
        for (let i = 0; i < n; i++)
          assert.equal((await attempt(srv, `u${i}`, 'x', { headers: { 'X-Forwarded-For': forwarded } })).status, 401);
      };
      await fail('10.0.0.1, 198.51.100.1', 3);
      assertThrottled(await from('spoofed, 198.51.100.1', 'alice'), '900');
      assert.equal(
        (await from('10.0.0.1, 198.51.100.2', 'alice')).status,
        200,
        'the spoofable first entries do not matter',
      );

      await fail('2001:db8:1:2::1', 3);
      assertThrottled(await from('2001:db8:1:2:ffff::9', 'alice'), '900');
      assertThrottled(await from('2001:0db8:0001:0002:0000:0000:0000:0abc', 'alice'), '900');
      assert.equal((await from('2001:db8:1:3::1', 'alice')).status, 200, 'another /64');

      // Not an address: the connection's address counts instead.
      await fail('not-an-ip', 3);
      assertThrottled(await attempt(srv, 'alice', 'alice'), '900');
    } finally {
      await srv.close();
    }
  });

  test('a locked entry is never evicted: 200 guesses at one account, in 40 rounds between sprays of failures from fresh /64s, are still limited', async () => {
    // The memory store tracks 8 keys here. Between rounds of guesses at alice, the attacker fails
    // logins for made-up accounts from fresh /64s (in fresh /48s) to push her lock out of the table:
    // counting entries make room, least recently seen first; locks stay.
    const srv = await startServer({ store: memoryStore({ maxThrottleKeys: 8 }), trustProxy: true });
    try {
      /** @type {Record<string, number>} */
      const statuses = {};
      let fresh = 0;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 5; i++) {
          const res = await attempt(srv, 'alice', `guess-${round}-${i}`, {
            headers: { 'X-Forwarded-For': `2001:db8:${round.toString(16)}:1::1` },
          });
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
        for (let i = 0; i < 10; i++) {
          const client = `2001:${(++fresh).toString(16)}:1:1::1`;
          assert.equal(
            (await attempt(srv, `junk-${fresh}`, 'x', { headers: { 'X-Forwarded-For': client } })).status,
            401,
          );
        }
      }
      assert.deepEqual(statuses, { 401: 5, 429: 195 });
      assertThrottled(
        await attempt(srv, 'alice', 'alice', { headers: { 'X-Forwarded-For': '2001:db8:ffff::1' } }),
        '900',
      );
    } finally {
      await srv.close();
    }
  });

  test('memory is bounded: beyond maxThrottleKeys the least recently seen counting entry is forgotten', async () => {
    const srv = await startServer({ store: memoryStore({ maxThrottleKeys: 4 }), loginThrottle: { maxFailures: 2 } });
    try {
      // Keys: this client's (seen at every attempt, so always among the newest) and one per account.
      for (const login of ['u1', 'u2', 'u3']) assert.equal((await attempt(srv, login, 'x')).status, 401);
      assert.equal((await attempt(srv, 'u4', 'x')).status, 401); // no room: u1's count, the oldest, goes
      assert.equal((await attempt(srv, 'u1', 'x')).status, 401, "u1's count starts again");
      assert.equal((await attempt(srv, 'u4', 'x')).status, 401, "u4's second failure locks it");
      assertThrottled(await attempt(srv, 'u4', 'x'), '900');
    } finally {
      await srv.close();
    }
  });

  test('a table full of locks fails closed: an untracked login waits for the soonest lock to end', async () => {
    const srv = await startServer({
      store: memoryStore({ maxThrottleKeys: 2 }),
      loginThrottle: { maxFailures: 1, maxClientFailures: 1000 },
    });
    try {
      assert.equal((await attempt(srv, 'u1', 'x')).status, 401); // u1 locked; the client's entry counting
      srv.clock.t += 1000;
      // u2 locked too (the client's entry made room); the client's count has no room left: saturated.
      assert.equal((await attempt(srv, 'u2', 'x')).status, 401);
      srv.clock.t += 1000;
      assertThrottled(await attempt(srv, 'u3', 'x'), '898');
      assertThrottled(await attempt(srv, 'bob', 'bob'), '898');
      srv.clock.t += 898_000;
      assert.equal((await attempt(srv, 'bob', 'bob')).status, 200, 'the first lock ended: room again');
    } finally {
      await srv.close();
    }
  });

  test('429 carries CORS headers for an allowed origin, with Retry-After exposed', async () => {
    const srv = await startServer({ loginThrottle: { maxFailures: 1 } });
    try {
      await attempt(srv, 'alice', 'x');
      const res = await attempt(srv, 'alice', 'x', { headers: { Origin: ALLOWED } });
      assertThrottled(res, '900');
      assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      assert.deepEqual(String(res.headers['access-control-expose-headers']).split(/,\s*/).sort(), [
        'Retry-After',
        'WWW-Authenticate',
      ]);
    } finally {
      await srv.close();
    }
  });

  test('loginThrottle and memoryStore options are checked', () => {
    for (const bad of [
      { maxFailures: 0 },
      { lockMs: -1 },
      { windowMs: 1.5 },
      { maxNetworkFailures: Infinity },
      { maxClientFailures: /** @type {any} */ ('5') },
    ]) {
      assert.throws(
        () => createAuthServer({ verifyPassword: () => null, loginThrottle: bad }),
        RangeError,
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () => createAuthServer({ verifyPassword: () => null, loginThrottle: /** @type {any} */ ({ maxFailure: 5 }) }),
      TypeError,
      'a typo is not ignored',
    );
    assert.throws(() => memoryStore({ maxThrottleKeys: 0 }), RangeError);
  });
});

describe('sessions per user', () => {
  test("a login beyond maxSessionsPerUser revokes that user's oldest live session (evicted); the login succeeds", async () => {
    const srv = await startServer({ maxSessionsPerUser: 2 });
    try {
      /** @type {Array<[string, string, string]>} */
      const heard = [];
      srv.auth.onSessionRevoked((sid, userId, reason) => heard.push([sid, userId, reason]));
      const a = await login(srv);
      const b = await login(srv);
      const bob = await login(srv, { login: 'bob', pass: 'bob' });
      const a1 = rtOf(await refresh(srv, a.rt)); // rotating does not make a family younger
      assert.deepEqual(heard, []);
      const c = await login(srv);
      assert.deepEqual(heard, [[decodeJwt(a.at).sid, '1', 'evicted']]);
      assert.equal(srv.auth.stats.revokedFamilies, 1);
      assert.equal(srv.auth.stats.reuseDetections, 0);
      const evicted = await refresh(srv, a1);
      assert.equal(evicted.status, 401);
      assert.deepEqual(evicted.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
      for (const { rt } of [b, c, bob]) assert.equal((await refresh(srv, rt)).status, 200);
      // Only live families count: after a logout the next login evicts nothing.
      await logout(srv, c.rt);
      await login(srv);
      assert.deepEqual(
        heard.map(([, , r]) => r),
        ['evicted', 'logout'],
      );
    } finally {
      await srv.close();
    }
  });

  test('default: 10 live sessions per user; the 11th login evicts the first', async () => {
    const srv = await startServer();
    try {
      const first = await login(srv);
      for (let i = 0; i < 9; i++) await login(srv);
      assert.equal(srv.auth.stats.revokedFamilies, 0);
      const firstNext = rtOf(await refresh(srv, first.rt));
      await login(srv);
      assert.equal(srv.auth.stats.revokedFamilies, 1);
      assert.equal((await refresh(srv, rtOf(await refresh(srv, (await login(srv)).rt)))).status, 200);
      assert.equal((await refresh(srv, firstNext)).status, 401);
      assert.equal(srv.auth.stats.reuseDetections, 0, 'an evicted session is not reuse');
    } finally {
      await srv.close();
    }
  });

  test('number options are checked', () => {
    const base = { verifyPassword: () => null };
    for (const name of ['maxSessionsPerUser', 'maxTicketsPerToken']) {
      for (const value of [0, -1, 2.5, Infinity, '3']) {
        assert.throws(() => createAuthServer({ ...base, [name]: value }), RangeError, `${name}: ${value}`);
      }
    }
    for (const [name, value] of [
      ['ticketTtl', 61],
      ['ticketTtl', 0],
      ['accessTokenTtl', 0],
      ['gracePeriod', -1],
      ['retryAfter', 1.5],
      ['storeTimeout', 0],
    ]) {
      assert.throws(() => createAuthServer({ ...base, [name]: value }), RangeError, `${name}: ${value}`);
    }
  });
});

describe('seed mode', () => {
  /** @type {Srv} */
  let srv;
  before(async () => {
    srv = await startServer({ mode: 'seed' });
  });
  after(() => srv.close());

  test('seed: login, GET /refresh and GET /logout work without the custom header', async () => {
    const res = await srv.fetch('/api/login', {
      method: 'POST',
      headers: JSON_CT,
      body: '{"login":"alice","pass":"alice"}',
    });
    assert.equal(res.status, 200);
    const rt0 = rtOf(res);
    const refreshed = await refresh(srv, rt0, { method: 'GET', headers: {} });
    assert.equal(refreshed.status, 200);
    const rt1 = rtOf(refreshed);
    assert.notEqual(rt1, rt0);
    assert.equal((await refresh(srv, rt1, { method: 'POST', headers: {} })).status, 200);
    const out = await logout(srv, rt1, { method: 'GET', headers: {} });
    assert.equal(out.status, 204);
    assert.deepEqual(out.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
    assert.equal((await refresh(srv, rt1, { method: 'GET', headers: {} })).status, 401);
  });

  test('seed: still rejects non-JSON login and still rotates with reuse detection', async () => {
    const form = await srv.fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'login=alice&pass=alice',
    });
    assert.equal(form.status, 415);
    assert.deepEqual(form.headers.getSetCookie(), []);
    const { rt: rt0 } = await login(srv);
    const rt1 = rtOf(await refresh(srv, rt0, { method: 'GET', headers: {} }));
    rtOf(await refresh(srv, rt1, { method: 'GET', headers: {} }));
    assert.equal((await refresh(srv, rt0, { method: 'GET', headers: {} })).status, 401);
    assert.equal((await refresh(srv, rt1, { method: 'GET', headers: {} })).status, 401);
  });

  test('seed: PUT /refresh → 405 Allow: GET, POST', async () => {
    const res = await srv.fetch('/api/refresh', { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
  });
});

describe('options', () => {
  test('log lines: method, redacted path, status, duration; never tokens, cookies or passwords', async () => {
    const srv = await startServer();
    try {
      const { rt, at } = await login(srv);
      const res = await refresh(srv, rt);
      const rt1 = rtOf(res);
      await get(srv, '/api/me?access_token=SECRET', { Authorization: `Bearer ${at}`, Cookie: `rt=${rt1}` });
      await get(srv, '/elsewhere?access_token=SECRET');
      assert.equal(srv.lines.length, 3, srv.lines.join('\n'));
      assert.match(srv.lines[0], /^POST \/api\/login 200 \d+ms$/);
      assert.match(srv.lines[1], /^POST \/api\/refresh 200 \d+ms$/);
      assert.match(srv.lines[2], /^GET \/api\/me\?\[redacted\] 200 \d+ms$/);
      const all = srv.lines.join('\n');
      for (const secret of ['SECRET', rt, rt1, at, at.split('.')[1], 'alice', 'Bearer', 'rt=']) {
        assert.equal(all.includes(secret), false, `log contains ${secret.slice(0, 12)}`);
      }
    } finally {
      await srv.close();
    }
  });

  test('basePath, accessTokenTtl, sendExpiresIn, gracePeriod 0, issuer and audience', async () => {
    const srv = await startServer({
      basePath: '/auth',
      accessTokenTtl: 30,
      sendExpiresIn: false,
      gracePeriod: 0,
      issuer: 'me',
      audience: 'my-api',
    });
    try {
      assert.equal(await (await get(srv, '/api/me')).text(), 'fallback');
      const res = await srv.fetch('/auth/login', {
        method: 'POST',
        headers: { ...JSON_CT, ...XRW },
        body: '{"login":"bob","pass":"bob"}',
      });
      assert.equal(res.status, 200);
      assert.match(setCookie(res), /; Path=\/auth; /);
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'token_type']);
      const claims = decodeJwt(body.access_token);
      assert.equal(/** @type {number} */ (claims.exp) - /** @type {number} */ (claims.iat), 30);
      assert.deepEqual([claims.iss, claims.aud, claims.user_id], ['me', 'my-api', 2]);
      // gracePeriod 0: any replay of a rotated token is reuse.
      const rt0 = setCookie(res).split(';')[0].slice(3);
      const r1 = await srv.fetch('/auth/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt0}` } });
      assert.equal(r1.status, 200);
      srv.clock.t += 1;
      const replay = await srv.fetch('/auth/refresh', { method: 'POST', headers: { ...XRW, Cookie: `rt=${rt0}` } });
      assert.equal(replay.status, 401);
      assert.equal(srv.auth.stats.reuseDetections, 1);
    } finally {
      await srv.close();
    }
  });

  test('claims() cannot override sub, sid, iss, aud, iat or exp; findUser reloads the claims at every refresh', async () => {
    let role = 'user';
    /** @type {Set<string>} */
    const gone = new Set();
    const srv = await startServer({
      claims: () => ({ role, sub: 'admin', sid: 'mine', iss: 'x', aud: 'y', exp: 1, iat: 1 }),
      findUser: (id) => (gone.has(id) ? null : { id }),
    });
    try {
      const { at, rt } = await login(srv);
      const claims = decodeJwt(at);
      assert.deepEqual([claims.sub, claims.iss, claims.aud, claims.role], ['1', ISSUER, AUDIENCE, 'user']);
      assert.notEqual(claims.sid, 'mine');
      assert.ok(/** @type {number} */ (claims.exp) > Math.floor(srv.clock.t / 1000));
      role = 'admin';
      const r = await refresh(srv, rt);
      assert.equal(decodeJwt((await r.json()).access_token).role, 'admin', 'reloaded');
      gone.add('1');
      const refused = await refresh(srv, rtOf(r));
      assert.equal(refused.status, 401, 'a user who is gone loses the session');
      assert.deepEqual(refused.headers.getSetCookie(), [CLEARED, SID_CLEARED]);
      assert.equal(srv.auth.stats.revokedFamilies, 1);
    } finally {
      await srv.close();
    }
  });

  test('checkClaims refuses tokens it rejects (verify() and the ticket route): 401', async () => {
    /** @type {Set<unknown>} */
    const denied = new Set();
    const srv = await startServer({ checkClaims: (claims) => !denied.has(claims.jti) });
    try {
      const { at } = await login(srv);
      assert.equal((await get(srv, '/api/me', { Authorization: `Bearer ${at}` })).status, 200);
      denied.add(decodeJwt(at).jti);
      assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Bearer ${at}` }));
      assertUnauthorizedBearer(
        await srv.fetch('/api/ws-ticket', { method: 'POST', headers: { Authorization: `Bearer ${at}` } }),
      );
    } finally {
      await srv.close();
    }
  });

  test('keys: a shared secret (HS256) only as an explicit choice: no JWKS; other algorithms and secrets refused', async () => {
    const secret = 'a shared secret of thirty-two by';
    const srv = await startServer({ keys: undefined, secret });
    try {
      const { at } = await login(srv);
      assert.deepEqual(decodeProtectedHeader(at), { alg: 'HS256', typ: 'at+jwt' });
      assert.equal((await get(srv, '/api/me', { Authorization: `Bearer ${at}` })).status, 200);
      assert.equal((await get(srv, '/api/jwks.json')).status, 404);
      const now = Math.floor(srv.clock.t / 1000);
      const hs512 = await new SignJWT({ sub: '1' })
        .setProtectedHeader({ alg: 'HS512', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(new TextEncoder().encode(secret.repeat(2)));
      assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Bearer ${hs512}` }));
      const other = await new SignJWT({ sub: '1' })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(new TextEncoder().encode('another secret, also 32 bytes ok'));
      assertUnauthorizedBearer(await get(srv, '/api/me', { Authorization: `Bearer ${other}` }));
      await assert.rejects(srv.auth.rotateKeys(), TypeError);
    } finally {
      await srv.close();
    }
    assert.throws(() => createAuthServer({ verifyPassword: () => null, secret: 'too short' }), RangeError);
    assert.throws(
      () => createAuthServer({ verifyPassword: () => null, secret: 'x'.repeat(32), keys: [KEY] }),
      TypeError,
    );
  });

  test('keys: given JWKs, the first signs and all verify (ES256 beside EdDSA); a public key alone is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const es = { ...(await exportJWK(privateKey)), kid: 'es-1', alg: 'ES256' };
    const srv = await startServer({ keys: [es, KEY] });
    try {
      const { at } = await login(srv);
      assert.deepEqual(decodeProtectedHeader(at), { alg: 'ES256', typ: 'at+jwt', kid: 'es-1' });
      assert.equal((await get(srv, '/api/me', { Authorization: `Bearer ${at}` })).status, 200);
      const byOld = await forge({ sub: '1' }, { now: srv.clock.t });
      assert.equal(
        (await get(srv, '/api/me', { Authorization: `Bearer ${byOld}` })).status,
        200,
        'the second key verifies',
      );
      const { keys } = await (await get(srv, '/api/jwks.json')).json();
      assert.deepEqual(
        keys.map((/** @type {any} */ k) => [k.kid, k.alg, k.d]),
        [
          ['es-1', 'ES256', undefined],
          [KEY.kid, 'EdDSA', undefined],
        ],
      );
    } finally {
      await srv.close();
    }
    const { d: _d, ...publicOnly } = KEY;
    assert.throws(() => createAuthServer({ verifyPassword: () => null, keys: [publicOnly] }), /private JWK/);
    assert.throws(() => createAuthServer({ verifyPassword: () => null, keys: [{ kty: 'oct', d: 'x' }] }), /algorithm/);
  });
});

describe('password helpers', () => {
  test("hashPassword: scrypt with OWASP's parameters, a PHC string; checkPassword in constant time, also for unknown users", async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(await hashPassword('correct horse'), hash, 'a new salt every time');
    assert.equal(await checkPassword(hash, 'correct horse'), true);
    assert.equal(await checkPassword(hash, 'correct hors'), false);
    assert.equal(await checkPassword(undefined, 'correct horse'), false);
    assert.equal(await checkPassword('garbage', 'x'), false);
    assert.equal(needsRehash(hash), false);
    const weak = await hashPassword('x', { ln: 10 });
    assert.equal(needsRehash(weak), true);
    assert.equal(await checkPassword(weak, 'x'), true, 'the parameters travel with the hash');
    assert.equal(await checkPassword(await hashPassword('é'), 'e\u0301'), true, 'Unicode-normalised (NFC)');
  });
});
