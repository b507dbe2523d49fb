// @ts-check
/**
 * The demo backend: a thin app on auth-shell/server (login, refresh, logout, the sid cookie, the
 * socket ticket, the JWKS — one implementation of the contract), plus the demo's own APIs (/me,
 * /admin, /mfe/:name, /expire-token), an authenticated WebSocket, and the test-only routes the
 * browser suite drives (_stats, _faults/*, _ws/*). Mounts on a Node http server or as Koa
 * middleware (@web/dev-server, @web/test-runner). See README.md next to this file.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createAuthServer } from '../../src/server/auth-server.js';
import { toWebRequest, writeNodeResponse } from '../../src/server/adapters.js';
import { CLOCK_TOLERANCE_S } from '../../src/server/keys.js';
import { memoryStore } from '../../src/server/stores/memory.js';
import { HttpError } from '../../src/server/http.js';
import { CLOSE, createSocketHub, isInjectableCode } from './sockets.js';

/**
 * @typedef {{ login: string, pass: string, user_id: number, role: string, name: string }} User
 *
 * @typedef {object} BackendOptions
 * @property {string} [base] path prefix of every route (default '/api'; '/' serves the routes at the root)
 * @property {import('../../src/server/store.js').Store} [store] default a memory store
 * @property {'hardened' | 'seed'} [mode] default 'hardened'
 * @property {number} [accessTtl] seconds (default 60)
 * @property {number} [refreshTtl] absolute lifetime of a refresh-token family, seconds (default 8 h)
 * @property {number} [idleTtl] seconds a refresh token may sit unused (default 1 h)
 * @property {number} [graceMs] reuse window of the immediately previous refresh token (default 5000)
 * @property {Uint8Array | string} [secret] a shared HS256 key instead of the store's Ed25519 key pair
 * @property {Array<Record<string, unknown>>} [keys] private JWKs instead (the first signs)
 * @property {string} [issuer] default 'auth-shell-demo'
 * @property {string} [audience] default 'auth-shell-demo-api'
 * @property {User[]} [users] default alice/alice, bob/bob, admin/admin
 * @property {string[]} [allowedOrigins] exact origins allowed for credentialed CORS
 * @property {string[]} [allowedHosts] Host names (any port) or `name:port` this backend answers to
 * @property {boolean} [sendExpiresIn] include expires_in in token responses (default true)
 * @property {number} [latency] ms to wait before every response (default 0)
 * @property {boolean | 'auto'} [secure] see auth-shell/server's `secure`
 * @property {string} [cookiePath] `Path` of the refresh cookie
 * @property {string | false | { name?: string, path?: string }} [sidCookie] the readable sid cookie (default 'auth-shell-sid')
 * @property {import('../../src/server/login-throttle.js').LoginThrottleOptions & { maxKeys?: number }} [loginThrottle]
 *   `maxKeys`: throttle entries the default memory store tracks
 * @property {boolean} [trustProxy]
 * @property {(line: string) => void} [log] one line per request (default console.log)
 * @property {() => number} [now] clock in ms (default Date.now)
 * @property {boolean} [testRoutes] enable GET {base}/_stats, the fault routes and the socket test routes (default false)
 * @property {number} [feedInterval] ms between `tick` messages on a socket; 0 disables (default 2000)
 * @property {number} [ticketTtl] lifetime of a socket ticket, s, > 0 and <= 60 (default 30)
 * @property {number} [maxFamiliesPerUser] live sessions per user (default 10)
 * @property {number} [maxTicketsPerToken] default 10
 * @property {number} [maxSocketsPerUser] open sockets per user; beyond, the handshake closes 1013 (default 20)
 * @property {number} [storeTimeout] ms
 * @property {number} [cleanupInterval] s
 *
 * @typedef {import('../../src/server/auth-server.js').Stats & { socketsOpened?: number, socketsClosed?: number }} Stats
 *   The socket counters appear once attachWebSocket() has been called.
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 */

/** @type {User[]} */
export const DEFAULT_USERS = [
  { login: 'alice', pass: 'alice', user_id: 1, role: 'user', name: 'Alice' },
  { login: 'bob', pass: 'bob', user_id: 2, role: 'user', name: 'Bob' },
  { login: 'admin', pass: 'admin', user_id: 3, role: 'admin', name: 'Ada Admin' },
];

/** Made-up data of the micro-frontend demo's `{base}/mfe/:name` routes. */
const MFE_ITEMS = Object.freeze({
  orders: [
    { id: 'A-1042', title: 'Mechanical keyboard', detail: 'shipped' },
    { id: 'A-1043', title: 'USB-C dock', detail: 'packing' },
    { id: 'A-1051', title: 'Desk lamp', detail: 'delivered' },
  ],
  profile: [
    { id: 'plan', title: 'Plan', detail: 'Team (5 seats)' },
    { id: 'since', title: 'Member since', detail: '2021-04-12' },
    { id: 'mfa', title: 'Two-factor authentication', detail: 'on' },
  ],
  news: [
    { id: 'n-3', title: 'Micro-frontends share one session', detail: 'one restore, one token, one logout' },
    { id: 'n-2', title: 'Refresh tokens rotate on every use', detail: 'reuse revokes the whole family' },
    { id: 'n-1', title: 'Access tokens live in memory only', detail: 'never in storage' },
  ],
});

/** @param {string} s */
const digest = (s) => createHash('sha256').update(s).digest();

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {string} url */
function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** @param {number} status @param {unknown} [body] @param {Record<string, string>} [headers] */
const json = (status, body, headers = {}) =>
  body === undefined ? new Response(null, { status, headers }) : Response.json(body, { status, headers });

/** @param {Request} request @param {string[]} allow */
function requireMethod(request, allow) {
  if (!allow.includes(request.method)) throw new HttpError(405, 'method_not_allowed', { Allow: allow.join(', ') });
}

/** @param {BackendOptions} [options] */
export function createBackend(options = {}) {
  const {
    base = '/api',
    mode = 'hardened',
    users = DEFAULT_USERS,
    latency = 0,
    log = console.log,
    now = Date.now,
    testRoutes = false,
    feedInterval = 2000,
    maxSocketsPerUser = 20,
  } = options;
  if (!(Number.isFinite(feedInterval) && feedInterval >= 0))
    throw new RangeError(`feedInterval must be a number of ms >= 0, not ${feedInterval}`);
  if (!(Number.isSafeInteger(maxSocketsPerUser) && maxSocketsPerUser > 0))
    throw new RangeError(`maxSocketsPerUser must be an integer > 0, not ${maxSocketsPerUser}`);
  const { maxKeys, ...loginThrottle } = options.loginThrottle ?? {};
  const store = options.store ?? memoryStore(maxKeys === undefined ? {} : { maxThrottleKeys: maxKeys });

  /** @param {unknown} id */
  const findUserById = (id) => users.find((u) => String(u.user_id) === String(id));

  /** jti → ms until which it stays revoked (its exp plus the clock leeway), for "expire my token now". @type {Map<string, number>} */
  const revokedJtis = new Map();
  let lastJtiSweep = now();
  /** @param {string} jti */
  function isJtiRevoked(jti) {
    const t = now();
    if (t - lastJtiSweep >= 60_000) {
      lastJtiSweep = t;
      for (const [id, until] of revokedJtis) if (until <= t) revokedJtis.delete(id);
    }
    const until = revokedJtis.get(jti);
    return until !== undefined && until > t;
  }

  /** @type {Record<string, import('../../src/server/auth-server.js').Route>} */
  const routes = {};
  const auth = createAuthServer({
    basePath: base,
    store,
    mode,
    accessTokenTtl: options.accessTtl ?? 60,
    sessionTtl: options.refreshTtl ?? 8 * 3600,
    idleTtl: options.idleTtl ?? 3600,
    gracePeriod: (options.graceMs ?? 5000) / 1000,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.keys === undefined ? {} : { keys: options.keys }),
    issuer: options.issuer ?? 'auth-shell-demo',
    audience: options.audience ?? 'auth-shell-demo-api',
    allowedOrigins: options.allowedOrigins ?? [],
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    sendExpiresIn: options.sendExpiresIn ?? true,
    secure: options.secure ?? 'auto',
    ...(options.cookiePath === undefined ? {} : { cookiePath: options.cookiePath }),
    ...(options.sidCookie === undefined ? {} : { sidCookie: options.sidCookie }),
    loginThrottle,
    trustProxy: options.trustProxy ?? false,
    maxSessionsPerUser: options.maxFamiliesPerUser ?? 10,
    maxTicketsPerToken: options.maxTicketsPerToken ?? 10,
    ticketTtl: options.ticketTtl ?? 30,
    ...(options.storeTimeout === undefined ? {} : { storeTimeout: options.storeTimeout }),
    ...(options.cleanupInterval === undefined ? {} : { cleanupInterval: options.cleanupInterval }),
    log,
    now,
    routes,
    // The demo's users, compared in constant time (a real app keeps hashes: see checkPassword).
    verifyPassword: (login, pass) => {
      const user = users.find((u) => u.login === login);
      const ok = timingSafeEqual(digest(user ? user.pass : randomBytes(16).toString('hex')), digest(pass));
      return ok && user ? { id: user.user_id, user } : null;
    },
    claims: ({ user }) => {
      const u = /** @type {User} */ (user);
      return { user_id: u.user_id, role: u.role, name: u.name };
    },
    // A token revoked by /expire-token, or of a user who no longer exists, is refused everywhere.
    checkClaims: (claims) =>
      !(typeof claims.jti === 'string' && isJtiRevoked(claims.jti)) && findUserById(claims.sub) !== undefined,
  });

  // ---- sockets -------------------------------------------------------------------------------

  const socketStats = { socketsOpened: 0, socketsClosed: 0 };
  let socketsAttached = false;
  const prefix = base === '/' ? '' : base;
  const hub = createSocketHub({
    base: prefix,
    feedInterval,
    maxSocketsPerUser,
    testRoutes,
    log,
    now,
    stats: socketStats,
    isAllowedHost: (req) => auth.isAllowedHost(toWebRequest(req)),
    isAllowedOrigin: (req) => auth.isAllowedOrigin(toWebRequest(req)),
    async checkToken(token) {
      try {
        const payload = await auth.verifyToken(token);
        const user = findUserById(payload.sub);
        return user ? { ok: true, payload, user } : { ok: false, payload };
      } catch (error) {
        const claims = /** @type {{ claims?: import('jose').JWTPayload }} */ (error).claims;
        return claims ? { ok: false, payload: claims } : { ok: false };
      }
    },
    redeemTicket: (ticket) => auth.redeemTicket(ticket),
    isJtiRevoked,
    isSessionRevoked: (sid) => auth.isSessionRevoked(sid),
    findUserById,
  });
  auth.onSessionRevoked((sid) => void hub.closeSid(sid, CLOSE.UNAUTHORIZED, 'session revoked'));

  // ---- the demo's routes ---------------------------------------------------------------------

  /** The user and claims of a valid Bearer token, or a 401 thrown. @param {Request} request */
  async function authenticate(request) {
    const payload = await auth.verify(request);
    return { payload, user: /** @type {User} */ (findUserById(payload.sub)) };
  }

  routes['/me'] = async (request) => {
    requireMethod(request, ['GET']);
    const { user } = await authenticate(request);
    return json(200, { user_id: user.user_id, role: user.role, name: user.name, login: user.login });
  };

  routes['/admin'] = async (request) => {
    requireMethod(request, ['GET']);
    const { user } = await authenticate(request);
    if (user.role !== 'admin') return json(403, { error: 'forbidden' });
    return json(200, { secret: 'The admin-only demo secret: 42.' });
  };

  // The socket itself is served by attachWebSocket(); a plain request gets 426.
  routes['/ws'] = async () => json(426, { error: 'upgrade_required' }, { Upgrade: 'websocket', Connection: 'Upgrade' });

  /** "Expire my token now": revokes this access token (jti) and closes the sockets opened with it. */
  routes['/expire-token'] = async (request) => {
    requireMethod(request, ['POST']);
    const { payload } = await authenticate(request);
    const { jti, exp } = payload;
    if (typeof jti !== 'string' || typeof exp !== 'number') return json(400, { error: 'invalid_request' });
    revokedJtis.set(jti, (exp + CLOCK_TOLERANCE_S) * 1000);
    hub.closeJti(jti, CLOSE.UNAUTHORIZED, 'token expired');
    return json(204);
  };

  // The micro-frontend demo's APIs (demo/mfe/): GET {base}/mfe/orders | profile | news, Bearer only.
  for (const [name, items] of Object.entries(MFE_ITEMS)) {
    routes[`/mfe/${name}`] = async (request) => {
      requireMethod(request, ['GET']);
      const { user } = await authenticate(request);
      const { user_id, name: userName, role } = user;
      return json(200, { name, user: { user_id, name: userName, role }, items });
    };
  }

  // ---- test routes ---------------------------------------------------------------------------

  /** sid → how many of its next successful refreshes are answered by dropping the connection. @type {Map<string, number>} */
  const dropAfterRotate = new Map();
  /** sid → what happens to its next logouts: dropped unheard, refused with a status, or held. */
  /** @type {Map<string, { times: number, drop: boolean, delay: number, status: number }>} */
  const logoutFaults = new Map();
  const stats = () => ({ ...auth.stats, ...(socketsAttached ? socketStats : {}) });

  if (testRoutes) {
    routes['/_stats'] = async (request) => {
      requireMethod(request, ['GET']);
      return json(200, stats());
    };
    /** The caller's session (by its refresh cookie), or a 404 thrown. @param {Request} request */
    const ownSession = async (request) => {
      const session = await auth.findSession(request);
      if (!session) throw new HttpError(404, 'no_family');
      return session;
    };
    // Scoped to the caller's own session, so test files running side by side do not interfere.
    routes['/_faults/drop-next-refresh'] = async (request) => {
      requireMethod(request, ['POST']);
      const { sid } = await ownSession(request);
      const times = Number(new URL(request.url).searchParams.get('times') ?? 1);
      dropAfterRotate.set(sid, Number.isInteger(times) && times > 0 ? times : 1);
      return json(204);
    };
    // The next logouts of the caller's session: ?drop (the connection closes before the server hears
    // it: nothing is revoked), ?status=403 (answered so, nothing revoked) or ?delay=ms (held, then
    // handled); ?times=N (default 1).
    routes['/_faults/next-logout'] = async (request) => {
      requireMethod(request, ['POST']);
      const { sid } = await ownSession(request);
      const params = new URL(request.url).searchParams;
      const times = Number(params.get('times') ?? 1);
      const delay = Number(params.get('delay') ?? 0);
      const status = Number(params.get('status') ?? 0);
      logoutFaults.set(sid, {
        times: Number.isInteger(times) && times > 0 ? times : 1,
        drop: params.has('drop'),
        delay: Number.isFinite(delay) && delay >= 0 ? Math.min(delay, 10_000) : 0,
        status: Number.isInteger(status) && status >= 400 && status < 600 ? status : 0,
      });
      return json(204);
    };

    // Socket test routes, scoped by the session id (`sid` claim) of the caller's own tokens.
    /** @param {Request} request */
    const wsParams = (request) => {
      const params = new URL(request.url).searchParams;
      const sid = params.get('sid');
      if (!sid) throw new HttpError(400, 'invalid_request');
      return { params, sid };
    };
    /** @param {string | null} raw */
    const closeCode = (raw) => {
      const code = Number(raw);
      if (raw === null || !isInjectableCode(code)) throw new HttpError(400, 'invalid_code');
      return code;
    };
    routes['/_ws/log'] = async (request) => {
      requireMethod(request, ['GET']);
      return json(200, hub.records(wsParams(request).sid));
    };
    routes['/_ws/close'] = async (request) => {
      requireMethod(request, ['POST']);
      const { params, sid } = wsParams(request);
      const code = closeCode(params.get('code'));
      const reason = params.get('reason') ?? '';
      if (Buffer.byteLength(reason) > 123) throw new HttpError(400, 'reason_too_long');
      return json(200, { closed: hub.closeSid(sid, code, reason) });
    };
    routes['/_ws/fault'] = async (request) => {
      requireMethod(request, ['POST', 'DELETE']);
      const { params, sid } = wsParams(request);
      if (request.method === 'DELETE') {
        hub.clearFault(sid);
        return json(204);
      }
      const code = closeCode(params.get('code'));
      const rawTimes = params.get('times');
      const times = rawTimes === null ? Infinity : Number(rawTimes);
      if (!(times === Infinity || (Number.isInteger(times) && times > 0))) throw new HttpError(400, 'invalid_times');
      hub.setFault(sid, code, times);
      return json(204);
    };
  }

  /**
   * A pending logout fault of this request's session, applied: true when the request was answered
   * (dropped or refused), false to go on (after any delay).
   * @param {Req} req @param {Res} res @param {Request} request
   */
  async function logoutFault(req, res, request) {
    const methods = mode === 'hardened' ? ['POST'] : ['GET', 'POST'];
    if (!methods.includes(request.method) || (mode === 'hardened' && !request.headers.get('x-requested-with')))
      return false;
    const session = await auth.findSession(request);
    const fault = session && logoutFaults.get(session.sid);
    if (!session || !fault) return false;
    if (--fault.times === 0) logoutFaults.delete(session.sid);
    if (fault.drop) {
      // Cut off after the answer began: a network error the client cannot mistake for an answer, and
      // one no browser retries on its own (they resend a request whose connection closed before any
      // byte of an answer).
      res.writeHead(200, { 'Content-Length': '64' });
      res.write('{');
      setTimeout(() => req.socket.destroy(), 10);
      return true;
    }
    if (fault.status) {
      const origin = request.headers.get('origin');
      /** @type {Record<string, string>} */
      const cors =
        origin !== null && (options.allowedOrigins ?? []).includes(origin)
          ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' }
          : {};
      await writeNodeResponse(
        res,
        json(fault.status, { error: 'fault' }, { 'Cache-Control': 'no-store', Vary: 'Origin', ...cors }),
      );
      return true;
    }
    await sleep(fault.delay);
    return false;
  }

  // ---- Node and Koa ---------------------------------------------------------------------------

  const refreshPath = `${prefix}/refresh`;
  const logoutPath = `${prefix}/logout`;

  /**
   * Handles the request if its path is under `base`; resolves false (writing nothing) otherwise.
   * @param {Req} req @param {Res} res
   * @returns {Promise<boolean>}
   */
  async function handle(req, res) {
    const path = pathOf(req.url ?? '/');
    if (!auth.owns(path)) return false;
    try {
      if (latency > 0) await sleep(latency);
      const request = toWebRequest(req);
      if (testRoutes && path === logoutPath && logoutFaults.size > 0 && (await logoutFault(req, res, request)))
        return true;
      // Fault injection (tests): the server rotates, but its answer never reaches the client.
      const dropping =
        testRoutes && path === refreshPath && dropAfterRotate.size > 0 ? await auth.findSession(request) : null;
      const response = await auth.handle(request, { clientAddress: req.socket.remoteAddress });
      const drops = dropping && response.status === 200 ? (dropAfterRotate.get(dropping.sid) ?? 0) : 0;
      if (dropping && drops > 0) {
        if (drops === 1) dropAfterRotate.delete(dropping.sid);
        else dropAfterRotate.set(dropping.sid, drops - 1);
        req.socket.destroy();
        return true;
      }
      await writeNodeResponse(res, response);
      if (!req.readableEnded) req.resume();
    } catch (err) {
      log(`backend error on ${req.method} ${path}: ${err instanceof Error ? err.name : 'unknown'}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"server_error"}');
      else res.destroy();
    }
    return true;
  }

  /** Koa-style middleware for @web/dev-server and @web/test-runner. */
  const middleware = async (/** @type {any} */ ctx, /** @type {() => Promise<unknown>} */ next) => {
    if (await handle(ctx.req, ctx.res)) {
      ctx.respond = false;
      return;
    }
    await next();
  };

  return {
    handle,
    middleware,
    /** A snapshot of the counters (auth-shell/server's, and the socket ones once attached). */
    get stats() {
      return /** @type {Stats} */ (stats());
    },
    base,
    mode,
    /** The auth-shell/server instance underneath. */
    auth,
    /** The refresh cookie's name where it is Secure (`rt` with `secure: false`). */
    cookieName: auth.cookieName,
    sidCookieName: auth.sidCookieName,
    /** @param {Record<string, unknown>} claims @param {{ ttl?: number }} [opts] */
    signAccessToken: (claims, opts) => auth.signAccessToken(claims, opts),
    /** Resolves the claims of a valid, unrevoked access token or rejects. @param {string} token */
    verifyAccessToken: (token) => auth.verifyToken(token),
    /**
     * Serves `{base}/ws` on a Node http server (`server.on('upgrade')`, other paths untouched).
     * Returns detach(), which stops listening and closes this server's sockets with 1001.
     * @param {import('node:http').Server} server
     */
    attachWebSocket(server) {
      socketsAttached = true;
      return hub.attach(server);
    },
    /** Called with (sid, userId, reason) when a session is revoked (its sockets are already closing). */
    onSessionRevoked: auth.onSessionRevoked,
    /** Revokes every session of a user (closing their sockets); resolves how many. @param {number} userId */
    revokeUser: (userId) => auth.revokeUser(userId),
    findUserById,
    /** Stops the store's cleanup timer and closes the store. */
    close: () => auth.close(),
  };
}
