// A new tab restores from its sibling tabs: a tab that holds a fresh token answers the new tab's
// question memory to memory, so opening a tab costs no refresh request and no login flash. Tabs are
// same-origin iframes loading a bundled copy of auth-shell; /newtab-api is this file's own backend,
// so its refresh counter is exact.
import { expect } from '@open-wc/testing';
import { closeFrames, delivered, forgetSidSeen, openFrame, serverLogin, until } from './helpers.js';

interface Tab {
  tab: {
    state(): string;
    user(): Record<string, unknown> | null;
    advance(ms: number): void;
    login(user: string): Promise<unknown>;
    logout(): Promise<void>;
    restores(): string[];
    shown(): string[];
  };
}

const API = '/newtab-api';
const channelName = `auth-shell:${location.origin}${API}`;

/**
 * A tab: a session on /newtab-api and a gate; it records every restore step and which slot each
 * frame showed. `sidCookie` '' makes it a session of a backend that sets no session-id cookie.
 */
const tabPageFor = (sidCookie: string) => `
  <auth-provider api="${API}" sid-cookie="${sidCookie}"><auth-gate>
    <p slot="pending" id="pending">…</p><p slot="login" id="login">login</p><p id="in">in</p>
  </auth-gate></auth-provider>
  <script type="module">
    import { getSession } from '/__bundles__/a.js';
    let offset = 0;
    const session = getSession({ api: '${API}', sidCookie: '${sidCookie}', clock: () => performance.now() + offset });
    const restores = [];
    session.addEventListener('activity', (e) => e.detail.kind === 'restore' && restores.push(e.detail.phase + ':' + (e.detail.source ?? 'network')));
    const shown = [];
    const watch = () => {
      shown.push(['pending', 'login', 'in'].filter((id) => document.getElementById(id).checkVisibility()).join());
      requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
    window.tab = {
      state: () => session.state,
      user: () => session.user,
      advance: (ms) => (offset += ms),
      login: (user) => session.login(user, user),
      logout: () => session.logout(),
      restores: () => restores,
      shown: () => shown,
    };
  </script>`;
const tabPage = tabPageFor('newtab-api-sid');

const refreshes = async (): Promise<number> => (await (await fetch(`${API}/_stats`)).json()).refreshes;
const logoutServer = () => fetch(`${API}/logout`, { method: 'POST', headers: { 'X-Requested-With': 'auth-shell' } });

/** A tab's window, once it restored. */
async function openTabWindow(page = tabPage) {
  const win = await openFrame<Tab>(page);
  await until(() => !!win.tab && win.tab.state() !== 'restoring', 'the tab restored');
  return win;
}
const openTab = async () => (await openTabWindow()).tab;

beforeEach(() => {
  forgetSidSeen();
  return logoutServer();
});
afterEach(() => closeFrames());

describe('a new tab restores from its sibling tabs', () => {
  it('tab A signed in, tab B opens: no refresh request at the server, B authenticated, B never shows login', async () => {
    const a = await openTab();
    await a.login('alice');
    const before = await refreshes();
    const b = await openTab();
    expect(b.state()).to.equal('authenticated');
    expect(b.restores()).to.deep.equal(['start:network', 'success:tab']);
    expect(await refreshes()).to.equal(before);
    await until(() => b.shown().at(-1) === 'in', 'protected content in B');
    expect(b.shown()).not.to.include('login');
  });

  it('tab A signed out before B opens: B is anonymous at once, the session hint spares the request', async () => {
    const a = await openTab();
    await a.login('alice'); // this browser saw the backend set the session-id cookie: the hint is on
    await a.logout(); // and the cookie is gone with the session
    const before = await refreshes();
    const b = await openTab();
    expect(b.state()).to.equal('anonymous');
    expect(b.restores()).to.deep.equal(['start:network', 'success:hint']);
    expect(await refreshes()).to.equal(before);
  });

  it('tab A signed out before B opens, without the hint: B is anonymous after one network restore', async () => {
    const a = await openTab();
    await a.login('alice');
    await a.logout();
    forgetSidSeen();
    const before = await refreshes();
    const b = await openTab();
    expect(b.state()).to.equal('anonymous');
    expect(b.restores()).to.deep.equal(['start:network', 'success:network']);
    expect(await refreshes()).to.equal(before + 1);
  });

  it('without a session-id cookie nobody is asked: B restores over the network, as the cookie’s user', async () => {
    // Both tabs know no session-id cookie (a backend that sets none): nothing would tell B which
    // session the browser holds, so an answer from A could be another user's.
    const asks: unknown[] = [];
    const channel = new BroadcastChannel(channelName);
    channel.onmessage = ({ data }) => data?.type === 'ask' && asks.push(data);
    const a = (await openTabWindow(tabPageFor(''))).tab;
    await a.login('alice');
    const before = await refreshes();
    const bWindow = await openTabWindow(tabPageFor(''));
    const b = bWindow.tab;
    expect(b.state()).to.equal('authenticated');
    expect(b.user()?.name).to.equal('Alice');
    expect(b.restores()).to.deep.equal(['start:network', 'success:network']);
    expect(await refreshes()).to.equal(before + 1);
    // Everything B's realm posted before now has reached this channel: B asked nothing.
    const sentinel = Math.random().toString(36).slice(2);
    const heard = new Promise<void>((resolve) =>
      channel.addEventListener('message', ({ data }) => data?.sentinel === sentinel && resolve()),
    );
    new (bWindow as unknown as typeof globalThis).BroadcastChannel(channelName).postMessage({ sentinel });
    await heard;
    expect(asks).to.deep.equal([]);
    channel.close();
  });

  it('tab A holding a stale token does not offer it: B restores over the network', async () => {
    const a = await openTab();
    await a.login('alice');
    a.advance(59_000); // A's token is within its leeway: stale, so A offers nothing
    const before = await refreshes();
    const b = await openTab();
    expect(b.state()).to.equal('authenticated');
    expect(b.restores()).to.deep.equal(['start:network', 'success:network']);
    expect(await refreshes()).to.equal(before + 1);
  });

  it('a junk answer, an answer to another question and a late answer are ignored: B restores over the network', async () => {
    // A stand-in for another tab: present (the shared lock every tab holds), but it answers badly.
    let leave!: () => void;
    void navigator.locks.request(
      `${channelName}:tab`,
      { mode: 'shared' },
      () => new Promise<void>((resolve) => (leave = resolve)),
    );
    const channel = new BroadcastChannel(channelName);
    const fake = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5IiwibmFtZSI6Ik1hbGxvcnkifQ.c2ln';
    const asks: string[] = [];
    let latePosted!: () => void;
    const late = new Promise<void>((resolve) => (latePosted = resolve));
    channel.onmessage = ({ data }) => {
      if (data?.type !== 'ask') return;
      asks.push(data.id);
      const now = performance.timeOrigin + performance.now();
      // First, a valid answer to another tab's question: the asking tab takes only the first answer
      // addressed to it, so this one must not be taken for it.
      channel.postMessage({
        v: 1,
        type: 'token',
        token: fake,
        remaining: 60_000,
        lifetime: 60_000,
        requestedAt: now,
        to: 'someone-else',
      });
      channel.postMessage({
        v: 1,
        type: 'token',
        token: 'garbage',
        remaining: 60_000,
        lifetime: 60_000,
        requestedAt: now,
        to: data.id,
      });
      channel.postMessage({
        v: 1,
        type: 'token',
        token: fake,
        remaining: Number.NaN,
        lifetime: 60_000,
        requestedAt: now,
        to: data.id,
      });
      // The scenario: an answer that comes after the new tab stopped waiting (ASK_TIMEOUT, 50 ms).
      setTimeout(() => {
        channel.postMessage({
          v: 1,
          type: 'token',
          token: fake,
          remaining: 60_000,
          lifetime: 60_000,
          requestedAt: now,
          to: data.id,
        });
        latePosted();
      }, 300);
    };
    try {
      // The browser holds a session (its session-id cookie is what a new tab asks about).
      await serverLogin('alice', 'alice', API);
      const before = await refreshes();
      const tab = await openTabWindow();
      const b = tab.tab;
      expect(asks).to.have.length(1);
      expect(b.state()).to.equal('authenticated');
      expect(b.user()).to.include({ name: 'Alice' });
      expect(b.restores()).to.deep.equal(['start:network', 'success:network']);
      expect(await refreshes()).to.equal(before + 1);
      await late;
      await delivered(channel, tab); // the late answer reached B's session, which ignored it
      expect(b.user()).to.include({ name: 'Alice' });
    } finally {
      channel.close();
      leave();
    }
  });

  it('the only tab does not wait for answers: it asks nobody', async () => {
    const channel = new BroadcastChannel(channelName);
    const asks: unknown[] = [];
    channel.onmessage = ({ data }) => data?.type === 'ask' && asks.push(data);
    try {
      const b = await openTab();
      expect(b.restores()).to.deep.equal(['start:network', 'success:network']);
      expect(asks).to.deep.equal([]);
    } finally {
      channel.close();
    }
  });
});
