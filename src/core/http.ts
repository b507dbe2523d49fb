import {
  type AuthOperation,
  HttpError,
  NetworkError,
  ProtocolError,
  RateLimitError,
  SetupError,
  TimeoutError,
  type SetupProblem,
} from './errors.js';
import { DEV } from './dev.js';
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
  /** The operation, method, URL, status and content type: how messages name this answer. */
  where: string;
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
    const type = response.headers.get('Content-Type')?.split(';')[0] || 'no content type';
    const where = `${operation}: ${init.method} ${url} answered ${response.status} (${type})`;
    const text = await response.text();
    // Not every fetch gives up at once when aborted: an answer that came after the deadline (or the
    // logout) is not one.
    controller.signal.throwIfAborted();
    return { status: response.status, text, receivedAt, headers: response.headers, where };
  } catch (cause) {
    if (signal?.aborted) throw signal.reason;
    const where = `${operation}: ${init.method} ${url}`;
    if (timedOut) throw new TimeoutError(`${where} timed out after ${timeout} ms`, { operation });
    probeCors(url, where, operation);
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

/** Where a token answer keeps the token and its lifetime: field names, `.` for nesting. */
export interface TokenFields {
  readonly tokenField: string;
  readonly expiresInField: string;
}

/** The value at `path` (`a.b`) of a parsed body, or `undefined`. */
const at = (body: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], body);

/**
 * The token answer's body: the token and its lifetime where `fields` say (by default
 * `{ access_token, expires_in? }`). Not JSON is a {@link ProtocolError}; no token there is a
 * set-up mistake ({@link SetupError} `token-field`), said once in the console.
 */
export function parseTokenBody(
  answer: Exchange,
  operation: AuthOperation,
  { tokenField, expiresInField }: TokenFields,
): { accessToken: unknown; expiresIn: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    throw new ProtocolError(`${answer.where}: the body is not JSON`, { operation, status: answer.status });
  }
  const accessToken = at(body, tokenField);
  if (accessToken === undefined) throw setup('token-field', answer, operation, tokenField);
  return { accessToken, expiresIn: at(body, expiresInField) };
}

/** The `error` field of a JSON error body (OAuth style), when there is a short one; else `''`. */
export function errorOf(text: string): string {
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    return typeof error === 'string' && error.length <= 64 ? error : '';
  } catch {
    return '';
  }
}

/** What each set-up mistake most likely is, in the words a developer needs (said once per cause). */
const HINTS: Record<SetupProblem, string> | null = !DEV
  ? null
  : {
      html: "an HTML page where JSON was expected: the path is answered by a single-page app's fallback or another server — check the api attribute and your dev server's proxy",
      'not-found':
        'no such endpoint — check the api attribute and the login-path, refresh-path and logout-path attributes against your backend',
      method:
        'the endpoint does not take this method — a seed-style backend needs refresh-method="GET" and logout-method="GET"',
      forbidden:
        "refused by a CSRF or Origin check — send the header your backend expects (csrf-header) and allow this page's origin there",
      'token-field':
        'no token where the page looks for it (field "{}") — set token-field (and expires-in-field) to where your backend puts them',
      cookie:
        'the refresh cookie did not come back — check its SameSite, Secure, Domain and Path attributes against where this page and the api are',
      cors: "the browser hid the answer: it lacks CORS headers (Access-Control-Allow-Origin with this page's origin, Access-Control-Allow-Credentials: true, also on 401 and 403)",
    };

/**
 * After a request to another origin failed at network level: when that server answers a plain
 * `no-cors` request (no credentials, nothing readable), the failure was the browser hiding an
 * answer without CORS headers — a set-up mistake, said once (the failure itself stays a network
 * error: no test of the network is certain).
 */
export function probeCors(url: string, where: string, operation: AuthOperation): void {
  // Only a page (or a worker of one) has CORS: on a server, nothing to tell.
  const page = globalThis.location?.origin;
  if (!page || new URL(url).origin === page || probed.has(where)) return;
  probed.add(where);
  fetch(url, { mode: 'no-cors', credentials: 'omit' }).then(
    () => void setup('cors', { where: `${where} failed` }, operation),
    () => {},
  );
}

/** Requests already probed for CORS on this page: each once. */
const probed = new Set<string>();

/** Causes already said in the console on this page: each once. */
const said = new Set<string>();

/**
 * The set-up mistake `problem` seen on `answer` (or an operation and URL), said once per cause with
 * `console.warn` — visible without `debug` — and returned as a {@link SetupError}. Never a token:
 * only the method, URL, status, content type and the server's error field are named.
 */
export function setup(
  problem: SetupProblem,
  answer: Pick<Exchange, 'where'> & { status?: number },
  operation: AuthOperation,
  detail = '',
): SetupError {
  const hint = DEV ? HINTS![problem].replace('{}', detail) : `set-up problem "${problem}"${detail && ` (${detail})`}`;
  const error = new SetupError(problem, `${answer.where}: ${hint}`, {
    operation,
    status: answer.status,
  });
  const cause = `${problem} ${answer.where}`;
  if (!said.has(cause)) {
    said.add(cause);
    console.warn(`auth-shell: ${error.message}`);
  }
  return error;
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
  const error = errorOf(answer.text);
  // The server's own word for what went wrong, when it said one (never anything else of the body).
  if (error) answer.where += `, error "${error}"`;
  const { where } = answer;
  const problem: SetupProblem | undefined =
    status === 404
      ? 'not-found'
      : status === 405
        ? 'method'
        : status === 403 && (error === '' || /csrf|origin|host|cross.?site/i.test(error))
          ? 'forbidden'
          : status >= 200 && status < 300 && /html/i.test(answer.headers.get('Content-Type') ?? '')
            ? 'html'
            : undefined;
  if (problem) throw setup(problem, answer, operation);
  if (status === 401 || (status >= 200 && status < 300)) return answer;
  throw statusError(where, status, answer.headers, operation);
}
