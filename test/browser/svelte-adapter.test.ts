// auth-shell/svelte's authStore with the real Svelte 5: components compiled by svelte/compiler (one in
// runes mode, one in Svelte 4 syntax) that follow the session wherever it changes, svelte/store's
// get and derived, and no subscription left once the last subscriber is gone.
import { expect } from '@open-wc/testing';
import { flushSync, mount, unmount } from 'svelte';
import { derived, get } from 'svelte/store';
import { HttpResponse, http } from 'msw';
import { createSession, getSession, isAuthError, readReturnTo, requireAuth } from '../../src/core/index.js';
import '../../src/index.js';
import { authStore, type AuthHandle } from '../../src/svelte.js';
import AuthLegacy from './fixtures/AuthLegacy.svelte';
import AuthRunes from './fixtures/AuthRunes.svelte';
import InsideGate from './fixtures/InsideGate.svelte';
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
  worker,
} from './helpers.js';

type Mounted = { instance: Record<string, unknown>; host: HTMLElement };
const mounted: Mounted[] = [];

function render(component: typeof AuthRunes, props: Parameters<typeof AuthRunes>[1] = {}): Mounted {
  const host = document.createElement('div');
  document.body.append(host);
  const instance = mount(component, { target: host, props });
  flushSync();
  mounted.push({ instance, host });
  return mounted.at(-1)!;
}

function destroy(entry: Mounted): void {
  mounted.splice(mounted.indexOf(entry), 1);
  void unmount(entry.instance);
  entry.host.remove();
}

const text = (host: Element) => host.textContent?.trim() ?? '';

before(startWorker);

afterEach(() => {
  for (const entry of [...mounted]) destroy(entry);
  closeFrames();
  worker.resetHandlers();
  disposeSessions();
});

describe('auth-shell/svelte authStore: the store contract', () => {
  it('subscribe calls run at once with the current value and returns the unsubscribe function; get and derived work', async () => {
    const session = await startAnonymous();
    const auth = authStore();
    const values: AuthHandle[] = [];
    const unsubscribe = auth.subscribe((value) => values.push(value));
    expect(unsubscribe).to.be.a('function');
    expect(values.map((value) => value.state)).to.deep.equal(['anonymous']);
    expect(get(auth).state).to.equal('anonymous');
    const signedIn = derived(auth, ($auth) => $auth.state === 'authenticated');
    const seen: boolean[] = [];
    const stop = signedIn.subscribe((value) => seen.push(value));
    await session.login('alice', 'alice');
    expect(values.map((value) => value.state)).to.deep.equal(['anonymous', 'authenticated']);
    expect(values[1]!.user?.['name']).to.equal('Alice');
    expect(seen).to.deep.equal([false, true]);
    expect(get(signedIn)).to.be.true;
    unsubscribe();
    stop();
    await session.logout();
    expect(values, 'nothing after unsubscribe').to.have.length(2);
    expect(get(auth).state, 'get() reads the session now').to.equal('anonymous');
  });

  it('every subscriber is invalidated before any runs, and functions keep their identity', async () => {
    const session = await startAnonymous();
    const auth = authStore();
    const log: string[] = [];
    const values: AuthHandle[] = [];
    const stops = ['a', 'b'].map((name) =>
      auth.subscribe(
        (value) => {
          values.push(value);
          log.push(`run ${name}`);
        },
        () => log.push(`invalidate ${name}`),
      ),
    );
    log.length = 0;
    await session.login('alice', 'alice');
    expect(log).to.deep.equal(['invalidate a', 'invalidate b', 'run a', 'run b']);
    await session.logout();
    for (const name of ['login', 'logout', 'authFetch', 'openSocket', 'ready'] as const) {
      expect(new Set(values.map((value) => value[name])).size, name).to.equal(1);
    }
    expect(values.at(-1), 'one value for every subscriber').to.equal(values.at(-2));
    stops.forEach((stop) => stop());
  });

  it('follows the session only while subscribed: the last unsubscribe removes its listener', async () => {
    await serverLogin('alice');
    const session = createSession({ api: '/api', tabSync: false });
    const listeners = countListeners(session);
    const auth = authStore(session);
    expect(listeners.count, 'none before the first subscriber').to.equal(0);
    const stops = [auth.subscribe(() => {}), auth.subscribe(() => {})];
    expect(listeners.count, 'one for any number of subscribers').to.equal(1);
    stops[0]!();
    expect(listeners.count).to.equal(1);
    stops[1]!();
    expect(listeners.count).to.equal(0);
    session.dispose();
  });
});

for (const [mode, component] of [
  ['runes mode (Svelte 5)', AuthRunes],
  ['Svelte 4 syntax (legacy mode)', AuthLegacy],
] as const) {
  describe(`auth-shell/svelte in a component, ${mode}`, () => {
    it('$auth renders restoring until the restore decides, then follows login and logout', async () => {
      await serverLogin('bob');
      const session = createSession({ api: '/api', tabSync: false });
      const { host } = render(component, { api: session });
      expect(text(host)).to.equal('restoring');
      await session.restore();
      flushSync();
      expect(text(host)).to.equal('authenticated Bob');
      await session.logout();
      flushSync();
      expect(text(host)).to.equal('anonymous');
      await session.login('alice', 'alice');
      flushSync();
      expect(text(host)).to.equal('authenticated Alice');
      await session.logout();
      session.dispose();
    });

    it('a logout elsewhere reaches the component: another provider, another bundle, another tab', async () => {
      const session = await startAnonymous();
      const { host } = render(component);
      await logoutsElsewhereRender(session, () => text(host));
    });

    it('two components show every new state in the same flush', async () => {
      const session = await startAnonymous();
      const hosts = [render(component).host, render(component).host];
      for (const step of [() => session.login('alice', 'alice'), () => session.logout()]) {
        await step();
        flushSync();
        const [a, b] = hosts.map(text);
        expect(a).to.equal(b);
        expect(a).to.equal(session.state === 'authenticated' ? 'authenticated Alice' : 'anonymous');
      }
    });

    it('unmounting the component removes its subscription', async () => {
      await serverLogin('alice');
      const session = createSession({ api: '/api', tabSync: false });
      const listeners = countListeners(session);
      const entry = render(component, { api: session });
      expect(listeners.count).to.equal(1);
      destroy(entry);
      expect(listeners.count).to.equal(0);
      session.dispose();
    });
  });
}

describe('auth-shell/svelte inside the elements', () => {
  it("authStore inside <auth-gate> runs before the provider attaches, and the session still has the provider's options", async () => {
    await startAnonymous();
    forgetPageSessions('/api');
    const errors: Event[] = [];
    const attachedAtSetup: boolean[] = [];
    render(InsideGate, {
      ...insideGate('svelte'),
      onerror: (event: Event) => errors.push(event),
      onsetup: () => attachedAtSetup.push(providerAttached()),
    });
    const auth = authStore('/api');
    await providerOptionsHold('svelte', () => get(auth), errors);
    expect(attachedAtSetup, 'a provider had attached when the store was made').to.deep.equal([false]);
  });
});

describe('auth-shell/svelte authStore: isLoading, isAuthenticated, error, hasRole', () => {
  it('isLoading while restoring, isAuthenticated once signed in; hasRole answers for the user of that value', async () => {
    await serverLogin('admin');
    const session = track(createSession({ api: '/api', tabSync: false }));
    const values: AuthHandle[] = [];
    const stop = authStore(session).subscribe((value) => values.push(value));
    expect(values[0]).to.include({ state: 'restoring', isLoading: true, isAuthenticated: false, error: null });
    await session.restore();
    const admin = values.at(-1)!;
    expect(admin).to.include({ state: 'authenticated', isLoading: false, isAuthenticated: true });
    expect([admin.hasRole('admin'), admin.hasRole('user'), admin.hasRole('user admin')]).to.deep.equal([
      true,
      false,
      true,
    ]);
    await session.logout();
    expect(values.at(-1)!.hasRole('admin'), 'no user').to.be.false;
    stop();
  });

  it('error: the failure nobody awaited (a restore that could not reach the server), cleared by the next success', async () => {
    await serverLogin('alice');
    worker.use(http.post('/api/refresh', () => HttpResponse.error(), { once: true }));
    const session = track(createSession({ api: '/api', tabSync: false, refreshRetries: 0 }));
    const values: AuthHandle[] = [];
    const stop = authStore(session).subscribe((value) => values.push(value));
    await session.restore();
    expect(isAuthError(values.at(-1)!.error, 'network')).to.be.true;
    await session.login('alice', 'alice');
    expect(values.at(-1)).to.include({ state: 'authenticated', error: null });
    stop();
    await session.logout();
  });
});

describe('requireAuth (the generic guard, e.g. for a SvelteKit load)', () => {
  it('sends an anonymous visitor to the login route with the way back, and lets a signed-in one through', async () => {
    const session = await startAnonymous();
    const login = await requireAuth('/api', {
      returnTo: new URL('/orders?page=2', location.href),
      loginPath: '/signin',
    });
    expect(login).to.equal('/signin?returnTo=%2Forders%3Fpage%3D2');
    // The login page, after the login, goes where the guard said.
    await session.login('alice', 'alice');
    expect(readReturnTo(new URL(login!, location.href).search)).to.equal('/orders?page=2');
    expect(await requireAuth('/api', { returnTo: '/orders' })).to.equal(null);
    await session.logout();
  });

  it('leaves out a way back to another site: a string must be a path here, a URL counts by its path', async () => {
    await startAnonymous();
    const session = getSession('/api');
    for (const foreign of ['https://evil.example/x', '//evil.example/x', '/\\evil.example/x', 'javascript:alert(1)'])
      expect(await requireAuth(session, { returnTo: foreign }), foreign).to.equal('/login');
    expect(await requireAuth(session, { returnTo: new URL('https://evil.example/x?y') })).to.equal(
      '/login?returnTo=%2Fx%3Fy',
    );
  });
});
