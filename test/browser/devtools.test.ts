// <auth-devtools> against real flows: the reference backend for restores, logins, 401 retries,
// refreshes and sockets; a same-origin iframe as another tab; msw only to make the refresh fail.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { HttpResponse, http } from 'msw';
import { AuthProvider, NetworkError, type AuthSocket, type Session } from '../../src/index.js';
import { AuthDevtools, type DevtoolsKind } from '../../src/devtools.js';
import {
  closeFrames,
  disposeSessions,
  hello,
  JWT_PATTERN,
  mount,
  openFrame,
  serverLogin,
  serverLogout,
  sessionsWith,
  startWorker,
  track,
  until,
  worker,
} from './helpers.js';

const sockets: AuthSocket[] = [];

/** A provider of `/api` with a devtools inside it, and the provider's session once it has one. */
async function providerWithDevtools(attributes = '') {
  const provider = await mount<AuthProvider>(
    html`<auth-provider api="/api"><auth-devtools></auth-devtools></auth-provider>`,
  );
  const devtools = provider.querySelector('auth-devtools')!;
  for (const [name, value] of new URLSearchParams(attributes)) devtools.setAttribute(name, value);
  await devtools.updateComplete;
  return { provider, devtools, session: provider.session! };
}

/** A session of its own, not a tab of the page's others (it would hear their logins). */
const { session: unshared } = sessionsWith({ tabSync: false });

/** A devtools showing a session of its own, after a login and a refresh. */
async function loggedInDevtools() {
  const session = unshared();
  const devtools = await mount<AuthDevtools>(html`<auth-devtools .session=${session}></auth-devtools>`);
  await session.login('alice', 'alice');
  await session.refresh();
  await devtools.updateComplete;
  return { session, devtools };
}

/** The entries the devtools shows (visible ones only), oldest first, as `kind: text`. */
function shown(devtools: AuthDevtools): string[] {
  return [...devtools.shadowRoot!.querySelectorAll<HTMLElement>('[part="entry"]')]
    .filter((item) => item.checkVisibility())
    .map((item) => `${part(item, 'kind')}: ${part(item, 'text')}`)
    .reverse();
}
const part = (root: ParentNode, name: string) => root.querySelector(`[part~="${name}"]`)?.textContent ?? '';
const control = <T extends HTMLElement>(devtools: AuthDevtools, selector: string) =>
  devtools.shadowRoot!.querySelector<T>(selector)!;
const checkbox = (devtools: AuthDevtools, kind: DevtoolsKind) =>
  control<HTMLInputElement>(devtools, `input[value="${kind}"]`);

/** Waits until the devtools shows a line matching `pattern` (`kind: text`). */
async function showsLine(devtools: AuthDevtools, pattern: RegExp, timeout = 5000): Promise<void> {
  await until(() => shown(devtools).some((line) => pattern.test(line)), `a line matching ${pattern}`, timeout);
}

/** The lines matching each pattern, in this order (other lines may come between them). */
function inOrder(lines: string[], patterns: RegExp[]): void {
  let from = 0;
  for (const pattern of patterns) {
    const at = lines.findIndex((line, i) => i >= from && pattern.test(line));
    expect(at, `${pattern} after line ${from} in:\n${lines.join('\n')}`).to.be.at.least(0);
    from = at + 1;
  }
}

/** Nothing in the devtools' DOM, text or attributes, looks like a JWT or is `token`. */
function expectNoToken(devtools: AuthDevtools, token?: string): void {
  const dom = devtools.shadowRoot!.innerHTML + devtools.outerHTML;
  expect(JWT_PATTERN.test(dom), 'a JWT in the devtools').to.be.false;
  expect(JSON.stringify(devtools.entries)).not.to.match(JWT_PATTERN);
  if (token) {
    for (const piece of token.split('.')) expect(dom, 'a part of the token').not.to.include(piece);
  }
}

before(startWorker);
beforeEach(() => serverLogout());
afterEach(() => {
  worker.resetHandlers();
  closeFrames();
  for (const socket of sockets.splice(0)) socket.close();
  disposeSessions();
});

describe('<auth-devtools>: every kind of entry, from real flows', () => {
  it('shows a restore through the nearest provider: its steps, then the state with the user’s claims', async () => {
    await serverLogin('alice');
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    await showsLine(devtools, /^restore: success/);
    inOrder(shown(devtools), [
      /^state: attached to http:\/\/localhost:\d+\/api · restoring$/,
      /^restore: start$/,
      /^refresh: start · reason=restore$/,
      /^state: authenticated · name=Alice · sub=1 · role=user · user_id=1 · /,
      /^refresh: success · reason=restore$/,
      /^restore: success$/,
    ]);
    expect(devtools.attached).to.equal(provider.session);
    expect(part(devtools.shadowRoot!, 'status')).to.match(/^authenticated · Alice · \d+ entries$/);
    expectNoToken(devtools);
  });

  it('shows a login that failed (code, operation, status, message) and one that succeeded', async () => {
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    const failed = await provider.login('bob', 'wrong').catch((error: unknown) => error);
    expect(failed).to.have.property('code', 'invalid-credentials');
    await provider.login('bob', 'bob');
    await showsLine(devtools, /^login: success$/);
    inOrder(shown(devtools), [
      /^state: anonymous$/,
      /^login: start$/,
      /^login: failure · error=invalid-credentials · operation=login · status=401 · Invalid login or password$/,
      /^login: start$/,
      /^state: authenticated · .*name=Bob/,
      /^login: success$/,
    ]);
    expect(devtools.shadowRoot!.querySelector('[data-tone="bad"] [part="text"]')!.textContent).to.include(
      'invalid-credentials',
    );
    expectNoToken(devtools);
  });

  it('shows a 401 answered to authFetch: the refresh it caused (reason unauthorized) and the retry with its url', async () => {
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    await provider.login('alice', 'alice');
    // The server revokes the token in hand: the next call is answered 401.
    expect((await provider.authFetch('/api/expire-token', { method: 'POST' })).status).to.equal(204);
    expect((await provider.authFetch('/api/me')).status).to.equal(200);
    inOrder(shown(devtools), [
      /^login: success$/,
      /^refresh: start · reason=unauthorized$/,
      /^refresh: success · reason=unauthorized$/,
      new RegExp(`^retry: start · url=${location.origin}/api/me$`),
    ]);
    expectNoToken(devtools);
  });

  it('shows a refresh of the session given as a property: start and success with the reason', async () => {
    const session = unshared();
    const devtools = await mount<AuthDevtools>(html`<auth-devtools .session=${session}></auth-devtools>`);
    await session.login('alice', 'alice');
    await session.refresh();
    inOrder(shown(devtools), [
      /^state: attached to .*\/api · restoring$/,
      /^login: success$/,
      /^refresh: start · reason=manual$/,
      /^refresh: success · reason=manual$/,
    ]);
    expectNoToken(devtools);
  });

  it('shows what another tab did as tab entries: its login handed over, its logout', async () => {
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    const tab = await openFrame<{ tab?: Session }>(`<script type="module">
      import { getSession } from '/__bundles__/a.js';
      window.tab = getSession('/api');
    </script>`);
    await until(() => !!tab.tab, 'the other tab loaded');
    await tab.tab!.ready;
    await tab.tab!.login('alice', 'alice');
    await showsLine(devtools, /^tab: refresh · success · from another tab$/);
    await showsLine(devtools, /^state: authenticated · .*name=Alice/);
    await tab.tab!.logout();
    await showsLine(devtools, /^tab: logout · success · from another tab$/);
    inOrder(shown(devtools), [
      /^tab: refresh · success · from another tab$/,
      /^state: anonymous$/,
      /^tab: logout · success · from another tab$/,
    ]);
    expect(provider.state).to.equal('anonymous');
    expectNoToken(devtools);
  });

  it('shows an error nobody awaited (code, operation, status, message) and the backoff before it', async () => {
    worker.use(http.post('/api/refresh', () => new HttpResponse(null, { status: 503 })));
    const session = unshared({ retryDelay: 10, refreshRetries: 1 });
    const devtools = await mount<AuthDevtools>(html`<auth-devtools .session=${session}></auth-devtools>`);
    await session.restore();
    await showsLine(devtools, /^restore: failure/);
    inOrder(shown(devtools), [
      /^restore: start$/,
      /^refresh: start · reason=restore$/,
      /^refresh: backoff · reason=restore · attempt=1 · delay=\d+ ms · error=network · operation=refresh · status=503 · /,
      /^refresh: failure · reason=restore · error=network · operation=refresh · status=503 · /,
      /^state: anonymous$/,
      new RegExp(
        `^error: error=network · operation=refresh · status=503 · refresh: POST ${location.origin}/api/refresh answered 503 \\([^)]*\\)$`,
      ),
      /^restore: failure · error=network/,
    ]);
    const error = devtools.shadowRoot!.querySelector('[data-kind="error"]')!;
    expect(error.getAttribute('data-tone')).to.equal('bad');
  });

  it('shows a watched socket’s reconnect: disconnected, reconnecting (attempt, delay, code), the refresh, open, reconnected, then its close', async () => {
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    await provider.login('alice', 'alice');
    const socket = provider.openSocket('/api/ws', { retryDelay: 20 });
    sockets.push(socket);
    devtools.watch(socket);
    await hello(socket);
    const reconnected = oneEvent(socket, 'reconnected');
    const sid = String(provider.user!['sid']);
    await fetch(`/api/_ws/close?sid=${sid}&code=4001&reason=test`, { method: 'POST' });
    await reconnected;
    socket.close();
    await showsLine(devtools, /^socket: \/api\/ws · close/);
    inOrder(shown(devtools), [
      /^socket: \/api\/ws · open$/,
      /^message: \/api\/ws · \d+ chars · {"type":"hello"/,
      /^socket: \/api\/ws · disconnected · code=4001 · reason=test · wasClean=true$/,
      /^socket: \/api\/ws · reconnecting · attempt=1 · delay=0 ms · code=4001 · reason=test$/,
      /^refresh: start · reason=unauthorized$/,
      /^refresh: success · reason=unauthorized$/,
      /^socket: \/api\/ws · open$/,
      /^socket: \/api\/ws · reconnected · attempts=1$/,
      /^socket: \/api\/ws · close · code=1000 · wasClean=(true|false) · unsent=0$/,
    ]);
    // Closed for good: the devtools no longer listens to it.
    const count = devtools.entries.length;
    socket.dispatchEvent(new Event('open'));
    expect(devtools.entries.length).to.equal(count);
    expectNoToken(devtools);
  });
});

describe('<auth-devtools>: filters, clearing, the bound', () => {
  const kindsShown = (devtools: AuthDevtools) => new Set(shown(devtools).map((line) => line.split(':')[0]));

  it('unchecking a kind hides its entries, checking it shows them again; `hide` follows the checkboxes', async () => {
    const { devtools } = await loggedInDevtools();
    expect([...kindsShown(devtools)]).to.include.members(['state', 'login', 'refresh']);
    checkbox(devtools, 'refresh').click();
    await devtools.updateComplete;
    expect(devtools.getAttribute('hide')).to.equal('refresh');
    expect(kindsShown(devtools).has('refresh')).to.be.false;
    expect([...kindsShown(devtools)]).to.include.members(['state', 'login']);
    expect(part(devtools.shadowRoot!, 'status')).to.match(/^authenticated · Alice · \d+ of \d+ entries$/);
    checkbox(devtools, 'login').click();
    await devtools.updateComplete;
    expect(devtools.getAttribute('hide')).to.equal('login refresh');
    expect([...kindsShown(devtools)]).to.deep.equal(['state']);
    checkbox(devtools, 'refresh').click();
    await devtools.updateComplete;
    expect(devtools.getAttribute('hide')).to.equal('login');
    expect(kindsShown(devtools).has('refresh')).to.be.true;
    expect(kindsShown(devtools).has('login')).to.be.false;
  });

  it('the hide attribute hides kinds from the start, and entries of hidden kinds are still kept', async () => {
    const session = unshared();
    const devtools = await mount<AuthDevtools>(
      html`<auth-devtools hide="state login" .session=${session}></auth-devtools>`,
    );
    await session.login('alice', 'alice');
    await devtools.updateComplete;
    expect(checkbox(devtools, 'state').checked).to.be.false;
    expect(checkbox(devtools, 'login').checked).to.be.false;
    expect(checkbox(devtools, 'refresh').checked).to.be.true;
    expect(shown(devtools)).to.deep.equal([]);
    expect(part(devtools.shadowRoot!, 'empty')).to.equal('No events of the kinds shown.');
    expect(devtools.entries.map((entry) => entry.kind)).to.include.members(['state', 'login']);
    devtools.hide = '';
    await devtools.updateComplete;
    inOrder(shown(devtools), [/^state: attached/, /^login: start$/, /^login: success$/]);
  });

  it('clear removes every entry, and new ones appear after it', async () => {
    const { session, devtools } = await loggedInDevtools();
    expect(devtools.entries.length).to.be.greaterThan(3);
    control<HTMLButtonElement>(devtools, '[part="clear"]').click();
    await devtools.updateComplete;
    expect(devtools.entries).to.deep.equal([]);
    expect(shown(devtools)).to.deep.equal([]);
    expect(devtools.shadowRoot!.querySelectorAll('[part="entry"]')).to.have.length(0);
    expect(part(devtools.shadowRoot!, 'empty')).to.equal('No events yet.');
    await session.logout();
    await devtools.updateComplete;
    inOrder(shown(devtools), [/^state: anonymous$/, /^logout: start$/, /^logout: success$/]);
  });

  it('keeps the newest `limit` entries: the oldest go first', async () => {
    const session = unshared();
    const devtools = await mount<AuthDevtools>(html`<auth-devtools limit="3" .session=${session}></auth-devtools>`);
    await session.login('alice', 'alice');
    await session.refresh();
    await devtools.updateComplete;
    expect(shown(devtools)).to.deep.equal([
      'login: success',
      'refresh: start · reason=manual',
      'refresh: success · reason=manual',
    ]);
    expect(devtools.entries.map((entry) => entry.text)).to.deep.equal([
      'success',
      'start · reason=manual',
      'success · reason=manual',
    ]);
    devtools.limit = 1;
    await devtools.updateComplete;
    expect(shown(devtools)).to.deep.equal(['refresh: success · reason=manual']);
  });

  it('keeps 500 entries by default', async () => {
    const session = unshared();
    const devtools = await mount<AuthDevtools>(html`<auth-devtools .session=${session}></auth-devtools>`);
    for (let attempt = 1; attempt <= 600; attempt++) {
      const detail = { kind: 'refresh', phase: 'backoff', reason: 'expiry', attempt, delay: 0 };
      session.dispatchEvent(new CustomEvent('activity', { detail }));
    }
    await devtools.updateComplete;
    expect(devtools.entries).to.have.length(500);
    expect(devtools.shadowRoot!.querySelectorAll('[part="entry"]')).to.have.length(500);
    expect(devtools.entries[0]!.text).to.equal('backoff · reason=expiry · attempt=101 · delay=0 ms');
    expect(shown(devtools).at(-1)).to.equal('refresh: backoff · reason=expiry · attempt=600 · delay=0 ms');
  });
});

describe('<auth-devtools>: never a token', () => {
  it('redacts a token put where none should be: an error message, a url, a claim, a socket message, a close reason', async () => {
    const { access_token: token } = await serverLogin('alice');
    const session = unshared();
    const devtools = await mount<AuthDevtools>(html`<auth-devtools .session=${session}></auth-devtools>`);
    const error = new NetworkError(`refresh failed with ${token} in the message`, {
      operation: 'refresh',
      status: 502,
    });
    session.dispatchEvent(new CustomEvent('error', { detail: { error } }));
    session.dispatchEvent(
      new CustomEvent('activity', {
        detail: {
          kind: 'retry',
          phase: 'start',
          url: `https://api.example/me?access_token=${token}`,
          reason: `Bearer ${token}`,
          // A field a future event might carry: never printed.
          token,
        },
      }),
    );
    session.dispatchEvent(
      new CustomEvent('change', { detail: { state: 'authenticated', user: { name: 'Alice', id_token: token } } }),
    );
    // An activity of a kind a later version might add, with a token in its url.
    session.dispatchEvent(
      new CustomEvent('activity', {
        detail: { kind: 'exchange', phase: 'start', url: `https://idp.example/${token}` },
      }),
    );
    // A socket of the application's, as the devtools sees it: an event target with a url.
    const socket = Object.assign(new EventTarget(), { url: 'ws://localhost/ws' }) as unknown as AuthSocket;
    devtools.watch(socket);
    socket.dispatchEvent(new MessageEvent('message', { data: JSON.stringify({ type: 'echo', data: token }) }));
    socket.dispatchEvent(
      new CustomEvent('reconnecting', { detail: { attempt: 1, delay: 5, code: 1011, reason: token } }),
    );
    socket.dispatchEvent(
      Object.assign(new Event('close'), {
        code: 4000,
        reason: `ticket=one-time-secret ${token}`,
        wasClean: true,
        unsent: [],
      }),
    );
    await devtools.updateComplete;

    const lines = shown(devtools);
    inOrder(lines, [
      /^error: error=network · operation=refresh · status=502 · refresh failed with \[redacted\] in the message$/,
      /^retry: start · reason=Bearer \[redacted\] · url=https:\/\/api\.example\/me\?access_token=\[redacted\]$/,
      /^state: authenticated · name=Alice · id_token=\[redacted\]$/,
      /^state: exchange · start · url=https:\/\/idp\.example\/\[redacted\]$/,
      /^message: \/ws · \d+ chars · {"type":"echo","data":"\[redacted\]"}$/,
      /^socket: \/ws · reconnecting · attempt=1 · delay=5 ms · code=1011 · reason=\[redacted\]$/,
      /^socket: \/ws · close · code=4000 · reason=ticket=\[redacted\] \[redacted\] · wasClean=true · unsent=0$/,
    ]);
    expect(lines.join('\n')).not.to.include('one-time-secret');
    expectNoToken(devtools, token);
  });
});

describe('<auth-devtools>: keyboard, collapsing, accessibility', () => {
  it('is accessible (axe) with entries of every tone, expanded and collapsed', async () => {
    const { provider, devtools } = await providerWithDevtools();
    await provider.ready;
    await provider.login('bob', 'wrong').catch(() => {});
    await provider.login('bob', 'bob');
    devtools.watch(Object.assign(new EventTarget(), { url: 'ws://localhost/ws' }) as unknown as AuthSocket);
    await devtools.updateComplete;
    for (const tone of ['ok', 'bad']) expect(devtools.shadowRoot!.querySelector(`[data-tone="${tone}"]`)).to.exist;
    await expect(devtools).to.be.accessible();
    devtools.collapsed = true;
    await devtools.updateComplete;
    await expect(devtools).to.be.accessible();
  });

  it('works from the keyboard: Enter collapses and expands, Space toggles a filter, Enter clears', async () => {
    const { session, devtools } = await loggedInDevtools();
    const toggle = control<HTMLButtonElement>(devtools, '[part="toggle"]');
    const body = control<HTMLElement>(devtools, '[part="body"]');
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    toggle.focus();
    await sendKeys({ press: 'Enter' });
    await devtools.updateComplete;
    expect(devtools.collapsed).to.be.true;
    expect(devtools.hasAttribute('collapsed')).to.be.true;
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    expect(body.checkVisibility()).to.be.false;
    // Collapsed, it still records.
    await session.refresh();
    await sendKeys({ press: 'Enter' });
    await devtools.updateComplete;
    expect(devtools.collapsed).to.be.false;
    expect(body.checkVisibility()).to.be.true;
    expect(shown(devtools).filter((line) => line.startsWith('refresh:'))).to.have.length(4);

    // Tab order: the toggle, then the filters in order.
    await sendKeys({ press: 'Tab' });
    expect(devtools.shadowRoot!.activeElement).to.equal(checkbox(devtools, 'restore'));
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(devtools.shadowRoot!.activeElement).to.equal(checkbox(devtools, 'refresh'));
    // The space character: every driver knows it by that name (puppeteer has no "Space").
    await sendKeys({ press: ' ' });
    await devtools.updateComplete;
    expect(devtools.hide).to.equal('refresh');
    expect(shown(devtools).some((line) => line.startsWith('refresh:'))).to.be.false;

    const clear = control<HTMLButtonElement>(devtools, '[part="clear"]');
    clear.focus();
    await sendKeys({ press: 'Enter' });
    await devtools.updateComplete;
    expect(devtools.entries).to.have.length(0);
    // The list scrolls, so it can be focused to scroll it with the keyboard.
    expect(control<HTMLElement>(devtools, '[part="list"]').tabIndex).to.equal(0);
  });
});

describe('<auth-devtools>: which session', () => {
  it('with api, outside any provider: waits without creating the session, then shows the provider’s once it exists', async () => {
    await serverLogin('alice', 'alice', '/seed-api');
    const root = await fixture<HTMLDivElement>(html`<div><auth-devtools api="/seed-api"></auth-devtools></div>`);
    const devtools = root.querySelector('auth-devtools')!;
    await devtools.updateComplete;
    expect(devtools.attached).to.equal(null);
    expect(part(devtools.shadowRoot!, 'status')).to.match(
      /^waiting for the session of http:\/\/localhost:\d+\/seed-api · 0 entries$/,
    );
    // A seed-mode provider: had the devtools made the session with the defaults, this provider's
    // GET methods would conflict with them and it would get no session.
    const provider = Object.assign(document.createElement('auth-provider'), {
      api: '/seed-api',
      refreshMethod: 'GET',
      logoutMethod: 'GET',
    });
    root.append(provider);
    await provider.updateComplete;
    expect(provider.session).not.to.equal(null);
    track(provider.session!);
    await provider.ready;
    expect(provider.state).to.equal('authenticated');
    expect(devtools.attached).to.equal(provider.session);
    await showsLine(devtools, /^restore: success$/);
    inOrder(shown(devtools), [/^state: attached to .*\/seed-api · restoring$/, /^restore: start$/, /^refresh: start/]);
    await serverLogout('/seed-api');
  });

  it('the session property wins over the provider around it', async () => {
    const own = unshared();
    const provider = await mount<AuthProvider>(
      html`<auth-provider api="/api"><auth-devtools .session=${own}></auth-devtools></auth-provider>`,
    );
    const devtools = provider.querySelector('auth-devtools')!;
    await provider.ready;
    expect(devtools.attached).to.equal(own);
    await provider.login('alice', 'alice');
    await devtools.updateComplete;
    expect(shown(devtools).some((line) => line.startsWith('login:'))).to.be.false;
    await own.login('bob', 'bob');
    await devtools.updateComplete;
    expect(shown(devtools).some((line) => /^state: authenticated · .*name=Bob/.test(line))).to.be.true;
    // Without it, the context's session again.
    devtools.session = null;
    await devtools.updateComplete;
    expect(devtools.attached).to.equal(provider.session);
    expect(shown(devtools).at(-1)).to.match(/^state: attached to .*\/api · authenticated · .*name=Alice/);
  });

  it('beside a provider rather than in it, and without api: attaches to nothing and says where to go', async () => {
    const root = await mount<HTMLDivElement>(
      html`<div><auth-provider api="/api"></auth-provider><auth-devtools></auth-devtools></div>`,
    );
    const provider = root.querySelector('auth-provider')!;
    const devtools = root.querySelector('auth-devtools')!;
    await provider.ready;
    track(provider.session!);
    await devtools.updateComplete;
    expect(devtools.attached).to.equal(null);
    expect(part(devtools.shadowRoot!, 'status')).to.equal('no <auth-provider> above it yet (or set api) · 0 entries');
    devtools.api = '/api';
    await devtools.updateComplete;
    expect(devtools.attached).to.equal(provider.session);
  });

  it('under a provider that has no session, says so', async () => {
    const provider = await fixture<AuthProvider>(html`<auth-provider><auth-devtools></auth-devtools></auth-provider>`);
    const devtools = provider.querySelector('auth-devtools')!;
    await provider.ready;
    await devtools.updateComplete;
    expect(devtools.attached).to.equal(null);
    expect(part(devtools.shadowRoot!, 'status')).to.equal('the provider has no session (see the console) · 0 entries');
  });
});
