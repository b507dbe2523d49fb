// @ts-check
/**
 * The errors auth-shell/server throws at its callers. Each carries the HTTP answer it stands for
 * (`status`, `headers`, `toResponse()`), so a route can hand it back as it is. Type guards compare
 * `name` too: `instanceof` fails across duplicated copies of the package.
 */

/**
 * A request without a valid bearer access token (RFC 6750): missing, malformed, forged, expired,
 * wrong issuer or audience, or refused by `checkClaims`. Answer it with 401 and its
 * `WWW-Authenticate` header, never with a redirect: the client refreshes on 401.
 */
export class UnauthorizedError extends Error {
  /**
   * @param {string} [message]
   * @param {{ claims?: Record<string, unknown>, cause?: unknown }} [options] `claims` only when the
   *   signature verified (the token is ours, a claim failed), so they can be trusted for logs
   */
  constructor(message = 'invalid access token', options = {}) {
    super(message, { cause: options.cause });
    this.name = 'UnauthorizedError';
    /** @readonly */
    this.status = 401;
    /** @readonly */
    this.code = 'invalid_token';
    /** @type {Record<string, unknown> | undefined} */
    this.claims = options.claims;
    /** @readonly @type {Record<string, string>} */
    this.headers = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };
  }

  /** `401 {"error":"invalid_token"}` with `WWW-Authenticate` and `Cache-Control: no-store`. @returns {Response} */
  toResponse() {
    return Response.json(
      { error: this.code },
      { status: this.status, headers: { ...this.headers, 'Cache-Control': 'no-store' } },
    );
  }
}

/**
 * The session store could not be reached or did not answer in time. Answer 503 with `Retry-After`
 * — never 401: a 401 would make the client log the user out, a 503 makes it try again.
 */
export class ServiceUnavailableError extends Error {
  /** @param {string} [message] @param {{ cause?: unknown, retryAfter?: number }} [options] retryAfter in s */
  constructor(message = 'session store unavailable', options = {}) {
    super(message, { cause: options.cause });
    this.name = 'ServiceUnavailableError';
    /** @readonly */
    this.status = 503;
    /** @readonly */
    this.code = 'temporarily_unavailable';
    /** @readonly @type {Record<string, string>} */
    this.headers = { 'Retry-After': String(options.retryAfter ?? 1) };
  }

  /** `503 {"error":"temporarily_unavailable"}` with `Retry-After` and `Cache-Control: no-store`. @returns {Response} */
  toResponse() {
    return Response.json(
      { error: this.code },
      { status: this.status, headers: { ...this.headers, 'Cache-Control': 'no-store' } },
    );
  }
}

/** @param {unknown} error @returns {error is UnauthorizedError} */
export const isUnauthorizedError = (error) =>
  error instanceof UnauthorizedError || (error instanceof Error && error.name === 'UnauthorizedError');

/** @param {unknown} error @returns {error is ServiceUnavailableError} */
export const isServiceUnavailableError = (error) =>
  error instanceof ServiceUnavailableError || (error instanceof Error && error.name === 'ServiceUnavailableError');
