/**
 * auth-shell/vue — Vue 3: the `useAuth` composable on the page's shared session,
 * `requireAuthGuard` for Vue Router, `isAuthShellElement` for Vue's template compiler, and (through
 * the generated `vue-components.d.ts` its declarations load) the elements in Vue's
 * `GlobalComponents`, so `vue-tsc` checks their attributes and events in templates.
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
import { handleOf, sessionOf, subscribeOf, type AuthHandle, type SessionSource } from './adapters/handle.js';
import { requireAuth, type RequireAuthOptions } from './core/guard.js';
import type { AuthError } from './core/errors.js';
import type { SessionSnapshot, SessionState } from './core/events.js';
import type { User } from './core/token-store.js';

export type { AuthHandle, SessionSource } from './adapters/handle.js';

/** What {@link useAuth} returns: read-only refs of the session's state, and its functions. */
export interface VueAuth extends Pick<
  AuthHandle,
  'ready' | 'login' | 'logout' | 'authFetch' | 'openSocket' | 'hasRole'
> {
  /** `{ state, user }`, a new frozen object on every change. */
  readonly snapshot: ComputedRef<SessionSnapshot>;
  /** `restoring`, `authenticated` or `anonymous`. */
  readonly state: ComputedRef<SessionState>;
  /** The user (decoded claims without token bookkeeping), or `null`. For display: the server decides. */
  readonly user: ComputedRef<User | null>;
  /** `true` while the session restores: show a placeholder, not the login. */
  readonly isLoading: ComputedRef<boolean>;
  /** `true` when someone is signed in. */
  readonly isAuthenticated: ComputedRef<boolean>;
  /** The last failure nobody awaited, or `null`; cleared when the session next succeeds (see `AuthHandle.error`). */
  readonly error: ComputedRef<AuthError | null>;
}

/**
 * The page's session for `api` as reactive state: `state`, `user`, `snapshot`, `isLoading`,
 * `isAuthenticated` and `error` are read-only refs that follow every change — a login or logout
 * here, in another provider, another bundle or another tab — and `ready`, `login`, `logout`,
 * `authFetch`, `openSocket`, `hasRole` keep their identity. `hasRole(role)` reads the user
 * reactively: in a template or a `computed` it is evaluated again when the user changes.
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
  const current = shallowRef(handleOf(session));
  const stop = subscribeOf(session)(() => (current.value = handleOf(session)));
  if (getCurrentScope()) onScopeDispose(stop);
  const { ready, login, logout, authFetch, openSocket } = current.value;
  const of = <K extends keyof AuthHandle>(key: K) => computed(() => current.value[key]);
  return {
    // The session's own snapshot, re-read when the handle changes: the same object until state or user do.
    snapshot: computed(() => (current.value, session.snapshot)),
    state: of('state'),
    user: of('user'),
    isLoading: of('isLoading'),
    isAuthenticated: of('isAuthenticated'),
    error: of('error'),
    hasRole: (role) => current.value.hasRole(role),
    ready,
    login,
    logout,
    authFetch,
    openSocket,
  };
}

/** Options of {@link requireAuthGuard}: the app's login route (default `/login`). */
export type RequireAuthGuardOptions = Pick<RequireAuthOptions, 'loginPath'>;

/** What a Vue Router navigation guard is given of the route being entered (`RouteLocationNormalized`). */
export interface GuardedRoute {
  readonly fullPath: string;
  readonly meta: Record<string | number | symbol, unknown>;
}

/**
 * A Vue Router `beforeEach` guard: a route whose `meta` (or a parent's) has `requiresAuth: true`
 * is entered only by a signed-in user. It waits for the session to decide, then lets the navigation
 * through, or redirects to the login route with the way back (`/login?returnTo=%2Forders`). The login
 * page goes back with `router.replace(safeReturnTo(route.query.returnTo))` (from `auth-shell/core`).
 * Vue Router is not imported: the guard returns what Vue Router understands, `true` or a path.
 *
 * @param api the `api` of the page's `<auth-provider>` (default `/api`), or a `Session`.
 *
 * @example
 * ```ts
 * const router = createRouter({ history: createWebHistory(), routes: [
 *   { path: '/orders', component: Orders, meta: { requiresAuth: true } },
 *   { path: '/login', component: Login },
 * ] });
 * router.beforeEach(requireAuthGuard('/api'));
 * ```
 */
export function requireAuthGuard(
  api?: SessionSource,
  options: RequireAuthGuardOptions = {},
): (to: GuardedRoute) => Promise<true | string> {
  return async (to) =>
    (to.meta['requiresAuth'] ? await requireAuth(api, { ...options, returnTo: to.fullPath }) : null) ?? true;
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
