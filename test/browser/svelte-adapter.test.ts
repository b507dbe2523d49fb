// auth-shell/svelte's authStore with the real Svelte 5: components compiled by svelte/compiler (one in
// runes mode, one in Svelte 4 syntax) that follow the session wherever it changes, svelte/store's
// get and derived, and no subscription left once the last subscriber is gone.
import { expect } from '@open-wc/testing';
import { flushSync, mount, unmount } from 'svelte';
import { derived, get } from 'svelte/store';
import { createSession } from '../../src/core/index.js';
import { authStore, type AuthHandle } from '../../src/svelte.js';
import AuthLegacy from './fixtures/AuthLegacy.svelte';
import AuthRunes from './fixtures/AuthRunes.svelte';
import { closeFrames, countListeners, logoutsElsewhereRender, serverLogin, startAnonymous } from './helpers.js';

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

afterEach(() => {
  for (const entry of [...mounted]) destroy(entry);
  closeFrames();
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
