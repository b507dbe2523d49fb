import { type AuthOperation, NetworkError, ProtocolError, TimeoutError } from './errors.js';

/** What the session needs of an answer from its own endpoints. */
export interface Exchange {
  status: number;
  /** The body, read within the same timeout as the headers. */
  text: string;
  /** Clock reading when the response headers arrived: the start of a granted token lifetime. */
  receivedAt: number;
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
  const deadline = AbortSignal.timeout(timeout);
  try {
    const response = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
    const receivedAt = clock();
    return { status: response.status, text: await response.text(), receivedAt };
  } catch (cause) {
    if (signal?.aborted) throw signal.reason;
    const where = `${operation}: ${init.method} ${url}`;
    if (deadline.aborted) throw new TimeoutError(`${where} timed out after ${timeout} ms`, { operation });
    throw new NetworkError(`${where} failed: the server could not be reached`, { operation, cause });
  }
}

/** Statuses that mean "try again later", not "the session is over". */
export function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
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
