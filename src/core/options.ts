import { DEV } from './dev.js';
import { UsageError } from './errors.js';
import { originList, pageOrigin, resolveUrl } from './origins.js';
import type { Clock } from './token-store.js';

/** HTTP methods the refresh and logout endpoints may use. */
export type EndpointMethod = 'POST' | 'GET';

/** How to reach a backend. Only `api` is required; the defaults are the safe ones. */
export interface SessionOptions {
  /** Base URL of the auth API, e.g. `/api` or `https://api.example.com/v1`. */
  api: string | URL;
  /** Path of the login endpoint under `api` (or an absolute URL). Default `/login`. */
  loginPath?: string;
  /** Default `/refresh`. */
  refreshPath?: string;
  /** Default `/logout`. */
  logoutPath?: string;
  /** `POST` (default, CSRF-safe with the custom header) or `GET` (seed-style backends). */
  refreshMethod?: EndpointMethod | Lowercase<EndpointMethod>;
  /** `POST` (default) or `GET`. */
  logoutMethod?: EndpointMethod | Lowercase<EndpointMethod>;
  /**
   * Static header sent with every login, refresh and logout request, as `"Name: value"`. A custom
   * header forces a CORS preflight, so another site cannot forge these requests. Default
   * `"X-Requested-With: auth-shell"`; `""` sends none.
   */
  csrfHeader?: string;
  /** Origins besides the page's and the api's that may receive the bearer token (array, or a space-separated string). */
  allowedOrigins?: string | readonly string[];
  /**
   * Name of the readable session-id cookie the backend sets beside the refresh cookie, holding the
   * access token's `sid` claim: it tells every tab which server session the browser's refresh
   * cookie belongs to. Default `auth-shell-sid`; `""` when the backend sets none.
   */
  sidCookie?: string;
  /**
   * Skip the restore request when the session-id cookie says there is no session: a first visit
   * costs no request (and no red 401 in the console). `true`: the backend sets the cookie (as
   * auth-shell/server does); `false`: always ask. Default: on once this browser has seen the
   * backend set the cookie. Never ends a session: a missing hint only spares the question.
   */
  sessionHint?: boolean;
  /**
   * The login body's field names for `login(login, pass)`: the identifier's and the secret's, as an
   * array or a space-separated string. Default `login pass`; e.g. `email password`.
   */
  loginFields?: string | readonly [string, string];
  /** Where a token answer keeps the token (a field name, `.` for nesting). Default `access_token`. */
  tokenField?: string;
  /** Where a token answer keeps the token's lifetime in seconds. Default `expires_in`. */
  expiresInField?: string;
  /**
   * The login body's field for a one-time code, when the server asks for one (a login answered 401
   * `{"error": "otp_required"}`). Default `otp`.
   */
  codeField?: string;
  /** Seconds before expiry at which a token counts as stale and is refreshed. Default 30 (at most a quarter of the token's lifetime). */
  leeway?: number;
  /** Timeout in ms of every login, refresh and logout request, body included. Default 10000. */
  timeout?: number;
  /** Retries of a refresh that failed at network level or with 5xx/408/429. Default 3. */
  refreshRetries?: number;
  /** Base delay in ms of the refresh backoff (doubled each retry, with jitter). Default 250. */
  retryDelay?: number;
  /** Monotonic clock in ms. Default `performance.now()`. For tests and simulations. */
  clock?: Clock;
  /**
   * Share the session with the other tabs of this origin: refreshes serialized by a Web Lock, tokens,
   * logins and logouts handed over by BroadcastChannel. Default `true`.
   */
  tabSync?: boolean;
  /** Longest wait in ms for the cross-tab refresh lock before refreshing without it. Default 10000. */
  lockTimeout?: number;
  /**
   * Log every step (activities, state changes, errors) to `console.debug`. Never a token. Default
   * `false`. Turning it on for a session another part of the page created is allowed.
   */
  debug?: boolean;
}

/**
 * Options after validation, with every default filled in. Frozen, and what could be changed through
 * a reference — the api's `URL`, the origin set — is handed out as a new copy on every read: no
 * script can change where a session's credentials go after it was configured.
 */
export interface ResolvedOptions {
  readonly api: URL;
  readonly loginUrl: string;
  readonly refreshUrl: string;
  readonly logoutUrl: string;
  readonly refreshMethod: EndpointMethod;
  readonly logoutMethod: EndpointMethod;
  /** `[name, value]` of the anti-CSRF header, or `null`. */
  readonly csrfHeader: readonly [string, string] | null;
  /** Exact origins that may receive the bearer token: the page's, the api's and `allowedOrigins` (a copy). */
  readonly bearerOrigins: ReadonlySet<string>;
  /** The session-id cookie's name, `''` for none. */
  readonly sidCookie: string;
  /** `true`, `false`, or `undefined`: on once the backend was seen setting the session-id cookie. */
  readonly sessionHint: boolean | undefined;
  /** The identifier's and the secret's field of the login body. */
  readonly loginFields: readonly [string, string];
  readonly tokenField: string;
  readonly expiresInField: string;
  readonly codeField: string;
  readonly leeway: number;
  readonly timeout: number;
  readonly refreshRetries: number;
  readonly retryDelay: number;
  readonly clock: Clock;
  readonly tabSync: boolean;
  readonly lockTimeout: number;
  readonly debug: boolean;
}

/** The api base URL in the canonical form sessions are keyed by (no trailing slash, no query). */
export function apiKey(api: string | URL): string {
  const url = resolveUrl(api, 'api');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Validates options and fills in defaults. Throws {@link UsageError} naming the bad option. */
export function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (!options?.api)
    throw new UsageError(`api is required${DEV ? ' (the base URL of the auth API, e.g. "/api")' : ''}`, {
      option: 'api',
    });
  const api = new URL(apiKey(options.api));
  if (!/^https?:$/.test(api.protocol))
    throw new UsageError(`api must be an http(s) URL, not ${api.href}`, { option: 'api' });
  for (const key of [
    'loginPath',
    'refreshPath',
    'logoutPath',
    'refreshMethod',
    'logoutMethod',
    'csrfHeader',
    'sidCookie',
    'tokenField',
    'expiresInField',
    'codeField',
  ] as const) {
    if (options[key] != null && typeof options[key] !== 'string')
      throw new UsageError(`${key} must be a string, not ${String(options[key])}`, { option: key });
  }
  if (options.clock != null && typeof options.clock !== 'function')
    throw new UsageError('clock must be a function returning ms', { option: 'clock' });
  const [, name, value] =
    /^\s*([!#$%&'*+.^_`|~\w-]+)\s*:\s*(\S.*?)\s*$/.exec(options.csrfHeader ?? 'X-Requested-With: auth-shell') ?? [];
  if (!name && options.csrfHeader?.trim())
    throw new UsageError(`csrfHeader must look like "Name: value", not "${options.csrfHeader}"`, {
      option: 'csrfHeader',
    });
  const origins = [pageOrigin() ?? api.origin, api.origin, ...originList(options.allowedOrigins)];
  return Object.freeze({
    get api() {
      return new URL(api);
    },
    loginUrl: endpoint(api, options.loginPath ?? 'login'),
    refreshUrl: endpoint(api, options.refreshPath ?? 'refresh'),
    logoutUrl: endpoint(api, options.logoutPath ?? 'logout'),
    refreshMethod: method(options.refreshMethod, 'refreshMethod'),
    logoutMethod: method(options.logoutMethod, 'logoutMethod'),
    csrfHeader: name ? Object.freeze([name, value!] as const) : null,
    get bearerOrigins() {
      return new Set(origins);
    },
    sidCookie: cookieName(options.sidCookie ?? 'auth-shell-sid'),
    sessionHint: options.sessionHint == null ? undefined : !!options.sessionHint,
    loginFields: fieldPair(options.loginFields),
    tokenField: field(options.tokenField ?? 'access_token', 'tokenField'),
    expiresInField: field(options.expiresInField ?? 'expires_in', 'expiresInField'),
    codeField: field(options.codeField ?? 'otp', 'codeField'),
    leeway: number(options.leeway ?? 30, 'leeway') * 1000,
    timeout: delay(options.timeout ?? 10_000, 'timeout') || 1,
    refreshRetries: Math.floor(number(options.refreshRetries ?? 3, 'refreshRetries')),
    retryDelay: delay(options.retryDelay ?? 250, 'retryDelay'),
    clock: options.clock ?? (() => performance.now()),
    tabSync: options.tabSync ?? true,
    lockTimeout: delay(options.lockTimeout ?? 10_000, 'lockTimeout'),
    debug: !!options.debug,
  });
}

/** Whether `options` configure a session (give anything but its `api`), rather than look it up. */
export const declares = (options: SessionOptions): boolean =>
  Object.entries(options).some(([key, value]) => key !== 'api' && value !== undefined);

/** A path is appended to the api base; an absolute (or scheme-relative) URL stands on its own. */
function endpoint(api: URL, path: string): string {
  return /^([a-z][\w+.-]*:)?\/\//i.test(path)
    ? resolveUrl(path, 'endpoint', api).href
    : `${api.href}/${path.replace(/^\/+/, '')}`;
}

function field(value: string, name: string): string {
  if (/^[\w$-]+(\.[\w$-]+)*$/.test(value)) return value;
  throw new UsageError(`${name} must be a field name ("." for nesting), not "${value}"`, { option: name });
}

function fieldPair(value: string | readonly string[] | undefined): readonly [string, string] {
  const names = typeof value === 'string' ? value.trim().split(/[\s,]+/) : (value ?? ['login', 'pass']);
  if (!Array.isArray(names) || names.length !== 2)
    throw new UsageError(
      `loginFields must name two fields${DEV ? ' (e.g. "email password")' : ''}, not "${String(value)}"`,
      {
        option: 'loginFields',
      },
    );
  return Object.freeze([field(names[0], 'loginFields'), field(names[1], 'loginFields')] as const);
}

function cookieName(value: string): string {
  if (/^[!#$%&'*+.^_`|~\w-]*$/.test(value)) return value;
  throw new UsageError(`sidCookie must be a cookie name, not "${value}"`, { option: 'sidCookie' });
}

function method(value: string | undefined, name: string): EndpointMethod {
  const upper = (value || 'POST').toUpperCase();
  if (upper !== 'POST' && upper !== 'GET')
    throw new UsageError(`${name} must be "POST" or "GET", not "${value}"`, { option: name });
  return upper;
}

function number(value: unknown, name: string): number {
  const n = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  if (value === '' || !(n >= 0) || n === Infinity)
    throw new UsageError(`${name} must be a number ≥ 0, not ${String(value)}`, { option: name });
  return n;
}

/** A number of ms a timer can wait: whole, and at most what setTimeout takes (about 24.8 days). */
const delay = (value: unknown, name: string): number => Math.min(Math.ceil(number(value, name)), 2 ** 31 - 1);
