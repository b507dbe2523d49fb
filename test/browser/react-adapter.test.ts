// auth-shell/react's useAuth with the real React 19 (react-dom/client, development build): state
// that follows the session wherever it changes, stable functions, no tearing in concurrent renders,
// hydration from server markup, and no subscription left after unmount. The real backend answers.
import { expect } from '@open-wc/testing';
import {
  Component,
  createElement as h,
  startTransition,
  useLayoutEffect,
  useState,
  type ReactElement,
  type ReactNode,
} from 'react';
import { createRoot, hydrateRoot, type Root } from 'react-dom/client';
import { HttpResponse, http } from 'msw';
import { createMemoryRouter, RouterProvider, useLocation, useNavigate } from 'react-router';
import { createSession, getSession, isAuthError, readReturnTo } from '../../src/core/index.js';
import '../../src/index.js';
import { requireAuthLoader, useAuth, type AuthHandle, type SessionSource } from '../../src/react.js';
import {
  closeFrames,
  countListeners,
  disposeSessions,
  forgetPageSessions,
  insideGate,
  logoutsElsewhereRender,
  providerAttached,
  providerOptionsHold,
  serverLogin,
  startAnonymous,
  startWorker,
  track,
  until,
  worker,
} from './helpers.js';

const roots: { root: Root; host: HTMLElement }[] = [];

function mount(element: ReactElement, host = document.createElement('div')): HTMLElement {
  document.body.append(host);
  roots.push({ root: createRoot(host), host });
  roots.at(-1)!.root.render(element);
  return host;
}

const text = (host: HTMLElement) => host.textContent ?? '';

/** Renders `state user` and reports every render's handle. */
function Status({ api, onRender }: { api?: SessionSource; onRender?: (auth: AuthHandle) => void }) {
  const auth = useAuth(api);
  onRender?.(auth);
  return h('p', null, `${auth.state} ${String(auth.user?.['name'] ?? '')}`.trim());
}

/** React's own warnings (development build): a getSnapshot that is not cached, a bad hook call… */
let reactErrors: string[] = [];
const consoleError = console.error;

beforeEach(() => {
  reactErrors = [];
  console.error = (...args: unknown[]) => {
    reactErrors.push(args.map(String).join(' '));
    consoleError.apply(console, args);
  };
});

before(startWorker);

afterEach(() => {
  for (const { root, host } of roots.splice(0)) {
    root.unmount();
    host.remove();
  }
  closeFrames();
  worker.resetHandlers();
  disposeSessions();
  console.error = consoleError;
  expect(reactErrors, 'console errors').to.deep.equal([]);
});

describe('auth-shell/react useAuth', () => {
  it('renders restoring until the restore decides, then the user the refresh cookie belongs to', async () => {
    await serverLogin('bob');
    const session = createSession({ api: '/api', tabSync: false });
    const states: string[] = [];
    const host = mount(h(Status, { api: session, onRender: (auth) => states.push(auth.state) }));
    await until(() => text(host) === 'restoring', 'the first render');
    await session.restore();
    await until(() => text(host) === 'authenticated Bob', 'Bob after the restore');
    expect(states[0]).to.equal('restoring');
    expect(states.at(-1)).to.equal('authenticated');
    session.dispose();
  });

  it("follows a login and a logout made with the hook's own functions, and authFetch sends the bearer", async () => {
    await startAnonymous();
    let auth!: AuthHandle;
    const host = mount(h(Status, { onRender: (a) => (auth = a) }));
    await until(() => text(host) === 'anonymous', 'anonymous');
    await auth.login('alice', 'alice');
    await until(() => text(host) === 'authenticated Alice', 'Alice signed in');
    expect((await auth.authFetch('/api/me')).status).to.equal(200);
    await auth.logout();
    await until(() => text(host) === 'anonymous', 'anonymous after logout');
    expect((await auth.authFetch('/api/me')).status).to.equal(401);
  });

  it('a logout elsewhere reaches the component: another provider, another bundle, another tab', async () => {
    const session = await startAnonymous();
    const host = mount(h(Status));
    await logoutsElsewhereRender(session, () => text(host));
  });

  it('the value is the same object until the session changes, and its functions never change identity', async () => {
    await startAnonymous();
    const seen: AuthHandle[] = [];
    let rerender!: () => void;
    function Parent() {
      const [, setTick] = useState(0);
      rerender = () => setTick((t) => t + 1);
      return h(Status, { onRender: (auth) => seen.push(auth) });
    }
    const host = mount(h(Parent));
    await until(() => text(host) === 'anonymous', 'anonymous');
    const before = seen.length;
    rerender();
    await until(() => seen.length > before, 'a render caused by the parent');
    expect(seen.at(-1), 'the same value when nothing changed').to.equal(seen.at(-2));
    await seen.at(-1)!.login('alice', 'alice');
    await until(() => text(host) === 'authenticated Alice', 'Alice');
    await seen.at(-1)!.logout();
    await until(() => text(host) === 'anonymous', 'anonymous again');
    expect(new Set(seen.map((auth) => auth.state))).to.have.keys('anonymous', 'authenticated');
    for (const name of ['login', 'logout', 'authFetch', 'openSocket', 'ready'] as const) {
      expect(new Set(seen.map((auth) => auth[name])).size, name).to.equal(1);
    }
    expect(Object.isFrozen(seen.at(-1))).to.be.true;
  });

  it('openSocket from the hook opens an authenticated socket on the session', async () => {
    await startAnonymous();
    let auth!: AuthHandle;
    mount(h(Status, { onRender: (a) => (auth = a) }));
    await until(() => auth?.state === 'anonymous', 'anonymous');
    await auth.login('alice', 'alice');
    const socket = auth.openSocket('/api/ws');
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('close', () => reject(new Error('closed before it opened')), { once: true });
    });
    const closed = new Promise((resolve) => socket.addEventListener('close', resolve, { once: true }));
    await auth.logout();
    await closed; // the logout ends the socket
  });

  it('components never show different states in one commit, even when the session changes mid-render', async () => {
    // A transition mounts slow components one at a time, yielding between them; the session
    // changes in such a gap (a microtask queued by the first component), before any of them has
    // subscribed. useAuth must make React render them all again with the new state before anything
    // is committed. The same harness with a plain read of session.state must tear, or it proved nothing.
    const session = await startAnonymous();
    async function run(read: () => string): Promise<string[][]> {
      await session.login('alice', 'alice');
      const commits: string[][] = [];
      let change: (() => void) | null = null;
      const loggedOut = new Promise<void>((resolve) => {
        change = () => void session.logout().then(resolve);
      });
      function Slow() {
        const state = read();
        const until = performance.now() + 20;
        while (performance.now() < until); // longer than React's time slice: it yields after this one
        if (change) {
          queueMicrotask(change);
          change = null;
        }
        useLayoutEffect(() => {
          commits.push([...host.querySelectorAll('span')].map((span) => span.textContent!));
        });
        return h('span', null, state);
      }
      const host = document.createElement('div');
      document.body.append(host);
      const root = createRoot(host);
      startTransition(() => root.render(h('div', null, h(Slow), h(Slow), h(Slow))));
      await loggedOut;
      await until(() => commits.length >= 3, 'the transition committed');
      root.unmount();
      host.remove();
      return commits;
    }
    const torn = (commits: string[][]) => commits.filter((commit) => new Set(commit).size > 1);
    const withHook = await run(function Read() {
      return useAuth().state;
    });
    expect(torn(withHook), 'commits that mixed states with useAuth').to.deep.equal([]);
    const plain = await run(() => getSession('/api').state);
    expect(torn(plain).length, 'the harness tears a plain read (else it proved nothing)').to.be.greaterThan(0);
  });

  it('hydrating server markup renders restoring first (no mismatch), then the session state', async () => {
    const session = await startAnonymous();
    await session.login('alice', 'alice');
    const recoverable: unknown[] = [];
    const host = document.createElement('div');
    host.innerHTML = '<p>restoring</p>'; // what renderToString gives on a server (see test/node/ssr.test.js)
    document.body.append(host);
    const root = hydrateRoot(host, h(Status), { onRecoverableError: (error) => recoverable.push(error) });
    roots.push({ root, host });
    await until(() => text(host) === 'authenticated Alice', 'the session state after hydration');
    expect(recoverable, 'hydration errors').to.deep.equal([]);
  });

  it('unmounting removes the subscriptions: no listener is left on the session, and no render follows', async () => {
    await serverLogin('alice');
    const session = createSession({ api: '/api', tabSync: false });
    const listeners = countListeners(session);
    let renders = 0;
    const onRender = () => renders++;
    const host = mount(h('div', null, h(Status, { api: session, onRender }), h(Status, { api: session, onRender })));
    await session.restore();
    await until(() => text(host) === 'authenticated Aliceauthenticated Alice', 'both rendered');
    expect(listeners.count).to.equal(2);
    const { root } = roots.pop()!;
    root.unmount();
    host.remove();
    expect(listeners.count).to.equal(0);
    const rendered = renders;
    await session.logout();
    await new Promise((resolve) => setTimeout(resolve)); // React's scheduled renders would run before this
    expect(renders).to.equal(rendered);
    session.dispose();
  });

  it('a session that cannot be made throws its UsageError to the nearest error boundary', async () => {
    let caught: unknown;
    class Boundary extends Component<{ children: ReactNode }, { failed: boolean }> {
      override state = { failed: false };
      static getDerivedStateFromError = () => ({ failed: true });
      override componentDidCatch(error: unknown) {
        caught = error;
      }
      override render() {
        return this.state.failed ? h('p', null, 'failed') : this.props.children;
      }
    }
    const host = mount(h(Boundary, null, h(Status, { api: 'ftp://example.com/api' })));
    await until(() => text(host) === 'failed', 'the boundary');
    expect((caught as { code?: string }).code).to.equal('usage');
    // getSession logs the error, and React the one its boundary caught (after the commit): expected here.
    await until(() => reactErrors.length >= 2, 'both logged');
    expect(reactErrors.every((message) => message.includes('ftp:'))).to.be.true;
    reactErrors = [];
  });
});

describe('auth-shell/react inside the elements', () => {
  it("useAuth inside <auth-gate> runs before the provider attaches, and the session still has the provider's options", async () => {
    await startAnonymous();
    forgetPageSessions('/api');
    const { csrfHeader, allowedOrigins } = insideGate('react');
    let auth!: AuthHandle;
    const attachedAtFirstRender: boolean[] = [];
    function Account() {
      auth = useAuth('/api');
      if (attachedAtFirstRender.length === 0) attachedAtFirstRender.push(providerAttached());
      return h('p', null, auth.state);
    }
    const errors: Event[] = [];
    const host = mount(
      h(
        'auth-provider',
        {
          api: '/api',
          'csrf-header': csrfHeader,
          'allowed-origins': allowedOrigins,
          'onauth-error': (e: Event) => errors.push(e),
        },
        h('auth-gate', null, h('p', { slot: 'login' }, 'Sign in'), h(Account)),
      ),
    );
    await providerOptionsHold('react', () => auth, errors);
    expect(attachedAtFirstRender, 'a provider had attached when the hook first ran').to.deep.equal([false]);
    expect(host.querySelector('auth-provider')!.getAttribute('state')).to.equal('anonymous');
  });
});

describe('auth-shell/react handle: isLoading, isAuthenticated, error, hasRole', () => {
  it('isLoading while restoring, isAuthenticated once signed in; hasRole answers for the user of that render', async () => {
    await serverLogin('admin');
    const session = track(createSession({ api: '/api', tabSync: false }));
    const seen: AuthHandle[] = [];
    mount(h(Status, { api: session, onRender: (auth) => seen.push(auth) }));
    await until(() => seen.length > 0, 'the first render');
    expect(seen[0]).to.include({ state: 'restoring', isLoading: true, isAuthenticated: false, error: null });
    expect(seen[0]!.hasRole('admin')).to.be.false;
    await session.restore();
    await until(() => seen.at(-1)!.state === 'authenticated', 'admin restored');
    const admin = seen.at(-1)!;
    expect(admin).to.include({ isLoading: false, isAuthenticated: true, error: null });
    expect(admin.hasRole('admin')).to.be.true;
    expect(admin.hasRole('user')).to.be.false;
    expect(admin.hasRole('editor admin')).to.be.true;
    expect(admin.hasRole(['editor', 'admin'])).to.be.true;
    await session.logout();
    await session.login('alice', 'alice');
    await until(() => seen.at(-1)!.user?.['name'] === 'Alice', 'Alice');
    const alice = seen.at(-1)!;
    expect(alice.hasRole('admin'), 'the new user').to.be.false;
    expect(alice.hasRole('user')).to.be.true;
    expect(admin.hasRole('admin'), "an old render's answer stays that render's").to.be.true;
    expect(alice.hasRole, 'a new function for a new user').to.not.equal(admin.hasRole);
    await session.logout();
  });

  it('error: the failure nobody awaited (a restore that could not reach the server), cleared by the next success', async () => {
    await serverLogin('alice');
    worker.use(http.post('/api/refresh', () => HttpResponse.error(), { once: true }));
    const session = track(createSession({ api: '/api', tabSync: false, refreshRetries: 0 }));
    let auth!: AuthHandle;
    mount(h(Status, { api: session, onRender: (a) => (auth = a) }));
    await until(() => auth !== undefined, 'the first render');
    await session.restore();
    await until(() => auth.error !== null, 'the error rendered');
    expect(isAuthError(auth.error, 'network'), String(auth.error)).to.be.true;
    expect(auth).to.include({ state: 'anonymous', isLoading: false, isAuthenticated: false });
    const failed = auth;
    await session.login('alice', 'wrong').catch(() => {});
    expect(auth.error, "an awaited failure is the caller's, not the handle's").to.equal(failed.error);
    await session.login('alice', 'alice');
    await until(() => auth.state === 'authenticated', 'signed in');
    expect(auth.error, 'cleared by the login').to.equal(null);
    expect(auth.login, 'the functions kept their identity').to.equal(failed.login);
    await session.logout();
  });
});

describe('auth-shell/react requireAuthLoader (React Router)', () => {
  /** An app with a guarded `/orders`, a `/login` page that goes back after signing in, and `/`. */
  function app() {
    let signIn!: () => Promise<void>;
    function Login() {
      const navigate = useNavigate();
      const { search } = useLocation();
      const { login } = useAuth();
      signIn = async () => {
        await login('alice', 'alice');
        await navigate(readReturnTo(search));
      };
      return h('p', null, 'login');
    }
    const router = createMemoryRouter(
      [
        { path: '/', element: h('p', null, 'home') },
        { path: '/orders', loader: requireAuthLoader('/api'), element: h('p', null, 'orders') },
        { path: '/login', element: h(Login) },
      ],
      { initialEntries: ['/'] },
    );
    const host = mount(h(RouterProvider, { router }));
    const at = () => router.state.location.pathname + router.state.location.search;
    return { router, host, at, signIn: () => signIn() };
  }

  it('sends an anonymous visitor to the login route with the way back, and back there after the login', async () => {
    await startAnonymous();
    const { router, host, at, signIn } = app();
    await router.navigate('/orders?page=2');
    expect(at()).to.equal('/login?returnTo=%2Forders%3Fpage%3D2');
    await until(() => text(host) === 'login', 'the login page');
    await signIn();
    expect(at()).to.equal('/orders?page=2');
    await until(() => text(host) === 'orders', 'the orders page');
    await router.navigate('/');
    await router.navigate('/orders');
    expect(at(), 'signed in: the loader lets the route render').to.equal('/orders');
    await getSession('/api').logout();
  });

  it('refuses a way back to another site: the login page goes home instead', async () => {
    for (const foreign of ['https://evil.example/steal', '//evil.example/steal', '/\\evil.example']) {
      await startAnonymous();
      const { router, host, at, signIn } = app();
      await router.navigate(`/login?returnTo=${encodeURIComponent(foreign)}`);
      await until(() => text(host) === 'login', 'the login page');
      await signIn();
      expect(at(), foreign).to.equal('/');
      await getSession('/api').logout();
      const mounted = roots.pop()!;
      mounted.root.unmount();
      mounted.host.remove();
    }
  });
});
