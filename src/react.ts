/**
 * auth-shell/react — React 19: the `useAuth` hook on the page's shared session, `requireAuthLoader`
 * for React Router, and JSX typings for `<auth-provider>`, `<auth-gate>`, `<auth-login-form>` and
 * `<auth-devtools>` in `React.JSX.IntrinsicElements`, with their attributes and events.
 *
 * `useAuth(api)` reads the session every `<auth-provider>` with that `api` shares (one per page, in
 * every bundled copy of auth-shell) through `useSyncExternalStore`: every component renders the same
 * state in the same pass (no tearing), a server renders `restoring`, and hydration starts from it.
 * A hook cannot see the element tree, so it takes the provider's `api` (default `/api`) rather than
 * looking for the nearest provider; that is the same session.
 *
 * The typings are derived from the elements themselves — each element's `static properties` (the
 * attribute names) and its event map — so they cannot drift from what the elements accept.
 * React 19 sets a custom element's known properties as properties and adds `on<event-name>`
 * function props as event listeners, so `onauth-change={…}` listens to `auth-change`.
 *
 * @example
 * ```tsx
 * import 'auth-shell';
 * import { useAuth } from 'auth-shell/react';
 *
 * function Account() {
 *   const { state, user, logout } = useAuth('/api');
 *   if (state !== 'authenticated') return null;
 *   return <button onClick={() => void logout()}>Sign out {String(user?.name)}</button>;
 * }
 *
 * <auth-provider api="/api" onauth-change={(e) => console.log(e.detail.state)}>
 *   <auth-gate><p slot="pending">…</p><Account /></auth-gate>
 * </auth-provider>
 * ```
 * @module
 */
import { useMemo, useSyncExternalStore } from 'react';
import {
  handleOf,
  serverHandleOf,
  sessionOf,
  subscribeOf,
  type AuthHandle,
  type SessionSource,
} from './adapters/handle.js';
import { requireAuth, type RequireAuthOptions } from './core/guard.js';
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { AuthDevtools } from './elements/auth-devtools.js';
import type { AuthGate } from './elements/auth-gate.js';
import type { AuthLoginForm, AuthLoginFormEventMap } from './elements/auth-login-form.js';
import type { AuthProvider, AuthProviderEventMap } from './elements/auth-provider.js';
import type { TAGS } from './tags.js';

type Element<T> = DetailedHTMLProps<HTMLAttributes<T>, T>;

/** The attribute of property `K` declared as `D`: its `attribute`, else the lowercased name (ReactiveElement's rule). */
type AttributeOf<K extends string, D> = D extends { attribute: false }
  ? never
  : D extends { attribute: infer A extends string }
    ? A
    : Lowercase<K>;

/** An element's attributes in JSX, from its class's `static properties` and its instance types. */
export type AttributesOf<C extends { properties: object }, I> = {
  [K in keyof C['properties'] & keyof I & string as AttributeOf<K, C['properties'][K]>]?: I[K] | string;
};

/** An element's events as React 19 `on<event-name>` props. */
export type EventPropsOf<M> = { [K in keyof M & string as `on${K}`]?: (event: M[K]) => void };

/** Attributes and events of `<auth-provider>` in JSX. */
export interface AuthProviderJsx
  extends Element<AuthProvider>, AttributesOf<typeof AuthProvider, AuthProvider>, EventPropsOf<AuthProviderEventMap> {}

/** Attributes of `<auth-gate>` in JSX. */
export interface AuthGateJsx extends Element<AuthGate>, AttributesOf<typeof AuthGate, AuthGate> {}

/** Attributes and events of `<auth-login-form>` in JSX. */
export interface AuthLoginFormJsx
  extends
    Element<AuthLoginForm>,
    AttributesOf<typeof AuthLoginForm, AuthLoginForm>,
    EventPropsOf<AuthLoginFormEventMap> {}

export type { AuthHandle, SessionSource } from './adapters/handle.js';

/**
 * The page's session for `api` as React state: `{ state, user, isLoading, isAuthenticated, error,
 * hasRole, ready, login, logout, authFetch, openSocket }`, re-rendering on every change of state,
 * user or `error` — a login or logout here, in another provider, another bundle or another tab. The
 * object is the same between changes; `login`, `logout`, `authFetch`, `openSocket` and `ready` keep
 * their identity, and `hasRole` changes only with the user, so all are safe in dependency lists.
 *
 * @param api the `api` of the page's `<auth-provider>` (default `/api`), or a `Session` (e.g. from
 *   `getSession(options)`).
 *
 * On a server it renders `restoring` and makes no request; a page hydrating that markup renders
 * `restoring` first too, then the session's state.
 *
 * @example
 * ```tsx
 * const { state, user, login, authFetch } = useAuth('/api');
 * useEffect(() => {
 *   if (state === 'authenticated') void authFetch('/api/me').then((r) => r.json()).then(setMe);
 * }, [state, authFetch]);
 * ```
 */
export function useAuth(api?: SessionSource): AuthHandle {
  const session = useMemo(() => sessionOf(api), [api]);
  return useSyncExternalStore(
    subscribeOf(session),
    () => handleOf(session),
    () => serverHandleOf(session),
  );
}

/** Options of {@link requireAuthLoader}: the app's login route (default `/login`). */
export type RequireAuthLoaderOptions = Pick<RequireAuthOptions, 'loginPath'>;

/**
 * A React Router loader (data mode, or `clientLoader` in framework mode) that lets a route render
 * only for a signed-in user: it waits for the session to decide, then resolves `null`, or throws a
 * redirect to the login route with the way back (`/login?returnTo=%2Forders`) — a `Response`, as
 * React Router's `redirect()` makes, so auth-shell needs no router import. The login page goes back
 * with `navigate(readReturnTo(location.search))` (from `auth-shell/core`) once signed in.
 *
 * @param api the `api` of the page's `<auth-provider>` (default `/api`), or a `Session`.
 *
 * @example
 * ```ts
 * const guard = requireAuthLoader('/api');
 * createBrowserRouter([
 *   { path: '/orders', loader: guard, Component: Orders },
 *   { path: '/reports', loader: async (args) => (await guard(args), loadReports()), Component: Reports },
 *   { path: '/login', Component: Login },
 * ]);
 * ```
 */
export function requireAuthLoader(
  api?: SessionSource,
  options: RequireAuthLoaderOptions = {},
): (args: { request: Request }) => Promise<null> {
  return async ({ request }) => {
    const login = await requireAuth(api, { ...options, returnTo: new URL(request.url) });
    if (login) throw new Response(null, { status: 302, headers: { Location: login } });
    return null;
  };
}

/** Attributes of `<auth-devtools>` in JSX. */
export interface AuthDevtoolsJsx extends Element<AuthDevtools>, AttributesOf<typeof AuthDevtools, AuthDevtools> {}

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- React declares JSX as a namespace; this merges into it
  namespace JSX {
    interface IntrinsicElements {
      [TAGS.provider]: AuthProviderJsx;
      [TAGS.gate]: AuthGateJsx;
      [TAGS.loginForm]: AuthLoginFormJsx;
      [TAGS.devtools]: AuthDevtoolsJsx;
    }
  }
}
