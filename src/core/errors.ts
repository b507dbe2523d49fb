/**
 * Typed errors with stable `code`s. Messages name the operation, method, URL and status; they never
 * contain a token (nothing that reaches these constructors holds one).
 */

import { CATALOGUE, DEV } from './dev.js';

/** Every code an {@link AuthError} can carry. Switch on it; it is stable across versions. */
export type AuthErrorCode =
  | 'invalid-credentials'
  | 'network'
  | 'timeout'
  | 'rate-limited'
  | 'protocol'
  | 'http'
  | 'unauthenticated'
  | 'usage'
  | 'queue-full'
  | 'socket-closed'
  | 'setup'
  | 'code-required';

/** The operation an error belongs to (a failed restore is a `refresh`; authFetch's own failures are its refresh's). */
export type AuthOperation = 'login' | 'refresh' | 'logout' | 'config' | 'socket';

// Brand shared by every copy of the library on a page: `instanceof` fails across bundles and realms.
const BRAND = Symbol.for('auth-shell.error');

export interface AuthErrorOptions {
  cause?: unknown;
  /** HTTP status of the response that caused the error, when there was one. */
  status?: number;
  operation?: AuthOperation;
  /** For a `UsageError`: the option, attribute or argument at fault (its option name, e.g. `allowedOrigins`). */
  option?: string;
}

/** Base class of every error auth-shell throws or reports. */
export class AuthError extends Error {
  override name = 'AuthError';
  /** Stable, switchable identifier of the failure. */
  readonly code: AuthErrorCode;
  /** HTTP status of the response behind the error, if any. */
  readonly status: number | undefined;
  /** What auth-shell was doing. */
  readonly operation: AuthOperation | undefined;
  declare readonly [BRAND]: true;

  constructor(code: AuthErrorCode, message: string, options: AuthErrorOptions = {}) {
    // The production build says less (see dev.ts): its messages point at the catalogue's entry.
    super(
      DEV ? message : `${message} [${code}: ${CATALOGUE}#${code}]`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = options.status;
    this.operation = options.operation;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Login answered 401: wrong login or password. Nothing was stored. */
export class InvalidCredentialsError extends AuthError {
  override name = 'InvalidCredentialsError';
  constructor(message = 'Invalid login or password', options: AuthErrorOptions = {}) {
    super('invalid-credentials', message, { operation: 'login', ...options });
  }
}

/**
 * The server could not be reached, or answered 5xx / 408 / 429. Never a logout: the session keeps
 * its state and tries again later. `retryAfter` is the server's `Retry-After` in seconds (a 429 or
 * a 503 may send one), or how long the browser's next refresh attempt is away during an outage.
 */
export class NetworkError extends AuthError {
  override name = 'NetworkError';
  /** Seconds to wait before asking again, when known; `undefined` otherwise. */
  readonly retryAfter: number | undefined;
  constructor(
    message: string,
    options: AuthErrorOptions & { retryAfter?: number } = {},
    code: AuthErrorCode = 'network',
  ) {
    super(code, message, options);
    this.retryAfter = options.retryAfter;
  }
}

/**
 * The server answered 429: too many attempts (a login throttle, a busy refresh endpoint). A kind of
 * network error — never a logout. `retryAfter` is the server's `Retry-After` in seconds, when it
 * sent a readable one: show it ("try again in …") rather than retrying at once.
 */
export class RateLimitError extends NetworkError {
  override name = 'RateLimitError';
  constructor(message: string, retryAfter: number | undefined, options: AuthErrorOptions = {}) {
    super(message, { status: 429, ...options, retryAfter }, 'rate-limited');
  }
}

/** A request took longer than the session's `timeout` and was aborted. A kind of network error. */
export class TimeoutError extends NetworkError {
  override name = 'TimeoutError';
  constructor(message: string, options: AuthErrorOptions = {}) {
    super(message, options, 'timeout');
  }
}

/** The server answered 2xx with something that is not a usable token response (not JSON, no `access_token`, not a JWT). */
export class ProtocolError extends AuthError {
  override name = 'ProtocolError';
  constructor(message: string, options: AuthErrorOptions = {}) {
    super('protocol', message, options);
  }
}

/**
 * The page and the server are not set up to work together — the kind of mistake a developer makes
 * once, which asking again will not fix. `problem` says which (see the README's set-up checks):
 * - `html`: an auth endpoint answered an HTML page (a single-page app's fallback, a proxy page);
 * - `not-found`: an auth endpoint answered 404 (a wrong `api` or path);
 * - `method`: it answered 405 (the method: seed-style backends need `refresh-method="GET"`);
 * - `forbidden`: it answered 403 from a CSRF or Origin check (the `csrf-header`, allowed origins);
 * - `token-field`: a token answer without the expected field (`token-field`, `expires-in-field`);
 * - `cookie`: the refresh cookie did not come back (SameSite, Secure, Domain or Path);
 * - `cors`: a cross-origin answer the browser hid (CORS headers missing).
 */
export class SetupError extends AuthError {
  override name = 'SetupError';
  readonly problem: SetupProblem;
  constructor(problem: SetupProblem, message: string, options: AuthErrorOptions = {}) {
    super('setup', message, options);
    this.problem = problem;
  }
}

/** What a {@link SetupError} is about. */
export type SetupProblem = 'html' | 'not-found' | 'method' | 'forbidden' | 'token-field' | 'cookie' | 'cors';

/**
 * The server wants a one-time code (a second factor) before it signs the user in: log in again
 * with the same credentials and the code in the field `field` (`login(login, pass, { [field]: code })`).
 */
export class CodeRequiredError extends AuthError {
  override name = 'CodeRequiredError';
  /** The field of the login body the code goes in. */
  readonly field: string;
  constructor(field: string, message: string, options: AuthErrorOptions = {}) {
    super('code-required', message, { operation: 'login', ...options });
    this.field = field;
  }
}

/** The server answered with a status the flow does not expect (e.g. 400, 409). */
export class HttpError extends AuthError {
  override name = 'HttpError';
  constructor(message: string, options: AuthErrorOptions = {}) {
    super('http', message, options);
  }
}

/** There is no session: the refresh cookie was rejected, or the user logged out meanwhile. */
export class UnauthenticatedError extends AuthError {
  override name = 'UnauthenticatedError';
  constructor(message = 'Not authenticated', options: AuthErrorOptions = {}) {
    super('unauthenticated', message, options);
  }
}

/** The library was called wrongly: a bad option, attribute or argument. */
export class UsageError extends AuthError {
  override name = 'UsageError';
  /** The option at fault (its option name, e.g. `allowedOrigins`), when one is. */
  readonly option: string | undefined;
  constructor(message: string, options: AuthErrorOptions = {}) {
    super('usage', message, { operation: 'config', ...options });
    this.option = options.option;
  }
}

/** A message could not be sent on an `AuthSocket`: its queue is full, or it is closed for good. */
export class SocketError extends AuthError {
  override name = 'SocketError';
  constructor(code: 'queue-full' | 'socket-closed', message: string) {
    super(code, message, { operation: 'socket' });
  }
}

/**
 * Whether `value` is an auth-shell error (optionally with the given code). Works across bundled
 * copies of the library and across realms, where `instanceof` does not.
 */
export function isAuthError(value: unknown, code?: AuthErrorCode): value is AuthError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (value as AuthError).code === code)
  );
}
