// @ts-check
/**
 * `createAuthServer(options)`: the backend half of auth-shell's HTTP contract, Web-standard
 * (`Request` in, `Response` out), on any session store. `handle(request)` answers everything under
 * `basePath` — login, refresh, logout, logout-everywhere, ws-ticket, the JWKS — with every
 * protection of the reference backend; `verify(request)` checks the bearer token of your own API
 * routes. See "Running the backend" in the README.
 */
import { isIP } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import {
  ServiceUnavailableError,
  UnauthorizedError,
  isServiceUnavailableError,
  isUnauthorizedError,
} from './errors.js';
import {
  HttpError,
  mediaType,
  parseCookies,
  parseHost,
  readBody,
  redactUrl,
  respond,
  serializeCookie,
} from './http.js';
import { createKeyring } from './keys.js';
import { createLoginThrottle } from './login-throttle.js';
import { createSessions } from './refresh-tokens.js';
import { guardStore } from './store.js';
import { memoryStore } from './stores/memory.js';

/**
 * @typedef {{ id: string | number, [key: string]: unknown }} User what `verifyPassword` resolves
 * @typedef {import('jose').JWTPayload} Claims
 * @typedef {{ clientAddress?: string }} RequestInfo what the adapter knows beyond the Request:
 *   the connection's remote address, for the login throttle
 * @typedef {{ verify: (request: Request) => Promise<Claims>, clientAddress: string | undefined }} RouteContext
 * @typedef {(request: Request, ctx: RouteContext) => Response | Promise<Response>} Route
 * @typedef {(sid: string, userId: string, reason: string) => void} RevokeListener
 *
 * @typedef {object} AuthServerOptions
 * @property {string} [basePath] prefix of every route (default '/api'; '/' serves them at the root)
 * @property {import('./store.js').Store} [store] default memoryStore(): sessions end with the process
 * @property {(login: string, pass: string) => User | null | undefined | Promise<User | null | undefined>} verifyPassword
 *   the user for these credentials, or null. Keep it constant-time for unknown logins (checkPassword does)
 * @property {(user: User) => Record<string, unknown> | Promise<Record<string, unknown>>} [claims] extra
 *   claims of the user's access tokens (default none); `sub` (= String(user.id)) and `sid` are always set
 * @property {(userId: string) => User | null | undefined | Promise<User | null | undefined>} [findUser]
 *   when given, every refresh reloads the user and its claims (null: the session is revoked, 401);
 *   without it the claims of the login are reused
 * @property {(claims: Claims) => boolean | Promise<boolean>} [checkClaims] an extra check of every
 *   verified token (verify(), the ws-ticket route); false → 401 (a deny-list of jti, a disabled user)
 * @property {'hardened' | 'seed'} [mode] 'seed' accepts GET on refresh/logout without the CSRF
 *   header and Origin checks, for seed-style clients (default 'hardened')
 * @property {number} [accessTokenTtl] s (default 60)
 * @property {number} [sessionTtl] absolute lifetime of a session (refresh-token family), s (default 8 h)
 * @property {number} [idleTtl] longest time a refresh token may sit unused, s (default 1 h)
 * @property {number} [gracePeriod] s during which the token rotated away last is answered with the
 *   same successor (default 5)
 * @property {string} [issuer] `iss` (default 'auth-shell')
 * @property {string} [audience] `aud` (default 'auth-shell-api')
 * @property {Array<Record<string, unknown>>} [keys] private JWKs (the first signs); default: a key
 *   pair made on first start and kept in the store
 * @property {string | Uint8Array} [secret] a shared HS256 secret instead (≥ 32 bytes), an explicit choice
 * @property {number} [keyReloadInterval] s between reloads of store-kept keys (default 60)
 * @property {string[]} [allowedOrigins] exact origins allowed for credentialed CORS and the CSRF check
 * @property {string[]} [allowedHosts] `Host` names (any port) or `name:port`; else 421 (DNS rebinding).
 *   Default localhost, 127.0.0.1, [::1]; the hosts of allowedOrigins are always added
 * @property {boolean | 'auto'} [secure] `Secure` cookies with prefixed names: always, never, or
 *   'auto' (default): unless the browser's Origin is http://localhost (127.0.0.1, [::1]) or a
 *   trusted X-Forwarded-Proto says http
 * @property {string} [cookiePath] `Path` of the refresh cookie: basePath (default) or a prefix of it
 * @property {string | false | { name?: string, path?: string }} [sidCookie] the readable session-id
 *   cookie: its name (default 'auth-shell-sid'), `{ name, path }` (path default '/'), or false for none
 * @property {boolean} [trustProxy] take the client's address from the last X-Forwarded-For entry
 *   and `Secure` from X-Forwarded-Proto (default false)
 * @property {import('./login-throttle.js').LoginThrottleOptions} [loginThrottle]
 * @property {number} [maxSessionsPerUser] live sessions per user; a login beyond it revokes the
 *   user's oldest (reason 'evicted'; default 10)
 * @property {number} [maxTicketsPerToken] outstanding socket tickets per access token (default 10)
 * @property {number} [ticketTtl] s, > 0 and ≤ 60 (default 30)
 * @property {boolean} [sendExpiresIn] `expires_in` in token answers (default true)
 * @property {number} [storeTimeout] ms a store operation may take before the answer is 503 (default 3000)
 * @property {number} [retryAfter] s, the `Retry-After` of a 503 (default 1)
 * @property {number} [cleanupInterval] s between removals of expired sessions, tickets and
 *   throttle entries (default 60; 0 disables the timer)
 * @property {Record<string, Route>} [routes] more routes under basePath (path after the base →
 *   handler), answered with the same Host, CORS, no-store and error handling
 * @property {(line: string) => void} [log] one line per request, query redacted (default console.log)
 * @property {() => number} [now] clock, ms (default Date.now)
 *
 * @typedef {{ logins: number, refreshes: number, rotations: number, graceHits: number,
 *   reuseDetections: number, revokedFamilies: number, logouts: number, ambiguousCookies: number }} Stats
 *   this instance's counters
 */

const BODY_LIMIT = 10 * 1024;
/** Host names of this machine: the default allow-list. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Every form of the refresh cookie's name: more than one of them in a request is ambiguous. */
const REFRESH_COOKIE_NAMES = new Set(['rt', '__Secure-rt', '__Host-rt']);
const NO_STORE = Object.freeze({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
const INVALID_TOKEN = Object.freeze({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
/** Claims the server sets itself; a `claims()` result cannot override them. */
const RESERVED_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'nbf', 'sub', 'sid'];
const PATH = /^(?:\/[\w.~!$&'()*+,=:@%-]+)+$/;
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Host name → the ports allowed with it ('' = any port), from `name` and `name:port` entries plus
 * the host names of the allowed origins (any port).
 * @param {string[]} entries @param {Set<string>} origins
 */
function hostAllowList(entries, origins) {
  /** @type {Map<string, Set<string>>} */
  const list = new Map();
  const add = (/** @type {string} */ hostname, /** @type {string} */ port) => {
    list.set(hostname, (list.get(hostname) ?? new Set()).add(port));
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

/**
 * The `Host` of a request: its header, or (runtimes whose Request carries none) the URL's host.
 * @param {Request} request
 */
function hostOf(request) {
  return request.headers.get('host') ?? new URL(request.url).host;
}

const LOOPBACK_HTTP = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i;

/** @param {string} origin an http://localhost, 127.0.0.1 or [::1] origin (a developer's machine) */
const isLoopbackHttp = (origin) => LOOPBACK_HTTP.test(origin);

/** The last entry of a comma-separated forwarding header: the one your proxy appended. @param {string | null} value */
const lastEntry = (value) => (value ?? '').split(',').at(-1)?.trim().toLowerCase() ?? '';

/** @param {string} name @param {number} value @param {(v: number) => boolean} ok @param {string} what */
function check(name, value, ok, what) {
  if (!(typeof value === 'number' && ok(value))) throw new RangeError(`${name} must be ${what}, not ${value}`);
}

/** @param {AuthServerOptions} options */
export function createAuthServer(options) {
  const {
    basePath = '/api',
    verifyPassword,
    claims: claimsOf = () => ({}),
    findUser,
    checkClaims,
    mode = 'hardened',
    accessTokenTtl = 60,
    sessionTtl = 8 * 3600,
    idleTtl = 3600,
    gracePeriod = 5,
    issuer = 'auth-shell',
    audience = 'auth-shell-api',
    keyReloadInterval = 60,
    secure = 'auto',
    trustProxy = false,
    maxSessionsPerUser = 10,
    maxTicketsPerToken = 10,
    ticketTtl = 30,
    sendExpiresIn = true,
    storeTimeout = 3000,
    retryAfter = 1,
    cleanupInterval = 60,
    routes: extraRoutes = {},
    log = console.log,
    now = Date.now,
  } = options ?? {};
  if (typeof verifyPassword !== 'function') throw new TypeError('verifyPassword(login, pass) is required');
  if (mode !== 'hardened' && mode !== 'seed') throw new TypeError(`unknown mode: ${mode}`);
  check('accessTokenTtl', accessTokenTtl, (v) => v > 0 && Number.isFinite(v), 'a number of seconds > 0');
  check('sessionTtl', sessionTtl, (v) => v > 0 && Number.isFinite(v), 'a number of seconds > 0');
  check('idleTtl', idleTtl, (v) => v > 0 && Number.isFinite(v), 'a number of seconds > 0');
  check('gracePeriod', gracePeriod, (v) => v >= 0 && Number.isFinite(v), 'a number of seconds >= 0');
  check('ticketTtl', ticketTtl, (v) => v > 0 && v <= 60, '> 0 and <= 60 s');
  check('keyReloadInterval', keyReloadInterval, (v) => v > 0 && Number.isFinite(v), 'a number of seconds > 0');
  check('storeTimeout', storeTimeout, (v) => v > 0 && Number.isFinite(v), 'a number of ms > 0');
  check('retryAfter', retryAfter, (v) => Number.isInteger(v) && v > 0, 'an integer number of seconds > 0');
  check('cleanupInterval', cleanupInterval, (v) => v >= 0 && Number.isFinite(v), 'a number of seconds >= 0');
  for (const [name, value] of Object.entries({ maxSessionsPerUser, maxTicketsPerToken })) {
    check(name, value, (v) => Number.isSafeInteger(v) && v > 0, 'an integer > 0');
  }
  if (secure !== 'auto' && typeof secure !== 'boolean')
    throw new TypeError(`secure must be true, false or 'auto', not ${secure}`);
  // The base ends up in the cookie's Path attribute: no room for ';' or spaces.
  if (basePath !== '/' && !PATH.test(basePath))
    throw new TypeError(`basePath must be '/' or a path like '/api', not ${basePath}`);
  /** What request paths start with: '' for base '/'. */
  const prefix = basePath === '/' ? '' : basePath;
  const cookiePath = options.cookiePath ?? (prefix || '/');
  // The cookie must reach {base}/refresh and {base}/logout, so its Path is base or a prefix of it.
  if (!(cookiePath === '/' || cookiePath === prefix || prefix.startsWith(`${cookiePath}/`))) {
    throw new TypeError(`cookiePath must be '/' or a path prefix of basePath (${basePath}), not ${cookiePath}`);
  }
  const sidCookie = resolveSidCookie(options.sidCookie);
  const hardened = mode === 'hardened';
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const allowedHosts = hostAllowList(options.allowedHosts ?? [...LOOPBACK_HOSTS], allowedOrigins);
  /** The strongest prefix the path allows: `__Host-` needs Path=/ (and Secure, no Domain). */
  const secureCookieName = cookiePath === '/' ? '__Host-rt' : '__Secure-rt';
  for (const path of Object.keys(extraRoutes)) {
    if (!path.startsWith('/')) throw new TypeError(`routes: a path after the base starts with '/', not ${path}`);
  }

  const rawStore = options.store ?? memoryStore();
  const store = guardStore(rawStore, { timeoutMs: storeTimeout, retryAfter });
  const keyring = createKeyring({
    store,
    keys: options.keys,
    secret: options.secret,
    issuer,
    audience,
    accessTokenTtl,
    reloadMs: keyReloadInterval * 1000,
    now,
  });
  const sessions = createSessions({ store, sessionTtl, idleTtl, gracePeriod, maxSessionsPerUser, now });
  const throttle = createLoginThrottle(options.loginThrottle, store, now);

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
  /** @type {Set<RevokeListener>} */
  const revokeListeners = new Set();
  /** Counts and announces sessions this instance revoked. @param {Array<{ sid: string, userId: string }>} list @param {string} reason */
  function revoked(list, reason) {
    for (const { sid, userId } of list) {
      stats.revokedFamilies++;
      for (const listener of revokeListeners) {
        try {
          listener(sid, userId, reason);
        } catch (error) {
          log(`onSessionRevoked listener failed: ${error instanceof Error ? error.name : 'unknown'}`);
        }
      }
    }
  }

  // ---- start-up and housekeeping -----------------------------------------------------------

  /** @type {Promise<void> | undefined} */
  let starting;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let cleanupTimer;
  let closed = false;

  /** Store connected and migrated, keys loaded (or made). Retried by the next request after a failure. */
  function ready() {
    starting ??= (async () => {
      await store.init();
      try {
        await keyring.init();
      } catch (cause) {
        if (isServiceUnavailableError(cause)) throw cause;
        throw new ServiceUnavailableError('signing keys could not be loaded', { cause, retryAfter });
      }
      if (cleanupInterval > 0 && !cleanupTimer && !closed) {
        cleanupTimer = setInterval(() => void cleanup().catch(() => {}), cleanupInterval * 1000);
        cleanupTimer.unref?.();
      }
    })().catch((error) => {
      starting = undefined;
      throw error;
    });
    return starting;
  }

  /** Drops expired sessions, tickets, throttle entries and obsolete keys. */
  async function cleanup() {
    await store.cleanup(now());
    await keyring.cleanup();
  }

  // ---- cookies -----------------------------------------------------------------------------

  /**
   * Whether this request's cookies are `Secure`. With 'auto' they are, unless the browser says it
   * is on a developer's machine over plain http: its Origin (or, on a GET without one, its
   * Referer) is http://localhost, 127.0.0.1 or [::1] — or a trusted proxy's X-Forwarded-Proto says
   * http. The `Host` header is not asked when the browser tells: behind a proxy it is often
   * 127.0.0.1 while the page is https. Only a request with neither falls back to the Host.
   * @param {Request} request
   */
  function isSecure(request) {
    if (secure !== 'auto') return secure;
    let known = secureOf.get(request);
    if (known === undefined) secureOf.set(request, (known = decideSecure(request)));
    return known;
  }
  /** Asked several times per request (both cookies, which name to read): decided once. @type {WeakMap<Request, boolean>} */
  const secureOf = new WeakMap();

  /** @param {Request} request */
  function decideSecure(request) {
    if (request.url.startsWith('https:')) return true;
    if (trustProxy) {
      const proto = lastEntry(request.headers.get('x-forwarded-proto'));
      if (proto === 'http') return false;
      if (proto === 'https') return true;
    }
    const origin = browserOrigin(request);
    if (origin) return !isLoopbackHttp(origin);
    const host = parseHost(hostOf(request));
    return !(host && LOOPBACK_HOSTS.has(host.hostname));
  }

  /** The page's origin as the browser tells it: `Origin`, or the origin of its `Referer`. @param {Request} request */
  function browserOrigin(request) {
    const origin = request.headers.get('origin');
    if (origin && origin !== 'null') return origin;
    const referer = request.headers.get('referer');
    if (!referer) return undefined;
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(referer);
    return m ? m[0].toLowerCase() : undefined;
  }

  /** @param {Request} request */
  const cookieNameFor = (request) => (isSecure(request) ? secureCookieName : 'rt');

  /** @param {Request} request @param {string} token @param {number} expiresAt */
  const refreshCookie = (request, token, expiresAt) =>
    serializeCookie(cookieNameFor(request), token, {
      path: cookiePath,
      secure: isSecure(request),
      maxAge: Math.ceil((expiresAt - now()) / 1000),
    });

  /** The readable session-id cookie (none when disabled). @param {Request} request @param {string} sid @param {number} expiresAt */
  const sidCookieFor = (request, sid, expiresAt) =>
    sidCookie
      ? [
          serializeCookie(sidCookie.name, sid, {
            path: sidCookie.path,
            secure: isSecure(request),
            maxAge: Math.ceil((expiresAt - now()) / 1000),
            readable: true,
          }),
        ]
      : [];

  /** Set-Cookie values that end the browser's session: the refresh cookie and the sid cookie. @param {Request} request */
  const clearCookies = (request) => [
    serializeCookie(cookieNameFor(request), '', { path: cookiePath, secure: isSecure(request), maxAge: 0 }),
    ...(sidCookie
      ? [
          serializeCookie(sidCookie.name, '', {
            path: sidCookie.path,
            secure: isSecure(request),
            maxAge: 0,
            readable: true,
          }),
        ]
      : []),
  ];

  /**
   * The refresh token of a request. A request carrying more than one refresh cookie (the same name
   * twice, or two forms of it) is ambiguous: a sibling subdomain or a network attacker can plant
   * (toss) a cookie of that name for a longer path or a parent domain, which the browser then sends
   * alongside, even first. Which one the user got from us cannot be told from the header, so
   * neither is used.
   * @param {Request} request
   * @returns {{ ambiguous: false, present: boolean, token: string | undefined } | { ambiguous: true, names: string[] }}
   */
  function readRefreshCookie(request) {
    const found = parseCookies(request.headers.get('cookie')).filter((c) => REFRESH_COOKIE_NAMES.has(c.name));
    if (found.length > 1) return { ambiguous: true, names: [...new Set(found.map((c) => c.name))] };
    // One cookie, but of another form than this request's (say a plain `rt` where `__Secure-rt` is
    // expected): not read, or anyone able to set a plain cookie could choose the session.
    const token = found[0]?.name === cookieNameFor(request) ? found[0].value : undefined;
    return { ambiguous: false, present: found.length > 0, token };
  }

  /**
   * Answers a request with ambiguous refresh cookies: 401 invalid_grant, like any unusable cookie,
   * and nothing rotated or revoked (revoking would let whoever tossed a cookie end sessions). The
   * cookies this server could have set are cleared; a tossed one (another Domain or Path) cannot be
   * reached from here and stays until it expires.
   * @param {Request} request @param {string[]} names
   */
  function refuseAmbiguous(request, names) {
    stats.ambiguousCookies++;
    const [ownRefresh, ...rest] = clearCookies(request);
    const clears = new Set([ownRefresh]);
    for (const name of names) {
      const path = name === '__Host-rt' ? '/' : cookiePath;
      clears.add(serializeCookie(name, '', { path, secure: name !== 'rt' || isSecure(request), maxAge: 0 }));
    }
    return respond(401, { error: 'invalid_grant' }, { 'Set-Cookie': [...clears, ...rest] });
  }

  // ---- tokens ------------------------------------------------------------------------------

  /**
   * Verifies an access token; resolves its claims, or rejects with UnauthorizedError (with the
   * claims when the signature verified) or ServiceUnavailableError (keys not loadable).
   * @param {string} token @returns {Promise<Claims>}
   */
  async function verifyToken(token) {
    await ready();
    /** @type {Claims} */
    let payload;
    try {
      payload = await keyring.verify(token);
    } catch (error) {
      if (isServiceUnavailableError(error)) throw error;
      const verified = /** @type {{ payload?: unknown }} */ (error)?.payload;
      throw new UnauthorizedError('invalid access token', {
        cause: error,
        claims: verified && typeof verified === 'object' ? /** @type {Claims} */ (verified) : undefined,
      });
    }
    if (checkClaims && !(await checkClaims(payload)))
      throw new UnauthorizedError('access token refused', { claims: payload });
    return payload;
  }

  /** The bearer token of a request: Authorization only, never a cookie or the query. @param {Request} request */
  async function verify(request) {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(request.headers.get('authorization') ?? '');
    if (!match) throw new UnauthorizedError('no bearer token');
    return verifyToken(match[1]);
  }

  /** @param {Record<string, unknown>} claims @param {string} sub @param {string} sid */
  async function accessToken(claims, sub, sid) {
    const own = Object.fromEntries(Object.entries(claims).filter(([name]) => !RESERVED_CLAIMS.includes(name)));
    return keyring.sign({ ...own, sub, sid }, accessTokenTtl);
  }

  /** @param {Record<string, unknown>} claims @param {string} sub @param {string} sid */
  async function tokenBody(claims, sub, sid) {
    /** @type {Record<string, unknown>} */
    const body = { access_token: await accessToken(claims, sub, sid), token_type: 'Bearer' };
    if (sendExpiresIn) body.expires_in = accessTokenTtl;
    return body;
  }

  // ---- request checks ----------------------------------------------------------------------

  /**
   * DNS rebinding defence: a page on an attacker's name that resolves (after a first lookup) to
   * this server is same-origin with it in the browser, so CORS and the Origin checks pass; its
   * requests still carry the attacker's name in `Host`. Only names this server is reached at pass.
   * @param {Request} request
   */
  function isAllowedHost(request) {
    const host = parseHost(hostOf(request));
    const ports = host && allowedHosts.get(host.hostname);
    return Boolean(ports && host && (ports.has('') || ports.has(host.port)));
  }

  /**
   * Origins this server is reached at: the request's scheme and Host, and https://<Host> where TLS
   * may end at a proxy in front of it — `secure: true`, a Host that is not a loopback name with
   * 'auto', or a trusted X-Forwarded-Proto that says https. (Behind a proxy that rewrites Host, list
   * the page's origin in allowedOrigins.)
   * @param {Request} request @param {string} origin
   */
  function isOwnOrigin(request, origin) {
    const host = hostOf(request).toLowerCase();
    if (!host) return false;
    const scheme = request.url.startsWith('https:') ? 'https' : 'http';
    if (origin === `${scheme}://${host}`) return true;
    if (origin !== `https://${host}` || secure === false) return false;
    if (secure === true) return true;
    if (trustProxy && lastEntry(request.headers.get('x-forwarded-proto')) === 'https') return true;
    const parsed = parseHost(host);
    return Boolean(parsed && !LOOPBACK_HOSTS.has(parsed.hostname));
  }

  /** Hardened CSRF defence: custom header + Origin / Sec-Fetch-Site. @param {Request} request */
  function csrfCheck(request) {
    if (!hardened) return;
    if (!request.headers.get('x-requested-with')) throw new HttpError(403, 'csrf_header_required');
    const origin = request.headers.get('origin');
    const allowed = origin !== null && allowedOrigins.has(origin);
    if (request.headers.get('sec-fetch-site') === 'cross-site' && !allowed)
      throw new HttpError(403, 'cross_site_request');
    if (origin !== null && !allowed && !isOwnOrigin(request, origin)) throw new HttpError(403, 'origin_not_allowed');
  }

  /** @param {Request} request @param {string[]} allow */
  function requireMethod(request, allow) {
    if (!allow.includes(request.method)) throw new HttpError(405, 'method_not_allowed', { Allow: allow.join(', ') });
  }

  /**
   * The client's address for the login throttle. X-Forwarded-For is anyone's to write, so it
   * counts only with `trustProxy`, and then only its last entry: the one your proxy appended.
   * @param {Request} request @param {RequestInfo} info
   */
  function clientAddress(request, info) {
    const direct = info.clientAddress || undefined;
    if (!trustProxy) return direct;
    const forwarded = lastEntry(request.headers.get('x-forwarded-for'));
    return isIP(forwarded) ? forwarded : direct;
  }

  /** The claims of a valid bearer token, or a 401 answer thrown. @param {Request} request */
  async function bearer(request) {
    try {
      return await verify(request);
    } catch (error) {
      if (isUnauthorizedError(error)) throw new HttpError(401, 'invalid_token', INVALID_TOKEN);
      throw error;
    }
  }

  // ---- routes ------------------------------------------------------------------------------

  const sessionMethods = hardened ? ['POST'] : ['GET', 'POST'];

  /** @type {Record<string, (request: Request, info: RequestInfo) => Promise<Response>>} */
  const routes = {
    async '/login'(request, info) {
      requireMethod(request, ['POST']);
      csrfCheck(request);
      if (mediaType(request.headers.get('content-type')) !== 'application/json')
        throw new HttpError(415, 'unsupported_media_type');
      const raw = await readBody(request, BODY_LIMIT);
      /** @type {any} */
      let body;
      try {
        body = JSON.parse(new TextDecoder().decode(raw));
      } catch {
        throw new HttpError(400, 'invalid_request');
      }
      if (typeof body?.login !== 'string' || typeof body?.pass !== 'string')
        throw new HttpError(400, 'invalid_request');
      const attempt = { login: body.login, client: clientAddress(request, info) };
      // Locked: answered before the password is looked at, so a right guess looks like a wrong one.
      const wait = await throttle.retryAfter(attempt);
      if (wait > 0) throw new HttpError(429, 'too_many_attempts', { 'Retry-After': String(Math.ceil(wait / 1000)) });
      const user = await verifyPassword(body.login, body.pass);
      if (!user) {
        await throttle.failed(attempt);
        return respond(401, { error: 'invalid_credentials' });
      }
      if (typeof user.id !== 'string' && typeof user.id !== 'number')
        throw new TypeError('verifyPassword must resolve a user with an id (string or number), or null');
      await throttle.succeeded(attempt);
      const userId = String(user.id);
      // A login always succeeds; the user's oldest sessions make room (their sockets close too).
      const { token, family, evicted } = await sessions.start(userId, { ...(await claimsOf(user)) });
      revoked(evicted, 'evicted');
      stats.logins++;
      return respond(200, await tokenBody(family.claims, userId, family.sid), {
        'Set-Cookie': [
          refreshCookie(request, token, family.expiresAt),
          ...sidCookieFor(request, family.sid, family.expiresAt),
        ],
      });
    },

    async '/refresh'(request) {
      requireMethod(request, sessionMethods);
      csrfCheck(request);
      stats.refreshes++;
      const cookie = readRefreshCookie(request);
      if (cookie.ambiguous) return refuseAmbiguous(request, cookie.names);
      if (!cookie.present) {
        return respond(
          401,
          { error: 'invalid_grant', error_description: 'no refresh cookie' },
          { 'Set-Cookie': clearCookies(request) },
        );
      }
      const result = await sessions.use(cookie.token);
      if (!result.ok) {
        if (result.reason === 'reuse' && result.family) {
          stats.reuseDetections++;
          revoked([result.family], 'reuse');
        }
        return respond(401, { error: 'invalid_grant' }, { 'Set-Cookie': clearCookies(request) });
      }
      const { family } = result;
      let claims = family.claims;
      if (findUser) {
        const user = await findUser(family.userId);
        if (!user) {
          const gone = await sessions.revokeSid(family.sid, 'revoked');
          if (gone) revoked([gone], 'revoked');
          return respond(401, { error: 'invalid_grant' }, { 'Set-Cookie': clearCookies(request) });
        }
        claims = { ...(await claimsOf(user)) };
      }
      if (result.kind === 'rotated') stats.rotations++;
      else stats.graceHits++;
      return respond(200, await tokenBody(claims, family.userId, family.sid), {
        'Set-Cookie': [
          refreshCookie(request, result.token, family.expiresAt),
          ...sidCookieFor(request, family.sid, family.expiresAt),
        ],
      });
    },

    async '/logout'(request) {
      requireMethod(request, sessionMethods);
      csrfCheck(request);
      const cookie = readRefreshCookie(request);
      // The client treats a 401 on logout as "the server no longer knows the session": signed out.
      if (cookie.ambiguous) return refuseAmbiguous(request, cookie.names);
      const gone = await sessions.revoke(cookie.token, 'logout');
      if (gone) revoked([gone], 'logout');
      stats.logouts++;
      return respond(204, undefined, { 'Set-Cookie': clearCookies(request) });
    },

    /** Revokes every session of the caller. */
    async '/logout-everywhere'(request) {
      requireMethod(request, ['POST']);
      const claims = await bearer(request);
      revoked(await sessions.revokeUser(String(claims.sub), 'revoked'), 'revoked');
      return respond(204, undefined, { 'Set-Cookie': clearCookies(request) });
    },

    /**
     * A single-use socket ticket bound to the user, session and access token it was minted with. A
     * token holds at most maxTicketsPerToken outstanding (unused, unexpired) tickets; beyond that
     * 429, Retry-After = seconds until its soonest outstanding ticket expires.
     */
    async '/ws-ticket'(request) {
      requireMethod(request, ['POST']);
      const claims = await bearer(request);
      const t = now();
      const jti = typeof claims.jti === 'string' ? claims.jti : null;
      const ticket = randomBytes(32).toString('base64url');
      const soonest = await store.putTicket({
        hash: createHash('sha256').update(ticket).digest('base64url'),
        minter: jti ? `jti:${jti}` : `user:${claims.sub}`,
        data: {
          userId: String(claims.sub),
          sid: typeof claims.sid === 'string' ? claims.sid : null,
          jti,
          exp: Number(claims.exp),
        },
        expiresAt: t + ticketTtl * 1000,
        now: t,
        max: maxTicketsPerToken,
      });
      if (soonest > 0) {
        throw new HttpError(429, 'too_many_tickets', {
          'Retry-After': String(Math.max(1, Math.ceil((soonest - t) / 1000))),
        });
      }
      return respond(200, { ticket, expires_in: ticketTtl });
    },

    async '/jwks.json'(request) {
      requireMethod(request, ['GET']);
      const jwks = await keyring.jwks();
      if (!jwks) throw new HttpError(404, 'not_found');
      return respond(200, jwks);
    },
  };

  // ---- dispatch ----------------------------------------------------------------------------

  /** Headers of every response under base (no-store, Vary, nosniff, CORS). @param {Request} request */
  function commonHeaders(request) {
    /** @type {Record<string, string>} */
    const headers = { ...NO_STORE, Vary: 'Origin', 'X-Content-Type-Options': 'nosniff' };
    const origin = request.headers.get('origin');
    if (origin !== null && allowedOrigins.has(origin)) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Allow-Credentials'] = 'true';
      headers['Access-Control-Expose-Headers'] = 'WWW-Authenticate, Retry-After';
    }
    return headers;
  }

  /** @param {Request} request @param {string} path @param {RequestInfo} info @returns {Promise<Response>} */
  async function dispatch(request, path, info) {
    if (!isAllowedHost(request)) return respond(421, { error: 'host_not_allowed' });
    if (request.method === 'OPTIONS') {
      const origin = request.headers.get('origin');
      if (origin !== null && allowedOrigins.has(origin)) {
        return respond(204, undefined, {
          'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Requested-With',
          'Access-Control-Max-Age': '600',
        });
      }
      if (origin === null) return respond(204, undefined, { Allow: 'GET, POST, OPTIONS' });
      return respond(403, { error: 'origin_not_allowed' });
    }
    const own = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (own) {
      await ready();
      return own(request, info);
    }
    const extra = Object.hasOwn(extraRoutes, path) ? extraRoutes[path] : undefined;
    if (!extra) return respond(404, { error: 'not_found' });
    return extra(request, { verify, clientAddress: clientAddress(request, info) });
  }

  /** @param {unknown} error @param {Request} request @param {string} shown */
  function errorResponse(error, request, shown) {
    if (error instanceof HttpError) {
      const body = error.description
        ? { error: error.code, error_description: error.description }
        : { error: error.code };
      return respond(error.status, body, error.headers);
    }
    if (isServiceUnavailableError(error) || isUnauthorizedError(error)) return error.toResponse();
    log(`auth-shell/server error on ${request.method} ${shown}: ${error instanceof Error ? error.name : 'unknown'}`);
    return respond(500, { error: 'server_error' });
  }

  /** Whether a path is under basePath (what handle() answers). @param {string} pathname */
  const owns = (pathname) => prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`);

  /**
   * Answers a request under basePath (anything else: 404). Never rejects: failures are answers
   * (a store that is down: 503 with Retry-After).
   * @param {Request} request @param {RequestInfo} [info]
   * @returns {Promise<Response>}
   */
  async function handle(request, info = {}) {
    const started = performance.now();
    const url = new URL(request.url);
    const shown = redactUrl(url.pathname + url.search);
    /** @type {Response} */
    let response;
    try {
      response = owns(url.pathname)
        ? await dispatch(request, url.pathname.slice(prefix.length) || '/', info)
        : respond(404, { error: 'not_found' });
    } catch (error) {
      response = errorResponse(error, request, shown);
    }
    const headers = commonHeaders(request);
    try {
      for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    } catch {
      // Immutable headers (a fetched Response handed back by a route): copy it.
      const copy = new Headers(response.headers);
      for (const [name, value] of Object.entries(headers)) copy.set(name, value);
      response = new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: copy,
      });
    }
    log(`${request.method} ${shown} ${response.status} ${Math.round(performance.now() - started)}ms`);
    return response;
  }

  return {
    handle,
    verify,
    verifyToken,
    owns,
    basePath,
    mode,
    /** The refresh cookie's name where it is Secure (`rt` with `secure: false`). */
    cookieName: secure === false ? 'rt' : secureCookieName,
    /** The sid cookie's name, or null without one. */
    sidCookieName: sidCookie ? sidCookie.name : null,
    stats,
    store: rawStore,
    ready,
    cleanup,

    /**
     * Redeems a socket ticket (single use, spent on its first presentation whatever follows): the
     * user, session and access token (`jti`, `exp`) it was minted with, and whether it is `valid`
     * (unused and unexpired); null when unknown. An invalid one still tells whose it was (for logs).
     * Check `exp` and the session yourself, as for a token.
     * @param {string} ticket
     * @returns {Promise<(import('./store.js').TicketData & { valid: boolean }) | null>}
     */
    async redeemTicket(ticket) {
      await ready();
      if (!ticket) return null;
      const taken = await store.takeTicket(createHash('sha256').update(ticket).digest('base64url'), now());
      return taken && { ...taken.data, valid: taken.valid };
    },

    /** Whether a request's `Host` is one this server answers to (check it on socket upgrades too). @param {Request} request */
    isAllowedHost,

    /**
     * Whether a request's `Origin` is this server's own origin or an allowed one: the check a
     * WebSocket upgrade needs (browsers apply no CORS to sockets). False without an Origin.
     * @param {Request} request
     */
    isAllowedOrigin(request) {
      const origin = request.headers.get('origin');
      return origin !== null && (allowedOrigins.has(origin) || isOwnOrigin(request, origin));
    },

    /**
     * The session of a request's refresh cookie (a single one), revoked or not, while the store
     * keeps it; null otherwise.
     * @param {Request} request
     */
    async findSession(request) {
      await ready();
      const cookie = readRefreshCookie(request);
      if (cookie.ambiguous) return null;
      const family = await sessions.find(cookie.token);
      return family && { sid: family.sid, userId: family.userId, expiresAt: family.expiresAt, revoked: family.revoked };
    },

    /** Whether the session of a sid is revoked (false when unknown). @param {string} sid */
    async isSessionRevoked(sid) {
      await ready();
      return Boolean((await sessions.findBySid(sid))?.revoked);
    },

    /** Revokes one session; true when it was live. @param {string} sid @param {string} [reason] */
    async revokeSession(sid, reason = 'revoked') {
      await ready();
      const gone = await sessions.revokeSid(sid, reason);
      if (gone) revoked([gone], reason);
      return Boolean(gone);
    },

    /** Revokes every session of a user (a password change, a ban); returns how many. @param {string | number} userId */
    async revokeUser(userId, reason = 'revoked') {
      await ready();
      const gone = await sessions.revokeUser(String(userId), reason);
      revoked(gone, reason);
      return gone.length;
    },

    /**
     * Signs an access token with this server's key, issuer and audience (for tests and service
     * tokens); `ttl` in s, may be negative.
     * @param {Record<string, unknown>} claims @param {{ ttl?: number }} [opts]
     */
    async signAccessToken(claims, opts = {}) {
      await ready();
      return keyring.sign(claims, opts.ttl ?? accessTokenTtl);
    },

    /** Store-kept keys: a newer key signs from now on; the older keeps verifying. Returns the new kid. */
    async rotateKeys() {
      await ready();
      return keyring.rotate();
    },

    /** Called with (sid, userId, reason) when this instance revokes a session. @param {RevokeListener} listener */
    onSessionRevoked(listener) {
      revokeListeners.add(listener);
      return () => void revokeListeners.delete(listener);
    },

    /** Stops the cleanup timer and closes the store. */
    async close() {
      closed = true;
      clearInterval(cleanupTimer);
      await rawStore.close();
    },
  };
}

/** @param {AuthServerOptions['sidCookie']} option @returns {{ name: string, path: string } | null} */
function resolveSidCookie(option) {
  if (option === false) return null;
  const { name = 'auth-shell-sid', path = '/' } = typeof option === 'string' ? { name: option } : (option ?? {});
  if (!COOKIE_NAME.test(name) || REFRESH_COOKIE_NAMES.has(name))
    throw new TypeError(`sidCookie: not a usable cookie name: ${name}`);
  if (path !== '/' && !PATH.test(path))
    throw new TypeError(`sidCookie: path must be '/' or a path like '/app', not ${path}`);
  return { name, path };
}

/** @typedef {ReturnType<typeof createAuthServer>} AuthServer */
