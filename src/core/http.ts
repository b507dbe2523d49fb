import { type AuthOperation, HttpError, NetworkError, ProtocolError, RateLimitError, TimeoutError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** What the session needs of an answer from its own endpoints. */
export interface Exchange {
  status: number;
  /** The body, read within the same timeout as the headers. */
  text: string;
  /** Clock reading when the response headers arrived: the start of a granted token lifetime. */
  receivedAt: number;
  /** The response headers (`Date`, `Retry-After`, as far as CORS lets the page read them). */
  headers: Headers;
}

export interface ExchangeOptions {
  operation: AuthOperation;
  timeout: number;
  clock: () => number;
  /** Aborts the exchange from outside (logout); its `reason` is thrown as it is. */
  signal?: AbortSignal;
}

/**
 * One request to a session endpoint, with a timeout that also covers reading the body. Failures
 * become typed errors: `TypeError` from fetch → {@link NetworkError}, the timeout → {@link TimeoutError}.
 * Messages carry the method and URL of the endpoint (never a header or a body).
 */
export async function exchange(url: string, init: RequestInit, options: ExchangeOptions): Promise<Exchange> {
  const { operation, timeout, clock, signal } = options;
  // One controller of our own, referenced by its timer and listener until the exchange ends: a
  // combined signal (AbortSignal.any) that nothing references can be garbage-collected while the
  // request is pending (WebKit does), and the timeout is then lost.
  const controller = new AbortController();
  const abort = () => controller.abort();
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), abort()), timeout);
  signal?.addEventListener('abort', abort);
  if (signal?.aborted) abort();
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const receivedAt = clock();
    return { status: response.status, text: await response.text(), receivedAt, headers: response.headers };
  } catch (cause) {
    if (signal?.aborted) throw signal.reason;
    const where = `${operation}: ${init.method} ${url}`;
    if (timedOut) throw new TimeoutError(`${where} timed out after ${timeout} ms`, { operation });
    throw new NetworkError(`${where} failed: the server could not be reached`, { operation, cause });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}

/**
 * The typed error of an unexpected status. 5xx, 408 and 429 mean "try again later", not "the
 * session is over": a {@link NetworkError} carrying the server's `Retry-After` (seconds, or an HTTP
 * date) when it sent one — a {@link RateLimitError} for 429. Any other status is an {@link HttpError}.
 */
export function statusError(
  message: string,
  status: number,
  headers: Headers,
  operation: AuthOperation,
): HttpError | NetworkError {
  if (status < 500 && status !== 408 && status !== 429) return new HttpError(message, { status, operation });
  const header = headers.get('Retry-After')?.trim() ?? '';
  const seconds = /^\d+$/.test(header)
    ? Number(header)
    : Math.ceil((Date.parse(header) - (serverDate(headers) ?? Date.now())) / 1000);
  const retryAfter = seconds >= 0 ? seconds : undefined;
  return status === 429
    ? new RateLimitError(message, retryAfter, { operation })
    : new NetworkError(message, { status, operation, retryAfter });
}

/** The server's clock when it answered, from its `Date` header; `undefined` when unreadable. */
export function serverDate(headers: Headers): number | undefined {
  const date = Date.parse(headers.get('Date') ?? '');
  return Number.isNaN(date) ? undefined : date;
}

/** The token response body: `{ access_token, expires_in? }`. Anything else is a {@link ProtocolError}. */
export function parseTokenBody(text: string, operation: AuthOperation): { accessToken: unknown; expiresIn: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProtocolError(`${operation}: the response body is not JSON`, { operation });
  }
  if (typeof body !== 'object' || body === null || !('access_token' in body)) {
    throw new ProtocolError(`${operation}: the response has no access_token`, { operation });
  }
  const { access_token: accessToken, expires_in: expiresIn } = body as Record<string, unknown>;
  return { accessToken, expiresIn };
}

/** The session's own endpoints. */
export type Endpoint = 'login' | 'refresh' | 'logout';

/**
 * One request to a session endpoint as `options` describe it: its URL and method, the anti-CSRF
 * header, JSON for a body, credentials, and `keepalive` for a logout (so it survives the navigation
 * or the closing tab that often follows it). Resolves for 2xx and 401; any other status becomes a
 * typed error (see {@link statusError}).
 */
export async function request(
  options: ResolvedOptions,
  operation: Endpoint,
  body?: string,
  signal?: AbortSignal,
): Promise<Exchange> {
  const { csrfHeader, timeout, clock } = options;
  const url = options[`${operation}Url`];
  const method = operation === 'login' ? 'POST' : options[`${operation}Method`];
  const headers: Record<string, string> = body ? { 'Content-Type': 'application/json' } : {};
  if (csrfHeader) headers[csrfHeader[0]] = csrfHeader[1];
  const init: RequestInit = { method, headers, body, credentials: 'include', keepalive: operation === 'logout' };
  const answer = await exchange(url, init, { operation, timeout, clock, signal });
  const { status } = answer;
  if (status === 401 || (status >= 200 && status < 300)) return answer;
  throw statusError(`${operation}: ${method} ${url} answered ${status}`, status, answer.headers, operation);
}
