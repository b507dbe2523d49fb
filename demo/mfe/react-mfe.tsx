/**
 * The React micro-frontend (built to dist/react.js, with its own copy of auth-shell): React 19 and
 * React Router 7 in data mode with hash URLs, so it does not fight the host page over the path.
 *
 * Routes are guarded the way the seed article's rootLoader/authLoader do it, on the framework-free
 * core: the loaders await `getSession('/api').ready` before anything renders, then redirect. The
 * wrong route never renders — no flicker. Later changes (a login in another panel, a logout
 * anywhere) re-run the loaders through `router.revalidate()`. Components read the session with
 * auth-shell/react's `useAuth`.
 */
import { StrictMode, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { createHashRouter, redirect, useLoaderData, useRevalidator, type LoaderFunctionArgs } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import '../../src/index.js';
import '../../src/login-form.js';
import { AuthProvider, VERSION } from '../../src/index.js';
import { getSession, type SessionSnapshot } from '../../src/core/index.js';
import { useAuth, type AuthHandle } from '../../src/react.js';

const API = '/api';

interface Item {
  id: string;
  title: string;
  detail: string;
}
interface Profile {
  name: string;
  user: { user_id: number; name: string; role: string };
  items: Item[];
}

// ---- requests made by this panel (a tiny external store) ------------------------------------------

let requests = { count: 0, last: '' };
const requestListeners = new Set<() => void>();

async function panelFetch(url: string, init?: RequestInit): Promise<Response> {
  requests = { ...requests, count: requests.count + 1 };
  requestListeners.forEach((listener) => listener());
  const res = await getSession(API).authFetch(url, init);
  requests = { ...requests, last: `GET ${url} → ${res.status}` };
  requestListeners.forEach((listener) => listener());
  return res;
}

function useRequests() {
  return useSyncExternalStore(
    (listener) => {
      requestListeners.add(listener);
      return () => requestListeners.delete(listener);
    },
    () => requests,
  );
}

// ---- loaders: the seed's rootLoader / authLoader on the core session ------------------------------

/** What a route's guard decides on: signed out, or signed in as whom. */
const sessionKey = ({ state, user }: SessionSnapshot): string =>
  state === 'authenticated' ? `in:${String(user?.['sub'] ?? user?.['user_id'] ?? '')}` : state;

/** The session state the loaders last decided on; a change to anything else re-runs them. */
let decidedKey: string | null = null;

/** Waits for the restore (one refresh request for the whole page), then records the decision. */
async function settledSession() {
  const session = getSession(API);
  await session.ready;
  decidedKey = sessionKey(session.snapshot);
  return session;
}

/** `/`: protected. Anonymous → `/auth`; otherwise load the profile before rendering. */
async function rootLoader({ request }: LoaderFunctionArgs): Promise<Profile> {
  const session = await settledSession();
  if (session.state !== 'authenticated') throw redirect('/auth');
  const res = await panelFetch(`${API}/mfe/profile`, { signal: request.signal });
  // The refresh behind authFetch answered 401: the session is over.
  if (res.status === 401 && session.state !== 'authenticated') throw redirect('/auth');
  if (!res.ok) throw new Error(`GET ${API}/mfe/profile answered ${res.status}`);
  return (await res.json()) as Profile;
}

/** `/auth`: the login view. Already signed in → away to `/`. */
async function authLoader(): Promise<null> {
  const session = await settledSession();
  if (session.state === 'authenticated') throw redirect('/');
  return null;
}

function logout(auth: AuthHandle): void {
  auth.logout().catch((error: unknown) => console.warn('logout: the server could not be told yet', error));
}

// ---- views ---------------------------------------------------------------------------------------

function Pending() {
  return (
    <p className="muted" role="status" data-route="pending">
      Restoring session…
    </p>
  );
}

function RequestsLine() {
  const { count, last } = useRequests();
  return (
    <p className="muted" data-testid="requests">
      Requests made by this panel: {count}
      {last ? ` (last: ${last})` : ''}.
    </p>
  );
}

function ProfileView() {
  const profile = useLoaderData() as Profile;
  const auth = useAuth(API);
  const revalidator = useRevalidator();
  return (
    <div data-route="/">
      {/* The gate hides this view the moment the session ends, before the loaders redirect. */}
      <auth-gate>
        <p slot="pending" className="muted">
          Restoring session…
        </p>
        <p slot="login" className="muted">
          Signed out. Taking you to <code>#/auth</code>…
        </p>
        <div>
          <p>
            Signed in as <strong data-testid="user">{auth.user?.['name'] as string | undefined}</strong>{' '}
            <span className="muted">
              (route <code>#/</code>, loaded by its loader)
            </span>
          </p>
          <ul className="items" data-testid="items">
            {profile.items.map((item) => (
              <li key={item.id}>
                <strong>{item.title}</strong> <span>{item.detail}</span>
              </li>
            ))}
          </ul>
          <div className="actions">
            <button type="button" onClick={() => logout(auth)}>
              Log out
            </button>{' '}
            <button type="button" onClick={() => void revalidator.revalidate()} disabled={revalidator.state !== 'idle'}>
              Reload profile
            </button>
          </div>
          <RequestsLine />
        </div>
      </auth-gate>
    </div>
  );
}

function LoginView() {
  return (
    <div data-route="/auth">
      <auth-gate>
        <p slot="pending" className="muted">
          Restoring session…
        </p>
        <auth-login-form slot="login" submit-label="Sign in (React)"></auth-login-form>
        {/* Signed in (here or in another panel): shown only until the loaders move to #/. */}
        <p className="muted">Signed in. Loading your profile…</p>
      </auth-gate>
      <p className="muted">
        Route <code>#/auth</code>: no data to load here.
      </p>
      <RequestsLine />
    </div>
  );
}

function RouteError() {
  const revalidator = useRevalidator();
  return (
    <div role="alert" data-route="error">
      <p>The profile could not be loaded.</p>
      <button type="button" onClick={() => void revalidator.revalidate()}>
        Try again
      </button>
    </div>
  );
}

// ---- router: created (and its loaders started) before React renders anything ---------------------

const router = createHashRouter([
  {
    id: 'profile',
    path: '/',
    loader: rootLoader,
    Component: ProfileView,
    HydrateFallback: Pending,
    ErrorBoundary: RouteError,
  },
  { id: 'auth', path: '/auth', loader: authLoader, Component: LoginView, HydrateFallback: Pending },
  { path: '*', loader: () => redirect('/') },
]);

// Follow later changes: a login in another panel, a logout anywhere, another user. Checked a task
// later, so loaders that are just deciding on this very change record it first and nothing runs twice.
let followScheduled = false;
getSession(API).subscribe(() => {
  if (followScheduled) return;
  followScheduled = true;
  setTimeout(() => {
    followScheduled = false;
    const key = sessionKey(getSession(API).snapshot);
    if (key !== 'restoring' && key !== decidedKey) void router.revalidate();
  });
});

function App() {
  const own = customElements.get('auth-provider') === AuthProvider;
  return (
    <>
      <auth-provider api={API}>
        <RouterProvider router={router} />
      </auth-provider>
      <p className="muted">
        Bundle <code>dist/react.js</code>, auth-shell {VERSION}; &lt;auth-provider&gt; defined by{' '}
        {own ? 'this bundle' : 'another bundle (first definition wins)'}.
      </p>
    </>
  );
}

const mount = document.getElementById('mfe-react');
if (mount) {
  mount.replaceChildren();
  createRoot(mount).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
