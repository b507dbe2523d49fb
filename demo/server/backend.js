// @ts-check
/**
 * Reference backend for auth-shell: login, refresh-token rotation in an HttpOnly cookie, logout,
 * Bearer-protected APIs (/me, /admin, /mfe/:name) and an authenticated WebSocket. Plain Node; mounts on an http server or
 * as Koa middleware (@web/dev-server, @web/test-runner). See README.md next to this file.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { CLOCK_TOLERANCE_S, signAccessToken as signJwt, verifyAccessToken as verifyJwt } from './access-token.js';
import { createRefreshStore } from './refresh-store.js';
import { createLoginThrottle } from './login-throttle.js';
import { HttpError, mediaType, parseCookies, parseHost, readBody, redactUrl, serializeCookie } from './http-utils.js';
import { CLOSE, createSocketHub, isInjectableCode } from './sockets.js';

export { signAccessToken, verifyAccessToken } from './access-token.js';

/**
 * @typedef {{ login: string, pass: string, user_id: number, role: string, name: string }} User
 *
 * @typedef {object} BackendOptions
 * @property {string} [base] path prefix of every route (default '/api'; '/' serves the routes at the root)
 * @property {'hardened' | 'seed'} [mode] default 'hardened'
 * @property {number} [accessTtl] seconds (default 60)
 * @property {number} [refreshTtl] absolute lifetime of a refresh-token family, seconds (default 8 h)
 * @property {number} [idleTtl] seconds a refresh token may sit unused (default 1 h)
 * @property {number} [graceMs] reuse window of the immediately previous refresh token (default 5000)
 * @property {Uint8Array | string} [secret] HMAC key (default: 32 random bytes per backend)
 * @property {string} [issuer] default 'auth-shell-demo'
 * @property {string} [audience] default 'auth-shell-demo-api'
 * @property {User[]} [users] default alice/alice, bob/bob, admin/admin
 * @property {string[]} [allowedOrigins] exact origins allowed for credentialed CORS
 * @property {string[]} [allowedHosts] Host names (any port) or `name:port` this backend answers to; anything
 *   else gets 421 (DNS rebinding). Default localhost, 127.0.0.1, [::1]; the hosts of allowedOrigins are always added
 * @property {boolean} [sendExpiresIn] include expires_in in token responses (default true)
 * @property {number} [latency] ms to wait before every response (default 0)
 * @property {boolean | 'auto'} [secure] `Secure` refresh cookie with a `__Secure-` or `__Host-` name: always,
 *   never, or ('auto', the default) unless the request's Host is localhost, 127.0.0.1 or [::1] over plain http
 * @property {string} [cookiePath] `Path` of the refresh cookie: `base` (default) or a path prefix of it;
 *   '/' makes the Secure cookie a `__Host-` one
 * @property {import('./login-throttle.js').LoginThrottleOptions} [loginThrottle] failed-login limits per account
 *   and per client (defaults: 5 per account, 20 per client in 15 min, then locked 15 min; 10000 keys tracked)
 * @property {boolean} [trustProxy] take the client address for the login throttle from the last
 *   X-Forwarded-For entry (default false: the connection's address)
 * @property {(line: string) => void} [log] one line per request (default console.log)
 * @property {() => number} [now] clock in ms (default Date.now)
 * @property {boolean} [testRoutes] enable GET {base}/_stats, the fault routes and the socket test routes (default false)
 * @property {number} [feedInterval] ms between `tick` messages on a socket; 0 disables (default 2000)
 * @property {number} [ticketTtl] lifetime of a socket ticket, s, > 0 and <= 60 (default 30)
 * @property {number} [maxFamiliesPerUser] live refresh families (sessions) per user; a login beyond it
 *   revokes the user's oldest with reason 'evicted' (default 10)
 * @property {number} [maxTicketsPerToken] unused, unexpired socket tickets per access token; beyond → 429 (default 10)
 * @property {number} [maxSocketsPerUser] open sockets per user; beyond, the handshake closes 1013 (default 20)
 * @property {string | false} [sidCookie] name of the readable session-id cookie set beside the refresh cookie
 *   (default 'auth-shell-sid'; false: none)
 *
 * @typedef {{ logins: number, refreshes: number, rotations: number, graceHits: number,
 *   reuseDetections: number, revokedFamilies: number, logouts: number, ambiguousCookies: number,
 *   socketsOpened?: number, socketsClosed?: number }} Stats
 *   The socket counters appear once attachWebSocket() has been called.
 *
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').ServerResponse} Res
 * @typedef {(familyId: string, userId: number, reason: string) => void} FamilyRevokedListener
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

const BODY_LIMIT = 10 * 1024;
/** Host names of this machine: the default allow-list, and where the refresh cookie may go without `Secure` ('auto'). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Every form of the refresh cookie's name: more than one of them in a request is ambiguous. */
const REFRESH_COOKIE_NAMES = new Set(['rt', '__Secure-rt', '__Host-rt']);
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** @param {string} s */
const digest = (s) => createHash('sha256').update(s).digest();

/**
 * Host name → the ports allowed with it ('' = any port), from `name` and `name:port` entries plus
 * the host names of the allowed origins (any port).
 * @param {string[]} entries @param {Set<string>} origins
 */
function hostAllowList(entries, origins) {
  /** @type {Map<string, Set<string>>} */
  const list = new Map();
  const add = (/** @type {string} */ hostname, /** @type {string} */ port) => {
    const ports = list.get(hostname) ?? new Set();
    list.set(hostname, ports.add(port));
  };
  for (const entry of entries) {
    const host = typeof entry === 'string' ? parseHost(entry) : undefined;
    if (!host) throw new TypeError(`allowedHosts: not a host name or name:port: ${entry}`);
    add(host.hostname, host.port);
  }
  for (const origin of origins) {
    /** @type {URL | undefined} */
    let url;
    try {
      url = new URL(origin);
    } catch {
      continue; // not an origin with a host (e.g. 'null'): nothing to add
    }
    if (url.hostname) add(url.hostname.toLowerCase(), '');
  }
  return list;
}

/** @param {BackendOptions} [options] */
export function createBackend(options = {}) {
  const {
    base = '/api',
    mode = 'hardened',
    accessTtl = 60,
    refreshTtl = 8 * 3600,
    idleTtl = 3600,
    graceMs = 5000,
    secret = randomBytes(32),
    issuer = 'auth-shell-demo',
    audience = 'auth-shell-demo-api',
    users = DEFAULT_USERS,
    sendExpiresIn = true,
    latency = 0,
    secure = 'auto',
    log = console.log,
    now = Date.now,
    testRoutes = false,
    feedInterval = 2000,
    ticketTtl = 30,
    trustProxy = false,
    maxFamiliesPerUser = 10,
    maxTicketsPerToken = 10,
    maxSocketsPerUser = 20,
  } = options;
  if (mode !== 'hardened' && mode !== 'seed') throw new TypeError(`unknown mode: ${mode}`);
  if (!(Number.isFinite(feedInterval) && feedInterval >= 0))
    throw new RangeError(`feedInterval must be a number of ms >= 0, not ${feedInterval}`);
  if (!(Number.isFinite(ticketTtl) && ticketTtl > 0 && ticketTtl <= 60))
    throw new RangeError(`ticketTtl must be > 0 and <= 60 s, not ${ticketTtl}`);
  for (const [name, value] of Object.entries({ maxFamiliesPerUser, maxTicketsPerToken, maxSocketsPerUser })) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new RangeError(`${name} must be an integer > 0, not ${value}`);
  }
  if (secure !== 'auto' && typeof secure !== 'boolean')
    throw new TypeError(`secure must be true, false or 'auto', not ${secure}`);
  // The base ends up in the cookie's Path attribute: no room for ';' or spaces.
  if (base !== '/' && !/^(?:\/[\w.~!$&'()*+,=:@%-]+)+$/.test(base))
    throw new TypeError(`base must be '/' or a path like '/api', not ${base}`);
  /** What request paths start with: '' for base '/'. */
  const prefix = base === '/' ? '' : base;
  const cookiePath = options.cookiePath ?? (prefix || '/');
  // The cookie must reach {base}/refresh and {base}/logout, so its Path is base or a prefix of it.
  if (!(cookiePath === '/' || cookiePath === prefix || prefix.startsWith(`${cookiePath}/`))) {
    throw new TypeError(`cookiePath must be '/' or a path prefix of base (${base}), not ${cookiePath}`);
  }
  const hardened = mode === 'hardened';
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const allowedHosts = hostAllowList(options.allowedHosts ?? [...LOOPBACK_HOSTS], allowedOrigins);
  /** The strongest prefix the path allows: `__Host-` needs Path=/ (and Secure, no Domain). */
  const secureCookieName = cookiePath === '/' ? '__Host-rt' : '__Secure-rt';
  const sidCookieName = options.sidCookie === undefined ? 'auth-shell-sid' : options.sidCookie;
  const keyOpts = { secret, issuer, audience, now };
  const throttle = createLoginThrottle(options.loginThrottle, now);

  /** @type {Stats} */
  const stats = {
    logins: 0,
    refreshes: 0,
    rotations: 0,
    graceHits: 0,
    reuseDetections: 0,
    revokedFamilies: 0,
    logouts: 0,
    ambiguousCookies: 0,
  };
  const store = createRefreshStore({ refreshTtl, idleTtl, graceMs, now });
  /** @type {Set<FamilyRevokedListener>} */
  const revokeListeners = new Set();
  store.onFamilyRevoked((family, reason) => {
    stats.revokedFamilies++;
    hub.closeSid(family.sid, CLOSE.UNAUTHORIZED, 'session revoked');
    for (const listener of revokeListeners) listener(family.id, family.userId, reason);
  });

  // ---- users ---------------------------------------------------------------------------------

  /** @param {number} id */
  const findUserById = (id) => users.find((u) => u.user_id === id);

  /**
   * The client's address for the login throttle. X-Forwarded-For is anyone's to write, so it
   * counts only with `trustProxy`, and then only its last entry: the one your proxy appended.
   * @param {Req} req
   */
  function clientAddress(req) {
    const direct = req.socket.remoteAddress ?? '';
    if (!trustProxy) return direct;
    const forwarded =
      String(req.headers['x-forwarded-for'] ?? '')
        .split(',')
        .at(-1)
        ?.trim() ?? '';
    return isIP(forwarded) ? forwarded : direct;
  }

  /** Constant-time in the password; always compares, even for an unknown login. */
  function checkCredentials(/** @type {string} */ login, /** @type {string} */ pass) {
    const user = users.find((u) => u.login === login);
    const ok = timingSafeEqual(digest(user ? user.pass : randomBytes(16).toString('hex')), digest(pass));
    return ok && user ? user : undefined;
  }

  // ---- tokens --------------------------------------------------------------------------------

  /** @param {Record<string, unknown>} claims @param {{ ttl?: number, secret?: Uint8Array | string, issuer?: string, audience?: string, now?: () => number }} [opts] */
  const signAccessToken = (claims, opts = {}) => signJwt(claims, { ...keyOpts, ttl: accessTtl, ...opts });

  /** `sid` is the family's opaque session id: the same for every token of one login. @param {User} user @param {import('./refresh-store.js').Family} family */
  const accessTokenFor = (user, family) =>
    signAccessToken({
      sub: String(user.user_id),
      user_id: user.user_id,
      role: user.role,
      name: user.name,
      sid: family.sid,
    });

  /** @param {User} user @param {import('./refresh-store.js').Family} family */
  async function tokenBody(user, family) {
    /** @type {Record<string, unknown>} */
    const body = { access_token: await accessTokenFor(user, family), token_type: 'Bearer' };
    if (sendExpiresIn) body.expires_in = accessTtl;
    return body;
  }

  /**
   * Whether this request's refresh cookie is `Secure`. With 'auto' it is, unless the request came
   * over plain http to a loopback name: browsers drop `Secure` cookies set over http except on
   * localhost, and a loopback name means a developer's machine. Any other Host is a deployment,
   * usually behind a TLS-terminating proxy that talks plain http to this server, so `Secure` stays.
   * @param {Req} req
   */
  function isSecure(req) {
    if (secure !== 'auto') return secure;
    if (/** @type {{ encrypted?: boolean }} */ (req.socket).encrypted) return true;
    const host = parseHost(req.headers.host);
    return !(host && LOOPBACK_HOSTS.has(host.hostname));
  }

  /** @param {Req} req */
  const cookieNameFor = (req) => (isSecure(req) ? secureCookieName : 'rt');

  /**
   * The readable session-id cookie beside the refresh cookie: the family's sid (the tokens' `sid`
   * claim), not HttpOnly, for every path of the site, so each tab can tell which session the
   * browser holds. None when `sidCookie` is false.
   * @param {Req} req @param {string} sid @param {number} maxAge
   */
  const sidCookie = (req, sid, maxAge) =>
    sidCookieName
      ? [
          `${sidCookieName}=${sid}; SameSite=Strict; Path=/; Max-Age=${Math.max(0, maxAge)}${isSecure(req) ? '; Secure' : ''}`,
        ]
      : [];
  /** @param {Req} req @param {string} token @param {import('./refresh-store.js').Family} family */
  const refreshCookie = (req, token, family) => {
    const maxAge = Math.ceil((family.expiresAt - now()) / 1000);
    return [
      serializeCookie(cookieNameFor(req), token, { path: cookiePath, secure: isSecure(req), maxAge }),
      ...sidCookie(req, family.sid, maxAge),
    ];
  };
  /** @param {Req} req */
  const clearCookie = (req) => [
    serializeCookie(cookieNameFor(req), '', { path: cookiePath, secure: isSecure(req), maxAge: 0 }),
    ...sidCookie(req, '', 0),
  ];

  /**
   * The refresh token of a request. A request carrying more than one refresh cookie (the same name
   * twice, or two forms of it) is ambiguous: a sibling subdomain or a network attacker can plant
   * (toss) a cookie of that name for a longer path or a parent domain, which the browser then sends
   * alongside, even first. Which one the user got from us cannot be told from the header, so
   * neither is used.
   * @param {Req} req
   * @returns {{ ambiguous: false, token: string | undefined } | { ambiguous: true, names: string[] }}
   */
  function readRefreshCookie(req) {
    const found = parseCookies(req.headers.cookie).filter((c) => REFRESH_COOKIE_NAMES.has(c.name));
    if (found.length > 1) return { ambiguous: true, names: [...new Set(found.map((c) => c.name))] };
    // One cookie, but of another form than this request's (say a plain `rt` where `__Secure-rt` is
    // expected): not read, or anyone able to set a plain cookie could choose the session.
    return { ambiguous: false, token: found[0]?.name === cookieNameFor(req) ? found[0].value : undefined };
  }

  /**
   * Answers a request with ambiguous refresh cookies: 401 invalid_grant, like any unusable cookie,
   * and nothing rotated or revoked (revoking would let whoever tossed a cookie end sessions).
   * The cookies this backend could have set are cleared; a tossed one (another Domain or Path)
   * cannot be reached from here and stays until it expires.
   * @param {Req} req @param {Res} res @param {string[]} names
   */
  function refuseAmbiguous(req, res, names) {
    stats.ambiguousCookies++;
    const clears = new Set(clearCookie(req));
    for (const name of names) {
      const path = name === '__Host-rt' ? '/' : cookiePath;
      clears.add(serializeCookie(name, '', { path, secure: name !== 'rt' || isSecure(req), maxAge: 0 }));
    }
    send(res, 401, { error: 'invalid_grant' }, { 'Set-Cookie': [...clears] });
  }

  /** jti → ms until which it stays revoked (its exp plus the clock leeway). @type {Map<string, number>} */
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

  /**
   * Signature, claims, revoked jti and a known user. On failure, `payload` is set only when the
   * signature verified (jose reports claim failures with the payload), so it can be trusted.
   * @param {string} token
   * @returns {Promise<import('./sockets.js').TokenCheck & { user?: User }>}
   */
  async function checkToken(token) {
    /** @type {import('jose').JWTPayload} */
    let payload;
    try {
      payload = await verifyJwt(token, keyOpts);
    } catch (err) {
      const verified = /** @type {{ payload?: unknown }} */ (err)?.payload;
      return {
        ok: false,
        payload:
          verified && typeof verified === 'object' ? /** @type {import('jose').JWTPayload} */ (verified) : undefined,
      };
    }
    if (typeof payload.jti === 'string' && isJtiRevoked(payload.jti)) return { ok: false, payload };
    const user = findUserById(Number(payload.sub));
    return user ? { ok: true, payload, user } : { ok: false, payload };
  }

  /** The user and claims of a valid Bearer access token, or undefined. @param {Req} req */
  async function authenticate(req) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    const check = await checkToken(match[1]);
    return check.ok ? { user: /** @type {User} */ (check.user), payload: check.payload } : undefined;
  }

  // ---- request checks ------------------------------------------------------------------------

  /**
   * DNS rebinding defence: a page on an attacker's name that resolves (after a first lookup) to
   * this server is same-origin with it in the browser, so CORS and the Origin checks pass; its
   * requests still carry the attacker's name in `Host`. Only names this backend is reached at pass.
   * @param {Req} req
   */
  function isAllowedHost(req) {
    const host = parseHost(req.headers.host);
    const ports = host && allowedHosts.get(host.hostname);
    return Boolean(ports && host && (ports.has('') || ports.has(host.port)));
  }

  /** Origins this server is reached at, from the Host header and the connection's protocol. @param {Req} req */
  function isOwnOrigin(req, /** @type {string} */ origin) {
    const host = req.headers.host?.toLowerCase();
    if (!host) return false;
    const encrypted = /** @type {{ encrypted?: boolean }} */ (req.socket).encrypted;
    return origin === `${encrypted ? 'https' : 'http'}://${host}` || (isSecure(req) && origin === `https://${host}`);
  }

  /** Hardened CSRF defence: custom header + Origin / Sec-Fetch-Site. @param {Req} req */
  function csrfCheck(req) {
    if (!hardened) return;
    if (!req.headers['x-requested-with']) throw new HttpError(403, 'csrf_header_required');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && allowedOrigins.has(origin);
    if (req.headers['sec-fetch-site'] === 'cross-site' && !allowed) throw new HttpError(403, 'cross_site_request');
    if (origin !== undefined && !allowed && !isOwnOrigin(req, origin)) throw new HttpError(403, 'origin_not_allowed');
  }

  // ---- sockets -------------------------------------------------------------------------------

  const hub = createSocketHub({
    base: prefix,
    feedInterval,
    ticketTtl,
    maxTicketsPerToken,
    maxSocketsPerUser,
    testRoutes,
    log,
    now,
    stats: /** @type {Record<string, number>} */ (/** @type {unknown} */ (stats)),
    isAllowedHost,
    isAllowedOrigin: (req, origin) => allowedOrigins.has(origin) || isOwnOrigin(req, origin),
    checkToken,
    isJtiRevoked,
    isSessionRevoked: (sid) => Boolean(store.findFamilyBySid(sid)?.revoked),
    findUserById,
  });

  // ---- responses -----------------------------------------------------------------------------

  /**
   * @param {Res} res @param {number} status @param {unknown} [body]
   * @param {Record<string, string | string[]>} [headers]
   */
  function send(res, status, body, headers = {}) {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (body === undefined) {
      res.writeHead(status).end();
    } else {
      const json = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
      res.end(json);
    }
  }

  /** @param {Req} req @param {string[]} allow */
  function requireMethod(req, allow) {
    if (!allow.includes(req.method ?? '')) throw new HttpError(405, 'method_not_allowed', { Allow: allow.join(', ') });
  }

  const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

  // ---- routes --------------------------------------------------------------------------------

  const sessionMethods = hardened ? ['POST'] : ['GET', 'POST'];

  /** @type {Record<string, (req: Req, res: Res) => Promise<void>>} */
  const routes = {
    async '/login'(req, res) {
      requireMethod(req, ['POST']);
      csrfCheck(req);
      if (mediaType(req.headers['content-type']) !== 'application/json')
        throw new HttpError(415, 'unsupported_media_type');
      const raw = await readBody(req, BODY_LIMIT);
      /** @type {any} */
      let body;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid_request');
      }
      if (typeof body?.login !== 'string' || typeof body?.pass !== 'string')
        throw new HttpError(400, 'invalid_request');
      const attempt = { login: body.login, client: clientAddress(req) };
      // Locked: answered before the password is looked at, so a right guess looks like a wrong one.
      const wait = throttle.retryAfter(attempt);
      if (wait > 0) throw new HttpError(429, 'too_many_attempts', { 'Retry-After': String(Math.ceil(wait / 1000)) });
      const user = checkCredentials(body.login, body.pass);
      if (!user) {
        throttle.failed(attempt);
        return send(res, 401, { error: 'invalid_credentials' });
      }
      throttle.succeeded(attempt);
      const { token, family } = store.createFamily(user.user_id);
      // A login always succeeds; the user's oldest sessions make room (their sockets close too).
      store.limitUser(user.user_id, maxFamiliesPerUser, 'evicted');
      stats.logins++;
      send(res, 200, await tokenBody(user, family), { 'Set-Cookie': refreshCookie(req, token, family) });
    },

    async '/refresh'(req, res) {
      requireMethod(req, sessionMethods);
      csrfCheck(req);
      stats.refreshes++;
      const cookie = readRefreshCookie(req);
      if (cookie.ambiguous) return refuseAmbiguous(req, res, cookie.names);
      const result = store.use(cookie.token);
      const user = result.ok ? findUserById(result.family.userId) : undefined;
      if (!result.ok || !user) {
        if (!result.ok && result.reason === 'reuse') stats.reuseDetections++;
        return send(res, 401, { error: 'invalid_grant' }, { 'Set-Cookie': clearCookie(req) });
      }
      if (result.kind === 'rotated') stats.rotations++;
      else stats.graceHits++;
      const drops = dropAfterRotate.get(result.family.id) ?? 0;
      if (drops > 0) {
        // Fault injection (tests): the server rotated, but its answer never reaches the client.
        dropAfterRotate.set(result.family.id, drops - 1);
        req.socket.destroy();
        return;
      }
      send(res, 200, await tokenBody(user, result.family), {
        'Set-Cookie': refreshCookie(req, result.token, result.family),
      });
    },

    async '/logout'(req, res) {
      requireMethod(req, sessionMethods);
      csrfCheck(req);
      const cookie = readRefreshCookie(req);
      // The client treats a 401 on logout as "the server no longer knows the session": signed out.
      if (cookie.ambiguous) return refuseAmbiguous(req, res, cookie.names);
      // Fault injection (tests): the next logouts of a family are held, or never heard.
      const family = testRoutes ? store.findFamily(cookie.token) : undefined;
      const fault = family && logoutFaults.get(family.id);
      if (fault) {
        if (--fault.times === 0) logoutFaults.delete(family.id);
        if (fault.drop) {
          // Cut off after the answer began: a network error the client cannot mistake for an answer,
          // and one no browser retries on its own (they resend a request whose connection closed
          // before any byte of an answer).
          res.writeHead(200, { 'Content-Length': '64' });
          res.write('{');
          return void setTimeout(() => req.socket.destroy(), 10);
        }
        if (fault.status) return send(res, fault.status, { error: 'fault' });
        await new Promise((resolve) => setTimeout(resolve, fault.delay));
      }
      store.revokeByToken(cookie.token, 'logout');
      stats.logouts++;
      send(res, 204, undefined, { 'Set-Cookie': clearCookie(req) });
    },

    async '/me'(req, res) {
      requireMethod(req, ['GET']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      const { user } = auth;
      send(res, 200, { user_id: user.user_id, role: user.role, name: user.name, login: user.login });
    },

    async '/admin'(req, res) {
      requireMethod(req, ['GET']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      if (auth.user.role !== 'admin') return send(res, 403, { error: 'forbidden' });
      send(res, 200, { secret: 'The admin-only demo secret: 42.' });
    },

    // The socket itself is served by attachWebSocket(); a plain request gets 426.
    async '/ws'(req, res) {
      send(res, 426, { error: 'upgrade_required' }, { Upgrade: 'websocket', Connection: 'Upgrade' });
    },

    async '/ws-ticket'(req, res) {
      requireMethod(req, ['POST']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      send(res, 200, hub.mintTicket(auth.user, auth.payload));
    },

    /** "Expire my token now": revokes this access token (jti) and closes the sockets opened with it. */
    async '/expire-token'(req, res) {
      requireMethod(req, ['POST']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      const { jti, exp } = auth.payload;
      if (typeof jti !== 'string' || typeof exp !== 'number') return send(res, 400, { error: 'invalid_request' });
      revokedJtis.set(jti, (exp + CLOCK_TOLERANCE_S) * 1000);
      hub.closeJti(jti, CLOSE.UNAUTHORIZED, 'token expired');
      send(res, 204);
    },

    /** Revokes every refresh family of the caller (their sockets close through the revocation hook). */
    async '/logout-everywhere'(req, res) {
      requireMethod(req, ['POST']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      store.revokeUser(auth.user.user_id, 'revoked');
      send(res, 204, undefined, { 'Set-Cookie': clearCookie(req) });
    },
  };

  // The micro-frontend demo's APIs (demo/mfe/): GET {base}/mfe/orders | profile | news, Bearer only.
  // Any other name is an unknown route (404).
  for (const [name, items] of Object.entries(MFE_ITEMS)) {
    routes[`/mfe/${name}`] = async (req, res) => {
      requireMethod(req, ['GET']);
      const auth = await authenticate(req);
      if (!auth) return send(res, 401, { error: 'invalid_token' }, INVALID_TOKEN);
      const { user_id, name: userName, role } = auth.user;
      send(res, 200, { name, user: { user_id, name: userName, role }, items });
    };
  }

  /** Family id → how many of its next successful refreshes are answered by dropping the connection (testRoutes only). */
  /** @type {Map<string, number>} */
  const dropAfterRotate = new Map();
  /** Family id → what happens to its next logouts (testRoutes only): dropped unheard, or answered after `delay` ms. */
  /** @type {Map<string, { times: number, drop: boolean, delay: number, status: number }>} */
  const logoutFaults = new Map();

  if (testRoutes) {
    routes['/_stats'] = async (req, res) => {
      requireMethod(req, ['GET']);
      send(res, 200, stats);
    };
    // Scoped to the caller's own refresh family, so test files running side by side do not interfere.
    routes['/_faults/drop-next-refresh'] = async (req, res) => {
      requireMethod(req, ['POST']);
      const cookie = readRefreshCookie(req);
      const family = cookie.ambiguous ? undefined : store.findFamily(cookie.token);
      if (!family) return send(res, 404, { error: 'no_family' });
      const times = Number(new URL(req.url ?? '', 'http://x').searchParams.get('times') ?? 1);
      dropAfterRotate.set(family.id, Number.isInteger(times) && times > 0 ? times : 1);
      send(res, 204);
    };

    // The next logouts of the caller's family: ?drop (the connection closes before the server hears
    // it: nothing is revoked), ?status=403 (answered so, nothing revoked) or ?delay=ms (held, then
    // handled); ?times=N (default 1).
    routes['/_faults/next-logout'] = async (req, res) => {
      requireMethod(req, ['POST']);
      const cookie = readRefreshCookie(req);
      const family = cookie.ambiguous ? undefined : store.findFamily(cookie.token);
      if (!family) return send(res, 404, { error: 'no_family' });
      const params = new URL(req.url ?? '', 'http://x').searchParams;
      const times = Number(params.get('times') ?? 1);
      const delay = Number(params.get('delay') ?? 0);
      const status = Number(params.get('status') ?? 0);
      logoutFaults.set(family.id, {
        times: Number.isInteger(times) && times > 0 ? times : 1,
        drop: params.has('drop'),
        delay: Number.isFinite(delay) && delay >= 0 ? Math.min(delay, 10_000) : 0,
        status: Number.isInteger(status) && status >= 400 && status < 600 ? status : 0,
      });
      send(res, 204);
    };

    // Socket test routes, scoped by the session id (`sid` claim) of the caller's own tokens.
    /** @param {Req} req */
    const wsParams = (req) => {
      const params = new URL(req.url ?? '', 'http://x').searchParams;
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
    routes['/_ws/log'] = async (req, res) => {
      requireMethod(req, ['GET']);
      send(res, 200, hub.records(wsParams(req).sid));
    };
    routes['/_ws/close'] = async (req, res) => {
      requireMethod(req, ['POST']);
      const { params, sid } = wsParams(req);
      const code = closeCode(params.get('code'));
      const reason = params.get('reason') ?? '';
      if (Buffer.byteLength(reason) > 123) throw new HttpError(400, 'reason_too_long');
      send(res, 200, { closed: hub.closeSid(sid, code, reason) });
    };
    routes['/_ws/fault'] = async (req, res) => {
      requireMethod(req, ['POST', 'DELETE']);
      const { params, sid } = wsParams(req);
      if (req.method === 'DELETE') {
        hub.clearFault(sid);
        return send(res, 204);
      }
      const code = closeCode(params.get('code'));
      const rawTimes = params.get('times');
      const times = rawTimes === null ? Infinity : Number(rawTimes);
      if (!(times === Infinity || (Number.isInteger(times) && times > 0))) throw new HttpError(400, 'invalid_times');
      hub.setFault(sid, code, times);
      send(res, 204);
    };
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /** Headers of every response under base (no-store, Vary, CORS). @param {Req} req @param {Res} res */
  function commonHeaders(req, res) {
    for (const [name, value] of Object.entries(NO_STORE)) res.setHeader(name, value);
    res.setHeader('Vary', 'Origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const origin = req.headers.origin;
    if (origin === undefined || !allowedOrigins.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After');
    return true;
  }

  /** @param {Req} req @param {Res} res @param {string} path */
  async function dispatch(req, res, path) {
    const corsAllowed = commonHeaders(req, res);
    if (!isAllowedHost(req)) return send(res, 421, { error: 'host_not_allowed' });
    if (req.method === 'OPTIONS') {
      if (corsAllowed) {
        return send(res, 204, undefined, {
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Requested-With',
          'Access-Control-Max-Age': '600',
        });
      }
      if (req.headers.origin === undefined) return send(res, 204, undefined, { Allow: 'GET, POST, OPTIONS' });
      return send(res, 403, { error: 'origin_not_allowed' });
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return send(res, 404, { error: 'not_found' });
    try {
      await route(req, res);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      send(res, err.status, { error: err.code }, err.headers);
    }
  }

  /**
   * Handles the request if its path is under `base`; resolves false (writing nothing) otherwise.
   * @param {Req} req @param {Res} res
   * @returns {Promise<boolean>}
   */
  async function handle(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return false;
    const started = performance.now();
    res.once('close', () => {
      log(`${req.method} ${redactUrl(url)} ${res.statusCode} ${Math.round(performance.now() - started)}ms`);
    });
    try {
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      await dispatch(req, res, path.slice(prefix.length) || '/');
    } catch (err) {
      log(`backend error on ${req.method} ${redactUrl(url)}: ${err instanceof Error ? err.name : 'unknown'}`);
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
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
    stats,
    base,
    mode,
    /** The refresh cookie's name where it is Secure (`rt` with `secure: false`); `rt` on localhost with 'auto'. */
    cookieName: secure === false ? 'rt' : secureCookieName,
    signAccessToken,
    /** Resolves the payload of a valid, unrevoked access token or rejects. @param {string} token */
    async verifyAccessToken(/** @type {string} */ token) {
      const payload = await verifyJwt(token, keyOpts);
      if (typeof payload.jti === 'string' && isJtiRevoked(payload.jti)) throw new Error('access token revoked');
      return payload;
    },
    /**
     * Serves `{base}/ws` on a Node http server (`server.on('upgrade')`, other paths untouched).
     * Returns detach(), which stops listening and closes this server's sockets with 1001.
     */
    attachWebSocket: (/** @type {import('node:http').Server} */ server) => hub.attach(server),
    /** Called with (familyId, userId, reason) when a refresh family is revoked (its sockets are already closing). */
    onFamilyRevoked(/** @type {FamilyRevokedListener} */ listener) {
      revokeListeners.add(listener);
      return () => revokeListeners.delete(listener);
    },
    /** The live refresh family a refresh-token cookie value belongs to (for socket handshakes). */
    findFamilyByRefreshToken: (/** @type {string | undefined} */ token) => {
      const f = store.findFamily(token);
      return f && !f.revoked && f.expiresAt > now() ? { id: f.id, userId: f.userId } : undefined;
    },
    /** Revokes every refresh family of a user; returns how many. */
    revokeUser: (/** @type {number} */ userId) => store.revokeUser(userId, 'revoked'),
    findUserById,
  };
}
