// The framework-free pieces the adapters' guards are made of (auth-shell/core): hasRole (the gate's
// rule), safeReturnTo/readReturnTo (the way back after a login, never to another site) as this
// engine's own URL parser reads the result, and firstSession (the page's session without its api).
import { expect } from '@open-wc/testing';
import { existingSessions } from '../../src/core/registry.js';
import {
  firstSession,
  hasRole,
  isAuthError,
  readReturnTo,
  safeReturnTo,
  type Session,
  type User,
} from '../../src/core/index.js';
import type { AuthProvider } from '../../src/index.js';
import '../../src/index.js';
import { disposeSessions, serverLogout, track } from './helpers.js';

afterEach(() => {
  document.querySelectorAll('auth-provider').forEach((provider) => provider.remove());
  disposeSessions();
});

const user = (claims: Record<string, unknown>) => claims as User;

describe('hasRole', () => {
  it('matches the role claim or any entry of roles, as strings; several wanted roles mean any of them', () => {
    const cases: [User | null, string | string[] | undefined, boolean][] = [
      [user({ role: 'admin' }), 'admin', true],
      [user({ role: 'user' }), 'admin', false],
      [user({ roles: ['user', 'admin'] }), 'admin', true],
      [user({ roles: ['user', 'editor'] }), 'admin', false],
      [user({ role: 'user', roles: ['billing'] }), 'billing', true],
      [user({ role: 7 }), '7', true],
      [user({ roles: [1, 2] }), '2', true],
      [user({ roles: 'admin' }), 'admin', false], // `roles` that is not a list is no list of roles
      [user({ role: 'editor' }), 'admin editor', true],
      [user({ role: 'editor' }), '  admin   editor ', true],
      [user({ roles: ['x', 'editor'] }), ['admin', 'editor'], true],
      [user({ role: 'user' }), ['admin', 'editor'], false],
      [user({ role: 'user' }), '', true],
      [user({ role: 'user' }), [], true],
      [user({ role: 'user' }), undefined, true],
      [null, 'admin', false],
      [user({}), 'admin', false],
      [user({ role: null }), 'null', false],
    ];
    for (const [who, wanted, expected] of cases)
      expect(hasRole(who, wanted), `${JSON.stringify(who)} ${JSON.stringify(wanted)}`).to.equal(expected);
  });
});

describe('safeReturnTo and readReturnTo', () => {
  it('keep a path of this site, with its query and hash', () => {
    for (const [given, kept] of [
      ['/', '/'],
      ['/orders', '/orders'],
      ['/orders?id=7&x=%2F#top', '/orders?id=7&x=%2F#top'],
      ['/a/b/../c', '/a/c'],
      ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ])
      expect(safeReturnTo(given), given).to.equal(kept);
    expect(safeReturnTo(new URL('/orders?id=7', location.href))).to.equal('/orders?id=7');
  });

  it("refuse anything that is not a path of this site: the fallback instead, and nothing this engine's parser takes elsewhere", () => {
    const refused = [
      'https://evil.example/x',
      'http://localhost.evil.example/',
      '//evil.example/x',
      '///evil.example/x',
      '/\\evil.example/x',
      '\\/evil.example/x',
      '\\\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      ' /x',
      'javascript:alert(1)',
      'data:text/html,x',
      'orders',
      '',
      null,
      undefined,
      42,
      ['/x'],
      { toString: () => '/x' },
    ];
    for (const value of refused) {
      expect(safeReturnTo(value), JSON.stringify(String(value))).to.equal('/');
      expect(safeReturnTo(value, '/home')).to.equal('/home');
    }
    // Whatever it returns, a browser resolves on this origin.
    for (const value of [...refused, '/ok', '/%5C%5Cevil.example'])
      expect(new URL(safeReturnTo(value), location.href).origin).to.equal(location.origin);
  });

  it('readReturnTo reads the returnTo parameter of a query string, checked', () => {
    expect(readReturnTo('?returnTo=%2Forders%3Fid%3D7')).to.equal('/orders?id=7');
    expect(readReturnTo(new URLSearchParams({ returnTo: '/a', other: 'b' }))).to.equal('/a');
    expect(readReturnTo('?returnTo=https%3A%2F%2Fevil.example')).to.equal('/');
    expect(readReturnTo('?returnTo=%2F%2Fevil.example', '/home')).to.equal('/home');
    expect(readReturnTo('?next=/a')).to.equal('/');
    expect(readReturnTo(), "the page's own query has none").to.equal('/');
  });
});

describe('firstSession', () => {
  const forgetAll = () => existingSessions().forEach((session) => session.dispose());

  it('resolves with the session of the first provider to come, once it is ready, without knowing its api', async () => {
    await serverLogout();
    forgetAll();
    let settled: Session | undefined;
    const first = firstSession().then((session) => (settled = session));
    await new Promise((resolve) => setTimeout(resolve)); // a task: nothing on the page yet, so nothing settles
    expect(settled).to.equal(undefined);
    const provider = document.createElement('auth-provider') as AuthProvider;
    provider.api = '/api';
    document.body.append(provider);
    const session = await first;
    track(session);
    expect(session).to.equal(provider.session);
    expect(session.state, 'ready: decided').to.equal('anonymous');
    expect(await firstSession(), 'later calls: the session already there').to.equal(session);
  });

  it('finds a provider inside a shadow root, and is not misled by other elements that bubble the same events', async () => {
    await serverLogout();
    forgetAll();
    const first = firstSession();
    // An element that is no provider re-dispatching a session's event: ignored, not a rejection.
    document.body.dispatchEvent(
      new CustomEvent('auth-error', { detail: { error: new Error('not a provider') }, bubbles: true, composed: true }),
    );
    const host = document.createElement('div');
    document.body.append(host);
    const provider = document.createElement('auth-provider') as AuthProvider;
    provider.api = '/api';
    host.attachShadow({ mode: 'open' }).append(provider);
    try {
      const session = track(await first);
      expect(session).to.equal(provider.session);
    } finally {
      host.remove();
    }
  });

  it('rejects with the UsageError of a provider that cannot make a session', async () => {
    forgetAll();
    const first = firstSession();
    const consoleError = console.error;
    console.error = () => {}; // the provider's own report of the missing attribute, expected here
    try {
      document.body.append(document.createElement('auth-provider'));
      const error = await first.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAuthError(error, 'usage'), String(error)).to.be.true;
    } finally {
      console.error = consoleError;
    }
  });
});
