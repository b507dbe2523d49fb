// Several tabs of one browser (same-origin iframes: separate pages sharing cookies, BroadcastChannel
// and Web Locks): one refresh at a time against a rotating backend, and logins and logouts that reach
// every tab. /tabs-api is this file's own backend, so its counters are exact.
import { expect } from '@open-wc/testing';
import { closeFrames, openFrame, until } from './helpers.js';

interface Tab {
  tab: {
    state(): string;
    advance(ms: number): void;
    me(): Promise<number>;
    login(user: string): Promise<unknown>;
    logout(): Promise<void>;
    refreshes(): number;
    endsHeard(): number;
  };
}
interface Stats {
  refreshes: number;
  rotations: number;
  graceHits: number;
  reuseDetections: number;
  revokedFamilies: number;
}

const tabPage = (setup = '', sidCookie = 'tabs-api-sid') => `
  <script>${setup}</script>
  <script type="module">
    import { getSession } from '/__bundles__/a.js';
    let offset = 0;
    const session = getSession({ api: '/tabs-api', sidCookie: '${sidCookie}', clock: () => performance.now() + offset, retryDelay: 20 });
    let refreshes = 0;
    let endsHeard = 0;
    session.addEventListener('activity', (e) => {
      if (e.detail.kind === 'refresh' && e.detail.phase === 'start') refreshes++;
      if (e.detail.kind === 'logout' && e.detail.phase === 'success' && e.detail.source === 'tab') endsHeard++;
    });
    window.tab = {
      state: () => session.state,
      advance: (ms) => (offset += ms),
      me: async () => (await session.authFetch('/tabs-api/me')).status,
      login: (user) => session.login(user, user),
      logout: () => session.logout(),
      refreshes: () => refreshes,
      endsHeard: () => endsHeard,
    };
  </script>`;

/**
 * A tab's setup (before auth-shell loads) that makes the backend's tokens look as a backend's that
 * does not say which session a token is of: the `sid` claim is taken out of every token the tab
 * receives, and put back on the way out (kept, for every tab, in the test page), so the server
 * still gets the tokens it signed. A login answer waits for `window.holdLogin` when it is set.
 */
const withoutSessionIds = `
  {
    const signed = (parent.signedTokens ??= new Map());
    const fetch = window.fetch.bind(window);
    const b64 = (text) => btoa(text).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_');
    const unb64 = (text) => atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    window.fetch = async (input, init) => {
      let request = new Request(input, init);
      const bearer = request.headers.get('Authorization')?.slice(7);
      if (signed.has(bearer)) {
        const headers = new Headers(request.headers);
        headers.set('Authorization', 'Bearer ' + signed.get(bearer));
        request = new Request(request, { headers });
      }
      const response = await fetch(request);
      if (!/\\/(login|refresh)$/.test(new URL(request.url).pathname) || !response.ok) return response;
      if (request.url.endsWith('/login')) await window.holdLogin;
      const body = await response.json();
      const [header, payload, signature] = body.access_token.split('.');
      const { sid, ...claims } = JSON.parse(unb64(payload));
      const token = [header, b64(JSON.stringify(claims)), signature].join('.');
      signed.set(token, body.access_token);
      const headers = new Headers(response.headers);
      headers.delete('Content-Length');
      return new Response(JSON.stringify({ ...body, access_token: token }), { status: response.status, headers });
    };
  }`;

/**
 * A tab's setup that makes its clock read the shared time `parent.sharedTime` (which the test sets,
 * and which stands still) rounded to 50 ms steps, up or down.
 */
const clockRounded = (round: 'ceil' | 'floor') => `
  performance.now = () => Math.${round}(parent.sharedTime / 50) * 50 - performance.timeOrigin;`;

const stats = async (): Promise<Stats> => (await fetch('/tabs-api/_stats')).json();
const logoutServer = () => fetch('/tabs-api/logout', { method: 'POST', headers: { 'X-Requested-With': 'auth-shell' } });

async function openTabs(count: number, setup?: string) {
  const tabs = await Promise.all(Array.from({ length: count }, () => openFrame<Tab>(tabPage(setup))));
  await until(() => tabs.every((w) => w.tab && w.tab.state() !== 'restoring'), 'every tab restored');
  return tabs.map((w) => w.tab);
}

beforeEach(() => logoutServer());
afterEach(() => closeFrames());

describe('many tabs', () => {
  it('5 tabs with expired tokens calling authFetch together, 50 rounds: 0 revocations, at most 1 refresh per round', async () => {
    const tabs = await openTabs(5);
    await tabs[0]!.login('alice');
    await until(() => tabs.every((t) => t.state() === 'authenticated'), 'the login reached every tab');
    const start = await stats();
    const perRound: number[] = [];
    for (let round = 0; round < 50; round++) {
      const before = await stats();
      for (const t of tabs) t.advance(10 * 60_000); // every tab's token is now expired
      const statuses = await Promise.all(tabs.map((t) => t.me()));
      expect(statuses, `round ${round}`).to.deep.equal([200, 200, 200, 200, 200]);
      perRound.push((await stats()).refreshes - before.refreshes);
    }
    const end = await stats();
    expect(Math.max(...perRound)).to.be.at.most(1);
    expect(end.reuseDetections - start.reuseDetections).to.equal(0);
    expect(end.revokedFamilies - start.revokedFamilies).to.equal(0);
    expect(end.rotations - start.rotations).to.equal(perRound.reduce((a, b) => a + b, 0));
  });

  it("logout in tab A makes tab B anonymous at once, from A's message, without a reload", async () => {
    const [a, b, c] = await openTabs(3);
    await a!.login('bob');
    await until(() => b!.state() === 'authenticated' && c!.state() === 'authenticated', 'login reached B and C');
    const refreshes = [b!.refreshes(), c!.refreshes()];
    void a!.logout();
    await until(() => b!.state() === 'anonymous' && c!.state() === 'anonymous', 'logout reached B and C');
    // At once: each learned it from A's message (a logout of source `tab`), not by a request of
    // its own (a refresh answered 401) nor at a later check of its own.
    expect([b!.endsHeard(), c!.endsHeard()], 'logouts heard from another tab').to.deep.equal([1, 1]);
    expect([b!.refreshes(), c!.refreshes()], 'refreshes of B and C').to.deep.equal(refreshes);
    expect(await b!.me()).to.equal(401);
  });

  it('login in tab A makes tab B authenticated without a second login, and B makes no request for it', async () => {
    const [a, b] = await openTabs(2);
    expect(b!.state()).to.equal('anonymous');
    const refreshesBefore = b!.refreshes();
    await a!.login('alice');
    await until(() => b!.state() === 'authenticated', 'login reached B');
    expect(b!.refreshes()).to.equal(refreshesBefore);
    expect(await b!.me()).to.equal(200);
  });

  it('a login started in tab B right after a logout in tab A wins, and reaches A', async () => {
    const [a, b] = await openTabs(2);
    await a!.login('alice');
    await until(() => b!.state() === 'authenticated', 'login reached B');
    const loggingOut = a!.logout();
    // B's login starts after A's logout; A's logout message reaches B while B's request is in flight.
    await b!.login('bob');
    await loggingOut;
    expect(b!.state()).to.equal('authenticated');
    await until(() => a!.state() === 'authenticated', "B's login reached A");
    expect(await a!.me()).to.equal(200);
  });

  it("the same, when each tab's clock rounds the shared time its own way (Firefox rounds per document)", async () => {
    // Tokens that do not say which session they are of (no sid claim, no session-id cookie) are
    // ordered against logouts by the browser's shared clock, and each document reads it rounded its
    // own way. Here to 50 ms steps, A rounding up and B down, and standing still at one shared time
    // (parent.sharedTime), so that every event of the test falls into one step however slow the
    // machine: A's logout reads a step later than B's login start. B, hearing the logout while its
    // login is in flight, takes its login for the later one (a tie), and stamps what it hands over
    // no earlier than that logout, so that A, comparing with its own reading of its logout, takes it.
    (window as { sharedTime?: number }).sharedTime =
      Math.floor((performance.timeOrigin + performance.now()) / 50) * 50 + 25;
    const tabs = (['ceil', 'floor'] as const).map((round) => tabPage(`${withoutSessionIds}${clockRounded(round)}`, ''));
    const [a, b] = await Promise.all(tabs.map((page) => openFrame<Tab & { holdLogin?: Promise<unknown> }>(page)));
    await until(() => [a, b].every((w) => w!.tab && w!.tab.state() !== 'restoring'), 'both tabs restored');
    await a!.tab.login('alice');
    await until(() => b!.tab.state() === 'authenticated', 'login reached B');
    const loggingOut = a!.tab.logout();
    // B's login answer is held until A's logout has reached B: B hears it while its login is in
    // flight (when B's login waited for A's logout answer instead, it has heard it already).
    b!.holdLogin = until(() => b!.tab.state() === 'anonymous', "A's logout reached B");
    await b!.tab.login('bob');
    await loggingOut;
    expect(b!.tab.state()).to.equal('authenticated');
    await until(() => a!.tab.state() === 'authenticated', "B's login reached A");
    expect(await a!.tab.me()).to.equal(200);
  });

  it('without Web Locks and BroadcastChannel a tab still works on its own', async () => {
    const [solo] = await openTabs(
      1,
      "Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }); delete window.BroadcastChannel;",
    );
    await solo!.login('alice');
    expect(await solo!.me()).to.equal(200);
    const refreshes = solo!.refreshes();
    solo!.advance(10 * 60_000);
    expect(await solo!.me()).to.equal(200);
    expect(solo!.refreshes()).to.equal(refreshes + 1);
    await solo!.logout();
    expect(solo!.state()).to.equal('anonymous');
  });
});

describe('a logout and the page going away', () => {
  // That the request is sent at once, in the task of the call (keepalive, which lets it outlive the
  // page on a slow network, is asserted on the request itself in session.test.ts).
  it('a logout called right before the tab closes reaches the server: its refresh token is revoked', async () => {
    const [a] = await openTabs(1);
    await a!.login('alice');
    const before = await stats();
    void a!.logout().catch(() => {});
    closeFrames(); // the tab is gone in the same task
    let after = await stats();
    for (let i = 0; i < 50 && after.revokedFamilies === before.revokedFamilies; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await stats();
    }
    expect(after.revokedFamilies - before.revokedFamilies).to.equal(1);
    const refresh = await fetch('/tabs-api/refresh', { method: 'POST', headers: { 'X-Requested-With': 'auth-shell' } });
    expect(refresh.status).to.equal(401);
  });
});

describe('a session ended by the server', () => {
  it("a refresh answered 401 in tab A (stolen token revoked, logout elsewhere) makes tab B anonymous at once, from A's message", async () => {
    const [a, b] = await openTabs(2);
    await a!.login('bob');
    await until(() => b!.state() === 'authenticated', 'login reached B');
    const refreshes = b!.refreshes();
    await logoutServer(); // the family is revoked behind both tabs' backs
    a!.advance(10 * 60_000);
    expect(await a!.me()).to.equal(401); // A refreshes first: 401, the session is over
    await until(() => b!.state() === 'anonymous', 'the end reached B');
    // At once: B learned it from A's message (a logout of source `tab`), not by a refresh of its
    // own answered 401 nor at a later check of its own.
    expect(b!.endsHeard(), 'logouts heard from another tab').to.equal(1);
    expect(b!.refreshes(), 'refreshes of B').to.equal(refreshes);
  });
});
