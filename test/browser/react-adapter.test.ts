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
import { createSession, getSession } from '../../src/core/index.js';
import { useAuth, type AuthHandle, type SessionSource } from '../../src/react.js';
import { closeFrames, countListeners, logoutsElsewhereRender, serverLogin, startAnonymous, until } from './helpers.js';

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

afterEach(() => {
  for (const { root, host } of roots.splice(0)) {
    root.unmount();
    host.remove();
  }
  closeFrames();
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
