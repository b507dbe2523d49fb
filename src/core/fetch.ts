import { probeCors } from './http.js';
import type { ResolvedOptions } from './options.js';

/** `fetch`'s own signature. */
export type AuthFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** What authFetch needs from its session. The token never leaves these closures. */
export interface AuthFetchHooks {
  options(): ResolvedOptions;
  /** Whether `origin` may receive the bearer (the session's own, private list). */
  allowed(origin: string): boolean;
  /** Resolves once the restore has settled. */
  whenSettled(): Promise<void>;
  /**
   * A token fresh enough to send (refreshing first if stale); after a 401 answered to `used`, the
   * token to retry with. `null` when there is no session, or when a refresh would not help.
   * `refreshed` hears of a refresh this call made: `undefined` when it succeeded, its error else.
   */
  token(used?: string, refreshed?: (error?: unknown) => void): Promise<string | null>;
  /** Reports a retry (origin and path only). */
  retried(url: string): void;
  /** The held token's session id, if it has one. */
  sid(): string | null;
}

/** How long 401s of an endpoint do not refresh once a token minted for its 401 was refused too. */
const FUTILE_PAUSE = 30_000;
/** Endpoints paused at once, at most: the oldest pause goes first. */
const MAX_PAUSED = 64;

/**
 * Builds the session's `authFetch`: same signature and result as `fetch`.
 *
 * - The final `Request` is built first — from a string, a `URL`, any object with a `toString`, or
 *   a `Request` of any realm or subclass — and the bearer policy is decided on that request's own
 *   parsed URL, which is exactly what is sent (also on the retry). An input that reads differently
 *   twice is read once.
 * - `Authorization: Bearer …` only for exact allowed origins (page, api, `allowedOrigins`); every
 *   other request goes out exactly as `fetch(input, init)` would send it. A redirect to another
 *   origin never carries the header (the Fetch standard removes it; tested in every engine).
 * - `credentials: 'include'` for the api's origin unless the caller chose otherwise.
 * - Waits for the restore; refreshes first when the token is stale.
 * - On 401 refreshes once and retries once; a second 401 is returned as it is. A 401 with
 *   `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750: a new token would not help)
 *   never refreshes, and when a retry with a token minted for it is refused as well, that
 *   endpoint (its origin and path, in this session) does not refresh on 401 for
 *   {@link FUTILE_PAUSE} ms: one route that rejects every token does not speak for the others.
 * - A request that already carries an `Authorization` header is sent as it is, never retried.
 * - A `ReadableStream` body cannot be replayed: on 401 the session is refreshed (so the next call
 *   works) and the 401 is returned.
 * - A refresh that fails at network level rejects with the typed `NetworkError`, as `fetch` rejects
 *   when the network fails; it never ends the session.
 */
export function createAuthFetch(hooks: AuthFetchHooks): AuthFetch {
  // Endpoints where a refresh did not fix a 401, until when (session clock).
  const paused = new Map<string, number>();
  return async (input, init) => {
    // Read the input once, into a Request of this realm: from here on only its URL counts.
    const request = new Request(input, init);
    const url = new URL(request.url);
    const { api, clock } = hooks.options();
    if (!hooks.allowed(url.origin)) return fetch(request);
    await hooks.whenSettled();

    // The caller's choice stands (an init option, or the one a Request was built with).
    const chosen = init?.credentials ?? (isRequest(input) ? input.credentials : undefined);
    const original = chosen || url.origin !== api.origin ? request : new Request(request, { credentials: 'include' });
    // At most one refresh per call: one made for staleness here is not followed by one for a 401.
    let refreshed: { error?: unknown } | undefined;
    const token = original.headers.has('Authorization')
      ? null
      : await hooks.token(undefined, (error) => (refreshed = { error }));
    if (token === null) return fetch(original);
    const send = (request: Request) =>
      fetch(request).catch((error: unknown) => {
        // Another origin's answer without CORS headers reads as a network failure: say what it is.
        if (error instanceof TypeError)
          probeCors(request.url, `authFetch: ${request.method} ${url.origin}${url.pathname}`, 'config');
        throw error;
      });
    const replayable = !(init?.body instanceof ReadableStream);
    // The first attempt sends a clone, so the original (body included) is left for the retry.
    // (Not decided on `original.body`: Firefox has no `Request.body`.)
    const response = await send(withBearer(replayable ? original.clone() : original, token));
    if (
      response.status !== 401 ||
      /\berror\s*=\s*"?insufficient_scope\b/i.test(response.headers.get('WWW-Authenticate') ?? '')
    ) {
      return response;
    }
    const endpoint = `${hooks.sid()} ${url.origin}${url.pathname}`;
    if (clock() < (paused.get(endpoint) ?? -Infinity)) return response;
    if (refreshed) {
      // A token refreshed for this very call was refused: another refresh would not help. If that
      // refresh failed (a stale token went out), its error is why there is no better token.
      if (refreshed.error === undefined) return response;
      response.body?.cancel().catch(() => {});
      throw refreshed.error;
    }
    if (!replayable) {
      hooks.token(token).catch(() => {});
      return response;
    }
    const next = await hooks.token(token);
    if (next === null) return response;
    // Not awaited: a body with a clone elsewhere (logging around fetch) finishes cancelling only when every clone does.
    response.body?.cancel().catch(() => {});
    hooks.retried(url.origin + url.pathname);
    const retried = await send(withBearer(original, next));
    if (retried.status === 401) {
      paused.delete(endpoint);
      paused.set(endpoint, clock() + FUTILE_PAUSE);
      if (paused.size > MAX_PAUSED) paused.delete(paused.keys().next().value!);
    }
    return retried;
  };
}

/** A Request of any realm (an iframe's, another micro-frontend's window): `instanceof` fails there. */
const isRequest = (input: unknown): input is Request => Object.prototype.toString.call(input) === '[object Request]';

function withBearer(request: Request, token: string): Request {
  request.headers.set('Authorization', `Bearer ${token}`);
  return request;
}
