import { UsageError } from './errors.js';
import { OriginPolicy, originList, pageOrigin, resolveUrl } from './origins.js';
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
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly api: URL;
  readonly loginUrl: string;
  readonly refreshUrl: string;
  readonly logoutUrl: string;
  readonly refreshMethod: EndpointMethod;
  readonly logoutMethod: EndpointMethod;
  readonly csrfHeader: readonly [string, string] | null;
  readonly policy: OriginPolicy;
  readonly leeway: number;
  readonly timeout: number;
  readonly refreshRetries: number;
  readonly retryDelay: number;
  readonly clock: Clock;
}

const DEFAULT_CSRF_HEADER = 'X-Requested-With: auth-shell';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The api base URL in the canonical form sessions are keyed by (no trailing slash, no query). */
export function apiKey(api: string | URL): string {
  const url = resolveUrl(api, 'api');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Validates options and fills in defaults. Throws {@link UsageError} naming the bad option. */
export function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (options == null || (typeof options.api !== 'string' && !(options.api instanceof URL)) || options.api === '') {
    throw new UsageError('api is required (the base URL of the auth API, e.g. "/api")');
  }
  const api = new URL(apiKey(options.api));
  const origins = [pageOrigin(), api.origin, ...originList(options.allowedOrigins)].filter(
    (origin): origin is string => origin !== undefined,
  );
  return {
    api,
    loginUrl: endpoint(api, options.loginPath ?? '/login', 'loginPath'),
    refreshUrl: endpoint(api, options.refreshPath ?? '/refresh', 'refreshPath'),
    logoutUrl: endpoint(api, options.logoutPath ?? '/logout', 'logoutPath'),
    refreshMethod: method(options.refreshMethod, 'refreshMethod'),
    logoutMethod: method(options.logoutMethod, 'logoutMethod'),
    csrfHeader: header(options.csrfHeader ?? DEFAULT_CSRF_HEADER),
    policy: new OriginPolicy(origins),
    leeway: number(options.leeway ?? 30, 'leeway', 0) * 1000,
    timeout: number(options.timeout ?? 10_000, 'timeout', 1),
    refreshRetries: Math.floor(number(options.refreshRetries ?? 3, 'refreshRetries', 0)),
    retryDelay: number(options.retryDelay ?? 250, 'retryDelay', 0),
    clock: options.clock ?? (() => performance.now()),
  };
}

function endpoint(api: URL, path: string, name: string): string {
  if (typeof path !== 'string' || path === '') throw new UsageError(`${name} must be a non-empty path`);
  // An absolute URL (or scheme-relative one) stands on its own; a path is appended to the api base.
  if (/^([a-z][a-z\d+.-]*:)?\/\//i.test(path)) return resolveUrl(new URL(path, api).href, name).href;
  return `${api.href}/${path.replace(/^\/+/, '')}`;
}

function method(value: string | undefined, name: string): EndpointMethod {
  const upper = (value ?? 'POST').toUpperCase();
  if (upper !== 'POST' && upper !== 'GET') throw new UsageError(`${name} must be "POST" or "GET", not "${value}"`);
  return upper;
}

function header(value: string): readonly [string, string] | null {
  if (typeof value !== 'string') throw new UsageError('csrfHeader must be a string "Name: value"');
  if (value.trim() === '') return null;
  const colon = value.indexOf(':');
  const name = colon < 0 ? '' : value.slice(0, colon).trim();
  const content = colon < 0 ? '' : value.slice(colon + 1).trim();
  if (!HEADER_NAME.test(name) || content === '') throw new UsageError(`csrfHeader must look like "Name: value", not "${value}"`);
  return [name, content];
}

function number(value: unknown, name: string, min: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min) {
    throw new UsageError(`${name} must be a number ≥ ${min}, not ${JSON.stringify(value)}`);
  }
  return n;
}
