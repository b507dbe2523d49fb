/**
 * auth-shell/vue — Vue 3: the `useAuth` composable on the page's shared session, and
 * `isAuthShellElement` for Vue's template compiler.
 *
 * `useAuth(api)` reads the session every `<auth-provider>` with that `api` shares (one per page, in
 * every bundled copy of auth-shell) into read-only refs, and stops following it when the component
 * (or effect scope) that called it is disposed. A composable cannot see the element tree, so it
 * takes the provider's `api` (default `/api`) rather than looking for the nearest provider; that is
 * the same session.
 *
 * @example
 * ```vue
 * <script setup lang="ts">
 * import 'auth-shell';
 * import { useAuth } from 'auth-shell/vue';
 * const { state, user, logout } = useAuth('/api');
 * </script>
 *
 * <template>
 *   <auth-provider api="/api">
 *     <p v-if="state === 'authenticated'">{{ user?.name }} <button @click="logout()">Sign out</button></p>
 *   </auth-provider>
 * </template>
 * ```
 * @module
 */
import { computed, getCurrentScope, onScopeDispose, shallowRef, type ComputedRef } from 'vue';
import { TAGS } from './tags.js';
import { handleOf, sessionOf, type AuthHandle, type SessionSource } from './adapters/handle.js';
import type { SessionSnapshot, SessionState } from './core/events.js';
import type { User } from './core/token-store.js';

export type { AuthHandle, SessionSource } from './adapters/handle.js';

/** What {@link useAuth} returns: read-only refs of the session's state, and its functions. */
export interface VueAuth extends Pick<AuthHandle, 'ready' | 'login' | 'logout' | 'authFetch' | 'openSocket'> {
  /** `{ state, user }`, a new frozen object on every change. */
  readonly snapshot: ComputedRef<SessionSnapshot>;
  /** `restoring`, `authenticated` or `anonymous`. */
  readonly state: ComputedRef<SessionState>;
  /** The user (decoded claims without token bookkeeping), or `null`. For display: the server decides. */
  readonly user: ComputedRef<User | null>;
}

/**
 * The page's session for `api` as reactive state: `state`, `user` and `snapshot` are read-only refs
 * that follow every change — a login or logout here, in another provider, another bundle or another
 * tab — and `ready`, `login`, `logout`, `authFetch`, `openSocket` keep their identity.
 *
 * Call it in `setup()` (or `<script setup>`) or inside an `effectScope`: it stops following the
 * session when that scope is disposed (the component unmounts). Called outside any scope, it
 * follows the session for the page's lifetime.
 *
 * On a server the refs say `restoring` and nothing is requested.
 *
 * @param api the `api` of the page's `<auth-provider>` (default `/api`), or a `Session` (e.g. from
 *   `getSession(options)`).
 *
 * @example
 * ```ts
 * const { state, authFetch } = useAuth('/api');
 * watch(state, async (now) => {
 *   if (now === 'authenticated') orders.value = await (await authFetch('/api/orders')).json();
 *   else orders.value = []; // signed out: drop the previous user's data
 * }, { immediate: true });
 * ```
 */
export function useAuth(api?: SessionSource): VueAuth {
  const session = sessionOf(api);
  const current = shallowRef(session.snapshot);
  const stop = session.subscribe((snapshot) => (current.value = snapshot));
  if (getCurrentScope()) onScopeDispose(stop);
  const { ready, login, logout, authFetch, openSocket } = handleOf(session);
  return {
    snapshot: computed(() => current.value),
    state: computed(() => current.value.state),
    user: computed(() => current.value.user),
    ready,
    login,
    logout,
    authFetch,
    openSocket,
  };
}

const ELEMENTS: ReadonlySet<string> = new Set(Object.values(TAGS));

/**
 * `true` for the tags auth-shell defines (`TAGS`). Give it to Vue's template compiler as
 * `isCustomElement`, so `<auth-provider>`, `<auth-gate>`, `<auth-login-form>` and `<auth-devtools>` in templates are left to the browser
 * instead of being resolved as Vue components (which warns "Failed to resolve component").
 *
 * @example
 * ```ts
 * // vite.config.ts
 * import vue from '@vitejs/plugin-vue';
 * import { isAuthShellElement } from 'auth-shell/vue';
 * export default { plugins: [vue({ template: { compilerOptions: { isCustomElement: isAuthShellElement } } })] };
 *
 * // or, with templates compiled in the browser:
 * app.config.compilerOptions.isCustomElement = (tag) => isAuthShellElement(tag) || tag.startsWith('my-');
 * ```
 */
export const isAuthShellElement = (tag: string): boolean => ELEMENTS.has(tag);
