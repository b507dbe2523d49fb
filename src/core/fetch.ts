import type { ResolvedOptions } from './options.js';
import { resolveUrl } from './origins.js';

/** `fetch`'s own signature. */
export type AuthFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** What authFetch needs from its session. The token never leaves these closures. */
export interface AuthFetchHooks {
  options(): ResolvedOptions;
  /** Resolves once the restore has settled. */
  whenSettled(): Promise<void>;
  /**
   * A token fresh enough to send (refreshing first if stale); after a 401 answered to `used`, the
   * token to retry with. `null` when there is no session.
   */
  token(used?: string): Promise<string | null>;
  /** Reports a retry (origin and path only). */
  retried(url: string): void;
}

/**
 * Builds the session's `authFetch`: same signature and result as `fetch`.
 *
 * - `Authorization: Bearer …` only for exact allowed origins (page, api, `allowedOrigins`); every
 *   other request goes out exactly as `fetch(input, init)` would send it.
 * - `credentials: 'include'` for the api's origin unless the caller chose otherwise.
 * - Waits for the restore; refreshes first when the token is stale.
 * - On 401 refreshes once and retries once; a second 401 is returned as it is.
 * - A request that already carries an `Authorization` header is sent as it is, never retried.
 * - A `ReadableStream` body cannot be replayed: on 401 the session is refreshed (so the next call
 *   works) and the 401 is returned.
 * - A refresh that fails at network level rejects with the typed `NetworkError`, as `fetch` rejects
 *   when the network fails; it never ends the session.
 */
export function createAuthFetch(hooks: AuthFetchHooks): AuthFetch {
  return async (input, init) => {
    const url = resolveUrl(input instanceof Request ? input.url : input, 'authFetch');
    const { api, bearerOrigins } = hooks.options();
    if (!bearerOrigins.has(url.origin)) return fetch(input, init);
    await hooks.whenSettled();

    const credentials = init?.credentials ?? (input instanceof Request ? input.credentials : url.origin === api.origin ? 'include' : undefined);
    const original = new Request(input, { ...init, credentials });
    const token = original.headers.has('Authorization') ? null : await hooks.token();
    if (token === null) return fetch(original);
    const replayable = !(init?.body instanceof ReadableStream);
    // A request without a body can be sent twice as it is; one with a body is cloned for the retry.
    const response = await fetch(withBearer(replayable && original.body ? original.clone() : original, token));
    if (response.status !== 401) return response;

    if (!replayable) {
      hooks.token(token).catch(() => {});
      return response;
    }
    const next = await hooks.token(token);
    if (next === null) return response;
    await response.body?.cancel().catch(() => {});
    hooks.retried(url.origin + url.pathname);
    return fetch(withBearer(original, next));
  };
}

function withBearer(request: Request, token: string): Request {
  request.headers.set('Authorization', `Bearer ${token}`);
  return request;
}
