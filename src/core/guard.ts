import { UsageError } from './errors.js';
import type { SessionState } from './events.js';
import { existingSessions, getSession } from './registry.js';
import type { Session } from './session.js';

/** Where a guard or an adapter finds its session: the api of the page's `<auth-provider>`, or a session. */
export type SessionSource = string | Session;

/**
 * The api used when none is given: the one the documentation's providers and the reference backend
 * use. Pages whose provider says otherwise pass their api.
 */
export const DEFAULT_API = '/api';

/** The session for `source`: the page's shared session for an api, or the session given. */
export const sessionOf = (source: SessionSource = DEFAULT_API): Session =>
  typeof source === 'string' ? getSession(source) : source;

/** The query parameter that carries the way back to the login route: `/login?returnTo=%2Forders`. */
export const RETURN_PARAM = 'returnTo';

/** Options of {@link requireAuth}. */
export interface RequireAuthOptions {
  /**
   * Where the visitor wanted to go, to come back to after the login: a path of this site
   * (`/orders?id=7`), or a `URL` — a loader's `request.url` — whose path is taken. Default: the
   * page's own path, query and hash. Anything else (another origin, `//host`, a scheme) is left out.
   */
  readonly returnTo?: string | URL;
  /** The login route of the app (default `/login`): where anonymous visitors are sent. */
  readonly loginPath?: string;
}

const BASE = 'http://auth-shell.invalid';

/**
 * `target` when it is a path of this site (`/orders?id=7#top`), else `fallback`: never another
 * origin, whatever the text — `https://evil.example`, `//evil.example`, `/\evil.example`, a
 * `javascript:` URL, white space that a parser would drop are all refused. A `URL` object counts by its path (it is
 * the app's own request, as a router's loader gets it). What the login page does with the
 * `returnTo` it was given: a link anyone can craft must not send the user to another site.
 *
 * @example
 * ```ts
 * router.replace(safeReturnTo(route.query.returnTo)); // Vue Router, on the login page
 * ```
 */
export function safeReturnTo(target: unknown, fallback = '/'): string {
  const text = target instanceof URL ? target.pathname + target.search + target.hash : target;
  // One leading slash, no backslash and no white space (a URL parser drops tabs and newlines, so
  // `/\t/evil.example` would become `//evil.example`): a path, which no parser turns into another
  // host. Parsed once more, as a browser would, to be sure of it.
  if (typeof text !== 'string' || !/^\/(?![/\\])[^\\\s]*$/.test(text)) return fallback;
  const url = new URL(text, BASE);
  return url.origin === BASE ? url.pathname + url.search + url.hash : fallback;
}

/**
 * The way back a guard gave the login route, checked with {@link safeReturnTo}: the `returnTo`
 * parameter of `search` (default: the page's `location.search`), or `fallback` (`/`) when there is
 * none or it is not a path of this site. Call it after the login, and navigate there.
 *
 * @example
 * ```ts
 * form.addEventListener('auth-login', () => navigate(readReturnTo()));
 * ```
 */
export const readReturnTo = (
  search: string | URLSearchParams = globalThis.location?.search ?? '',
  fallback = '/',
): string => safeReturnTo(new URLSearchParams(search).get(RETURN_PARAM), fallback);

/**
 * A route guard for any router: resolves once the session has decided, with `null` when someone is
 * signed in, or else with the login route to send the visitor to, carrying the way back
 * (`/login?returnTo=%2Forders`); the login page reads it with {@link readReturnTo}. On a server,
 * where the browser decides the session (see `getSession`), it decides nothing and resolves `null`.
 *
 * @param source the `api` of the page's `<auth-provider>` (default `/api`), or a `Session` (e.g. from
 *   {@link firstSession}).
 *
 * @example
 * ```ts
 * // a SvelteKit +page.ts (ssr = false), or any loader
 * export async function load({ url }) {
 *   const login = await requireAuth('/api', { returnTo: url });
 *   if (login) redirect(307, login);
 * }
 * ```
 */
export async function requireAuth(
  source: SessionSource = DEFAULT_API,
  { returnTo = here(), loginPath = '/login' }: RequireAuthOptions = {},
): Promise<string | null> {
  if ((await decided(sessionOf(source))) !== 'anonymous') return null;
  const back = safeReturnTo(returnTo, '');
  return back
    ? `${loginPath}${loginPath.includes('?') ? '&' : '?'}${RETURN_PARAM}=${encodeURIComponent(back)}`
    : loginPath;
}

const here = () => (globalThis.location ? location.pathname + location.search + location.hash : undefined);

/** The session's state once it has decided: after `ready`, and after any restore that followed it. */
async function decided(session: Session): Promise<SessionState> {
  await session.ready;
  // On a server the session stays `restoring` (inert): nothing to wait for.
  if (session.state !== 'restoring' || typeof document === 'undefined') return session.state;
  return new Promise((resolve) => {
    const stop = session.subscribe(({ state }) => {
      if (state === 'restoring') return;
      stop();
      resolve(state);
    });
  });
}

/**
 * The page's first session, once it is ready — for code that does not know the api: the session of
 * whichever `<auth-provider>` (of any bundled copy of auth-shell) or `getSession` call comes first,
 * resolved once its restore has settled. Rejects with the `UsageError` of a provider that cannot make
 * a session (a missing or invalid `api`), and at once on a server, which has no providers.
 *
 * @example
 * ```ts
 * const session = await firstSession();
 * const login = await requireAuth(session);
 * ```
 */
export function firstSession(): Promise<Session> {
  return new Promise((resolve, reject) => {
    if (typeof document === 'undefined') {
      reject(new UsageError('firstSession(): there is no page here (a server?), so no <auth-provider> will come'));
      return;
    }
    const found = (session: Session) => {
      for (const type of TYPES) document.removeEventListener(type, heard, true);
      void session.ready.then(() => resolve(session));
    };
    // Every provider re-dispatches its session's steps (bubbling and composed): the first one of a
    // session made after this call says where it is. Capture: no listener can stop it before us. The
    // provider is the event's first target, also inside a shadow root (`target` is then its host).
    const heard = (event: Event) => {
      const provider = event.composedPath()[0] as { session?: Session | null } | undefined;
      if (!provider || !('session' in provider)) return;
      if (provider.session) found(provider.session);
      else if (event.type === 'auth-error') reject((event as CustomEvent<{ error: unknown }>).detail.error);
    };
    for (const type of TYPES) document.addEventListener(type, heard, true);
    const [made] = existingSessions();
    if (made) found(made);
  });
}

const TYPES = ['auth-activity', 'auth-change', 'auth-error'];
