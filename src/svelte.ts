/**
 * auth-shell/svelte — the page's shared session as a Svelte store: `authStore(api)` follows
 * Svelte's store contract (`subscribe(run) → unsubscribe`), so `$auth` works in Svelte 4 and 5
 * components (runes mode included) and with `svelte/store`'s `get` and `derived`. It imports
 * nothing from Svelte.
 *
 * A store cannot see the element tree, so it takes the provider's `api` (default `/api`) rather
 * than looking for the nearest provider; that is the same session.
 *
 * @example
 * ```svelte
 * <script>
 *   import 'auth-shell';
 *   import { authStore } from 'auth-shell/svelte';
 *   const auth = authStore('/api');
 * </script>
 *
 * <auth-provider api="/api">
 *   {#if $auth.state === 'authenticated'}
 *     <p>{$auth.user?.name} <button on:click={() => $auth.logout()}>Sign out</button></p>
 *   {/if}
 * </auth-provider>
 * ```
 * @module
 */
import { handleOf, sessionOf, subscribeOf, type AuthHandle, type SessionSource } from './adapters/handle.js';

export type { AuthHandle, SessionSource } from './adapters/handle.js';

/** A readable store of the session, as Svelte's store contract defines it. */
export interface AuthStore {
  /**
   * Calls `run` with the current {@link AuthHandle} now and after every change of state, user or
   * `error`;
   * `invalidate` (Svelte's derived stores pass it) runs for every subscriber before any `run`.
   * Returns the unsubscribe function.
   */
  subscribe(run: (value: AuthHandle) => void, invalidate?: () => void): () => void;
}

/**
 * The page's session for `api` as a readable store of `{ state, user, isLoading, isAuthenticated,
 * error, hasRole, ready, login, logout, authFetch, openSocket }` (an {@link AuthHandle}): a new
 * frozen value on every change of state, user or `error` — a login or logout here, in another
 * provider, another bundle or another tab — whose functions keep their identity (`hasRole` until
 * the user changes).
 * It follows the session only while it has subscribers; the last unsubscribe stops it.
 *
 * On a server (`svelte/server`, SvelteKit's SSR) the value is `restoring` and nothing is requested.
 *
 * @param api the `api` of the page's `<auth-provider>` (default `/api`), or a `Session` (e.g. from
 *   `getSession(options)`).
 *
 * @example
 * ```ts
 * import { derived } from 'svelte/store';
 * export const auth = authStore('/api');
 * export const signedIn = derived(auth, ($auth) => $auth.state === 'authenticated');
 * ```
 */
export function authStore(api?: SessionSource): AuthStore {
  const session = sessionOf(api);
  type Subscriber = [run: (value: AuthHandle) => void, invalidate?: () => void];
  const subscribers = new Set<Subscriber>();
  let value = handleOf(session);
  let stop: (() => void) | undefined;
  // One session listener for all subscribers: every one is invalidated before any runs, as Svelte's
  // own stores do, so derived stores over several of them never see half an update.
  const changed = () => {
    const next = handleOf(session);
    if (next === value) return;
    value = next;
    const now = [...subscribers];
    for (const [, invalidate] of now) invalidate?.();
    // A subscriber that unsubscribed during another's run is not called.
    for (const subscriber of now) if (subscribers.has(subscriber)) subscriber[0](value);
  };
  return {
    subscribe(run, invalidate) {
      const subscriber: Subscriber = [run, invalidate];
      if (subscribers.size === 0) {
        value = handleOf(session);
        stop = subscribeOf(session)(changed);
      }
      subscribers.add(subscriber);
      run(value);
      return () => {
        if (subscribers.delete(subscriber) && subscribers.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
  };
}
