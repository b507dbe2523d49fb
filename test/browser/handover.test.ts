// The lifetime left of a token another tab handed over. A tab that adopts a sibling's token — a new
// tab's restore from an open one, or the hand-over after another tab's refresh — counts its
// freshness from what was left of it when it arrived, on its own clock: not from the token's whole
// lifetime, not from its own earlier token, and with the leeway taken from the token's whole
// lifetime (the `leeway` option, at most a quarter of it), never sooner than 5 s after it arrived.
//
// Tabs are same-origin iframes with a bundled copy of auth-shell, each on a clock of its own that
// moves only when the test advances it (so nothing here depends on how fast the machine is), and
// each starting at another reading: a tab's clock says nothing to another tab. Whether a tab finds
// its token stale is read where the README promises it is checked: its next authFetch, which
// refreshes first (`refresh` activity, reason `expiry`). /handover-api is this file's own backend
// (60 s access tokens).
import { expect } from '@open-wc/testing';
import { closeFrames, openFrame, until } from './helpers.js';

interface Tab {
  tab: {
    state(): string;
    advance(ms: number): void;
    login(user: string): Promise<unknown>;
    me(): Promise<number>;
    /** Every refresh this tab started, by reason. */
    refreshes(): string[];
    /** Tokens this tab adopted from another tab after its refresh or login. */
    adopted(): number;
    /** The restore's steps: `start:network`, `success:tab` (adopted from a sibling) or `success:network`. */
    restores(): string[];
  };
}

const API = '/handover-api';

/** A tab whose clock starts at `start` and stands still until `advance(ms)`; `leeway` in seconds. */
const tabPage = (start: number, leeway?: number) => `
  <script type="module">
    import { getSession } from '/__bundles__/a.js';
    let now = ${start};
    const session = getSession({
      api: '${API}',
      sidCookie: 'handover-api-sid',
      clock: () => now,
      retryDelay: 20,
      ${leeway === undefined ? '' : `leeway: ${leeway},`}
    });
    const refreshes = [];
    const restores = [];
    let adopted = 0;
    session.addEventListener('activity', ({ detail }) => {
      if (detail.kind === 'refresh' && detail.phase === 'start') refreshes.push(detail.reason);
      if (detail.kind === 'refresh' && detail.phase === 'success' && detail.source === 'tab') adopted++;
      if (detail.kind === 'restore') restores.push(detail.phase + ':' + (detail.source ?? 'network'));
    });
    window.tab = {
      state: () => session.state,
      advance: (ms) => (now += ms),
      login: (user) => session.login(user, user),
      me: async () => (await session.authFetch('${API}/me')).status,
      refreshes: () => refreshes,
      adopted: () => adopted,
      restores: () => restores,
    };
  </script>`;

async function openTab(start: number, leeway?: number) {
  const win = await openFrame<Tab>(tabPage(start, leeway));
  await until(() => !!win.tab && win.tab.state() !== 'restoring', 'the tab restored');
  return win.tab;
}

/** Advances `tab`'s clock by `ms`, calls the API through its authFetch, and returns the refreshes that took. */
async function afterAdvancing(tab: Tab['tab'], ms: number): Promise<string[]> {
  const before = tab.refreshes().length;
  tab.advance(ms);
  expect(await tab.me()).to.equal(200);
  return tab.refreshes().slice(before);
}

/**
 * Tab A signs in and lets `used` ms of its 60 s token pass; then tab B opens (on a clock of its own)
 * and restores from A: it is handed the token with 60 s − `used` left.
 */
async function newTabAfter(used: number, leeway?: number) {
  const a = await openTab(0, leeway);
  await a.login('alice');
  a.advance(used);
  const b = await openTab(7_000_000, leeway);
  // The scenario: B was handed A's token (it restored from the tab, without a request).
  expect(b.restores()).to.deep.equal(['start:network', 'success:tab']);
  expect(b.state()).to.equal('authenticated');
  return { a, b };
}

beforeEach(() => fetch(`${API}/logout`, { method: 'POST', headers: { 'X-Requested-With': 'auth-shell' } }));
afterEach(() => closeFrames());

describe('a token handed over by another tab lives what it had left', () => {
  it('a new tab handed a token with 40 s of 60 s left finds it stale after 25 s (leeway 30 s capped at 15 s), not later, not sooner', async () => {
    const { b } = await newTabAfter(20_000);
    // Stale at 40 s − min(30 s, 60 s / 4) = 25 s after it arrived: counted from the whole lifetime it
    // would be 45 s; with the leeway taken from what is left (40 s / 4) 30 s; without the cap, 10 s.
    expect(await afterAdvancing(b, 24_000), 'after 24 s').to.deep.equal([]);
    expect(await afterAdvancing(b, 2_000), 'after 26 s').to.deep.equal(['expiry']);
  });

  it('with a leeway of 5 s (under the cap) the same token is stale after 35 s', async () => {
    const { b } = await newTabAfter(20_000, 5);
    // 40 s − 5 s; counted from the whole lifetime it would be 55 s.
    expect(await afterAdvancing(b, 34_000), 'after 34 s').to.deep.equal([]);
    expect(await afterAdvancing(b, 2_000), 'after 36 s').to.deep.equal(['expiry']);
  });

  it('a token with less left than the leeway allows is still fresh for 5 s in the new tab, then stale', async () => {
    // 17 s left, leeway 15 s: A still holds it fresh (stale at 45 s), so it offers it; B would find
    // it stale 2 s after it arrived but for the 5 s floor.
    const { b } = await newTabAfter(43_000);
    expect(await afterAdvancing(b, 4_000), 'after 4 s').to.deep.equal([]);
    expect(await afterAdvancing(b, 2_000), 'after 6 s').to.deep.equal(['expiry']);
  });

  it("a token handed over after another tab's refresh counts from its arrival, not from the tab's previous token", async () => {
    const a = await openTab(0);
    const b = await openTab(3_000_000);
    await a.login('alice'); // handed to B: B's token is stale 45 s after it arrived
    await until(() => b.state() === 'authenticated', 'the login reached B');
    expect(b.adopted()).to.equal(1);
    b.advance(30_000); // 15 s before B's token turns stale
    a.advance(50_000); // A's is stale: A's next call refreshes, and hands the new token to B
    expect(await afterAdvancing(a, 0)).to.deep.equal(['expiry']);
    await until(() => b.adopted() === 2, "A's new token reached B");
    // B's new token: stale 45 s after it arrived (60 s − 15 s), whatever was left of the old one.
    expect(await afterAdvancing(b, 44_000), 'after 44 s').to.deep.equal([]);
    expect(await afterAdvancing(b, 2_000), 'after 46 s').to.deep.equal(['expiry']);
  });
});
