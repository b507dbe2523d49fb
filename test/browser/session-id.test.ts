// The session id: each tab knows which server session it holds (its token's `sid` claim) and which
// one the browser holds (the readable auth-shell-sid cookie the backend sets beside the refresh
// cookie), and acts on the cookie. Tabs are same-origin iframes loading a bundled copy of
// auth-shell against the real reference backend (/api), so cookies, rotation and logout are real.
import { expect } from '@open-wc/testing';
import {
  closeFrames,
  delivered,
  disposeSessions,
  fakeJwt,
  loggedIn,
  logoutFault,
  openFrame,
  requestLog,
  serverLogin,
  serverLogout,
  startWorker,
  until,
} from './helpers.js';

interface Tab {
  tab: {
    state(): string;
    user(): Record<string, unknown> | null;
    login(user: string): Promise<unknown>;
    logout(): Promise<void>;
    refresh(): Promise<void>;
    me(): Promise<{ status: number; name?: string }>;
    restores(): string[];
  };
}

const channelName = `auth-shell:${location.origin}/api`;
const tabPage = `
  <script type="module">
    import { getSession } from '/__bundles__/a.js';
    const session = getSession({ api: '/api', retryDelay: 20 });
    const restores = [];
    session.addEventListener('activity', (e) => e.detail.kind === 'restore' && e.detail.phase !== 'start' && restores.push(e.detail.source ?? 'network'));
    window.tab = {
      state: () => session.state,
      user: () => session.user,
      login: (user) => session.login(user, user),
      logout: () => session.logout(),
      refresh: () => session.refresh(),
      me: async () => {
        const res = await session.authFetch('/api/me');
        return { status: res.status, ...(res.ok ? { name: (await res.json()).name } : {}) };
      },
      restores: () => restores,
    };
  </script>`;

/** A new tab, once it restored. */
async function openTab() {
  const win = await openFrame<Tab>(tabPage);
  await until(() => !!win.tab && win.tab.state() !== 'restoring', 'the tab restored');
  return win;
}

const sidCookie = () => /(?:^|; )auth-shell-sid=([^;]*)/.exec(document.cookie)?.[1] ?? '';

before(() => startWorker());
beforeEach(() => serverLogout());
afterEach(() => {
  closeFrames();
  disposeSessions();
});

describe('the session id', () => {
  it('the backend sets a readable session-id cookie holding the token’s sid, and clears it with the session', async () => {
    const { access_token: token } = await serverLogin('alice');
    const sid = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))['sid'];
    expect(sid).to.be.a('string').and.not.equal('');
    expect(sidCookie()).to.equal(sid);
    await serverLogout();
    expect(sidCookie()).to.equal('');
  });

  it('a login outside the shell (a plain form POST): a new tab and the old tab act as the cookie’s user', async () => {
    const a = (await openTab()).tab;
    await a.login('alice');
    expect(a.user()).to.include({ name: 'Alice' });
    // A server-rendered form or an SSO callback signs Bob in: the browser's cookies are Bob's now.
    await serverLogin('bob');
    const b = await openTab();
    expect(b.tab.state()).to.equal('authenticated');
    expect(b.tab.user()).to.include({ name: 'Bob' });
    // Alice's tab holds a token of another session than the cookie's: it did not answer, so the new
    // tab restored over the network.
    expect(b.tab.restores()).to.deep.equal(['network']);
    // The old tab acts on the cookie at its next request, instead of acting as Alice.
    expect(await a.me()).to.deep.equal({ status: 200, name: 'Bob' });
    expect(a.user()).to.include({ name: 'Bob' });
  });

  it('a logout outside the shell clears the cookie: the next request finds the session over, and goes without a bearer', async () => {
    const s = await loggedIn();
    await serverLogout();
    const log = requestLog();
    const res = await s.authFetch('/api/me');
    log.stop();
    expect(res.status).to.equal(401);
    expect(log.keys()).to.deep.equal(['POST /api/refresh', 'GET /api/me']);
    expect(log.seen.find((r) => r.url.pathname === '/api/me')!.authorization).to.equal(null);
    expect(s.state).to.equal('anonymous');
  });

  it('a logout in a tab still holding the replaced session does not revoke the session that replaced it', async () => {
    const a = (await openTab()).tab;
    await a.login('alice');
    await serverLogin('bob'); // outside the shell: the browser's cookies are Bob's now
    await a.logout(); // Alice's tab had not acted on the new cookie yet
    expect(a.state()).to.equal('anonymous');
    // Bob's session was not the one to end: a new tab restores it.
    const b = (await openTab()).tab;
    expect(b.state()).to.equal('authenticated');
    expect(b.user()).to.include({ name: 'Bob' });
  });

  it('a logout of another session does not end this one, also when it arrives after this tab’s login', async () => {
    const a = (await openTab()).tab;
    const b = await openTab();
    await a.login('alice');
    await until(() => b.tab.state() === 'authenticated', "A's login reached B");
    // Record A's logout message as it travels, to deliver it again late.
    const channel = new BroadcastChannel(channelName);
    let message: unknown;
    channel.onmessage = ({ data }) => data?.type === 'logout' && (message = data);
    await a.logout();
    await until(() => b.tab.state() === 'anonymous', "A's logout reached B");
    await until(() => message !== undefined, "A's logout message seen");
    await b.tab.login('bob');
    // The logout of Alice's session delivered after Bob's login (a slow channel, a tab that woke up).
    channel.postMessage(message);
    await delivered(channel, b);
    expect(b.tab.state()).to.equal('authenticated');
    expect(b.tab.user()).to.include({ name: 'Bob' });
    await until(() => a.state() === 'authenticated', "B's login reached A");
    // Bob's refresh cookie survived: the session refreshes.
    await b.tab.refresh();
    expect(b.tab.state()).to.equal('authenticated');
    channel.close();
  });

  it('the cross-tab logout/login race, forced: a login waits for the other tab’s logout answer, whose expired cookie cannot wipe the new one', async () => {
    const a = (await openTab()).tab;
    const b = await openTab();
    await a.login('alice');
    await until(() => b.tab.state() === 'authenticated', "A's login reached B");
    // The server holds A's logout 400 ms: long enough for B's login to overtake it, were it not waiting.
    await logoutFault({ delay: 400 });
    const loggingOut = a.logout();
    await until(() => b.tab.state() === 'anonymous', "A's logout reached B");
    await b.tab.login('bob');
    await loggingOut;
    expect(sidCookie()).to.not.equal('');
    // Had A's answer (which expires the refresh cookie) arrived after B's login, this would be a 401.
    await b.tab.refresh();
    expect(b.tab.state()).to.equal('authenticated');
    expect(await b.tab.me()).to.deep.equal({ status: 200, name: 'Bob' });
  });

  it('a new tab’s question is answered only with the token of the session the cookie names', async () => {
    const frame = await openTab();
    await frame.tab.login('alice');
    const sid = sidCookie();
    const channel = new BroadcastChannel(channelName);
    const answers: string[] = [];
    channel.onmessage = ({ data }) => data?.type === 'token' && answers.push(data.to);
    for (const [id, ask] of [
      ['none', {}],
      ['wrong', { sid: 'not-the-session' }],
      ['right', { sid }],
    ] as const) {
      channel.postMessage({ v: 1, type: 'ask', id, ...ask });
    }
    await delivered(channel, frame);
    await until(() => answers.length > 0, 'the right question answered');
    expect(answers).to.deep.equal(['right']);
    channel.close();
  });

  it('a new tab adopts no answer about another session than the cookie’s: it restores over the network', async () => {
    await serverLogin('alice');
    // A stand-in for another tab that answers with a token of another session.
    let leave!: () => void;
    void navigator.locks.request(`${channelName}:tab`, { mode: 'shared' }, () => new Promise<void>((r) => (leave = r)));
    const channel = new BroadcastChannel(channelName);
    const now = Math.floor(Date.now() / 1000);
    const token = fakeJwt({ sub: '9', name: 'Mallory', sid: 'another-session', iat: now, exp: now + 60 });
    channel.onmessage = ({ data }) => {
      if (data?.type !== 'ask') return;
      const at = performance.timeOrigin + performance.now();
      channel.postMessage({
        v: 1,
        type: 'token',
        token,
        remaining: 60_000,
        lifetime: 60_000,
        requestedAt: at,
        to: data.id,
      });
    };
    try {
      const b = (await openTab()).tab;
      expect(b.user()).to.include({ name: 'Alice' });
      expect(b.restores()).to.deep.equal(['network']);
    } finally {
      channel.close();
      leave();
    }
  });
});
