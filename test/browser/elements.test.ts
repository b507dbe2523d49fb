import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { ContextConsumer } from '@lit/context';
import { LitElement } from 'lit';
import { HttpResponse, delay, http, passthrough } from 'msw';
import { AuthProvider, authContext, consumeAuth, getAuth, isAuthError, type AuthValue } from '../../src/index.js';
import '../../src/login-form.js';
import {
  disposeSessions,
  fakeJwt,
  JWT_PATTERN,
  mount,
  requestLog,
  requestsTo,
  serverLogin,
  serverLogout,
  sleep,
  startWorker,
  trackProviders,
  uniqueTag,
  until,
  worker,
} from './helpers.js';

const $ = <T extends Element = HTMLElement>(root: ParentNode, selector: string): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`no element matches ${selector}`);
  return found;
};
const visible = (root: ParentNode, selector: string) => $(root, selector).checkVisibility();

before(startWorker);
beforeEach(() => serverLogout());
afterEach(() => {
  worker.resetHandlers();
  disposeSessions();
});

const gateMarkup = html`
  <auth-provider api="/api">
    <auth-gate>
      <p slot="pending" id="pending">Loading…</p>
      <p slot="login" id="login">Please log in</p>
      <p id="always">protected text</p>
      <template><p id="stamped">secret of the user</p></template>
      <p slot="forbidden" id="forbidden">Forbidden</p>
    </auth-gate>
  </auth-provider>
`;

describe('<auth-gate>', () => {
  it('shows neither login nor protected content until the restore settles, then login; one request', async () => {
    worker.use(
      http.post('/api/refresh', async () => {
        await delay(250);
        return passthrough();
      }),
    );
    const log = requestLog();
    const provider = await mount<AuthProvider>(gateMarkup);
    const frames: string[] = [];
    while (provider.state === 'restoring') {
      frames.push([visible(provider, '#pending'), visible(provider, '#login'), visible(provider, '#always')].join());
      await new Promise((r) => requestAnimationFrame(r));
    }
    await provider.updateComplete;
    await $<LitElement>(provider, 'auth-gate').updateComplete;
    log.stop();
    expect(frames.length).to.be.greaterThan(3);
    expect(new Set(frames)).to.deep.equal(new Set(['true,false,false']));
    expect(visible(provider, '#login')).to.be.true;
    expect(visible(provider, '#pending')).to.be.false;
    expect(visible(provider, '#always')).to.be.false;
    expect(provider.querySelector('#stamped')).to.equal(null);
    expect(log.keys()).to.deep.equal(['POST /api/refresh']);
  });

  it('restores an existing session: protected content and stamped template, never the login', async () => {
    await serverLogin('alice');
    const provider = await mount<AuthProvider>(gateMarkup);
    const seenLogin: boolean[] = [];
    while (provider.state === 'restoring') {
      seenLogin.push(visible(provider, '#login'));
      await new Promise((r) => requestAnimationFrame(r));
    }
    const gate = $<LitElement>(provider, 'auth-gate');
    await gate.updateComplete;
    expect(seenLogin).not.to.include(true);
    expect(visible(provider, '#login')).to.be.false;
    expect(visible(provider, '#always')).to.be.true;
    expect(visible(provider, '#stamped')).to.be.true;
  });

  it('stamps template content on login and removes it on logout', async () => {
    const provider = await mount<AuthProvider>(gateMarkup);
    await provider.ready;
    const gate = $<LitElement>(provider, 'auth-gate');
    await provider.login('alice', 'alice');
    await gate.updateComplete;
    const stamped = $(provider, '#stamped');
    expect(stamped.textContent).to.equal('secret of the user');
    await provider.logout();
    await gate.updateComplete;
    expect(stamped.isConnected).to.be.false;
    expect(provider.querySelector('#stamped')).to.equal(null);
    expect(visible(provider, '#login')).to.be.true;
    // A second login stamps a fresh copy, not the old nodes.
    await provider.login('bob', 'bob');
    await gate.updateComplete;
    expect($(provider, '#stamped')).not.to.equal(stamped);
  });

  it('require-role shows the forbidden slot to users without the role', async () => {
    const provider = await mount<AuthProvider>(html`
      <auth-provider api="/api">
        <auth-gate require-role="admin">
          <p slot="forbidden" id="forbidden">Admins only</p>
          <template><p id="admin-area">admin</p></template>
        </auth-gate>
      </auth-provider>
    `);
    await provider.ready;
    const gate = $<LitElement & { view: string }>(provider, 'auth-gate');
    await provider.login('alice', 'alice');
    await gate.updateComplete;
    expect(gate.view).to.equal('forbidden');
    expect(visible(provider, '#forbidden')).to.be.true;
    expect(provider.querySelector('#admin-area')).to.equal(null);
    await provider.logout();
    await provider.login('admin', 'admin');
    await gate.updateComplete;
    expect(gate.view).to.equal('protected');
    expect(visible(provider, '#admin-area')).to.be.true;
    expect(visible(provider, '#forbidden')).to.be.false;
  });

  it('the shipped stylesheet hides login and protected children before definition; the real elements take over without a flash', async () => {
    // A page as the README shows it: the package's auth-shell.css in the head, the markup, then the
    // library (a bundled copy of this project's code) loaded late. Every frame is watched, before
    // and after definition.
    const frame = document.createElement('iframe');
    frame.srcdoc = `
      <link rel="stylesheet" href="/src/auth-shell.css">
      <auth-provider api="/api"><auth-gate>
        <p slot="pending" id="pending">Loading</p><p slot="login" id="login">Login</p><p id="secret">Protected</p>
      </auth-gate></auth-provider>`;
    document.body.append(frame);
    try {
      await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      const win = frame.contentWindow!;
      const doc = frame.contentDocument!;
      const shown = () =>
        ['#pending', '#login', '#secret'].filter((id) => doc.querySelector(id)!.checkVisibility()).join(',');
      expect(doc.querySelector('auth-gate')!.matches(':defined')).to.be.false;
      expect(shown()).to.equal('#pending');
      const frames: string[] = [];
      const script = doc.createElement('script');
      script.type = 'module';
      script.textContent = "import '/__bundles__/a.js';";
      doc.body.append(script);
      // Every frame is looked at until the login view shows (each frame is what is watched: no
      // event would show them). The give-up only names a view that never came, far beyond the
      // one restore request this takes.
      const giveUp = performance.now() + 10_000;
      while (shown() !== '#login') {
        if (performance.now() > giveUp)
          throw new Error(`the login view never showed; frames: ${[...new Set(frames)].join(' | ')}`);
        frames.push(shown());
        await new Promise((resolve) => win.requestAnimationFrame(resolve));
      }
      expect(doc.querySelector('auth-gate')!.matches(':defined')).to.be.true;
      expect(shown()).to.equal('#login');
      expect(new Set(frames)).to.deep.equal(new Set(['#pending']));
    } finally {
      frame.remove();
    }
  });
});

describe('<auth-gate require-role>', () => {
  /**
   * A gate requiring `required` (no attribute when `null`) and a user signed in with `claims` (a
   * scripted login answer: the token's claims are the user); what the gate shows.
   */
  async function signedInUnder(required: string | null, claims: Record<string, unknown>) {
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: 'u', ...claims }) }), {
        once: true,
      }),
    );
    const provider = await mount<AuthProvider>(html`
      <auth-provider api="/api">
        <auth-gate>
          <p slot="login" id="login">Please log in</p>
          <p slot="forbidden" id="forbidden">Not for you</p>
          <p id="allowed">protected text</p>
          <template><p id="stamped">protected data</p></template>
        </auth-gate>
      </auth-provider>
    `);
    await provider.ready;
    const gate = $<LitElement & { view: string }>(provider, 'auth-gate');
    if (required !== null) gate.setAttribute('require-role', required);
    await provider.login('u', 'u');
    await gate.updateComplete;
    /** The view, and which content the user sees. */
    const shown = () => ({
      view: gate.view,
      seen: ['#login', '#forbidden', '#allowed', '#stamped'].filter(
        (id) => provider.querySelector(id)?.checkVisibility() ?? false,
      ),
    });
    return { gate, shown };
  }
  const LET_IN = { view: 'protected', seen: ['#allowed', '#stamped'] };
  const KEPT_OUT = { view: 'forbidden', seen: ['#forbidden'] };

  for (const [required, claims, expected, why] of [
    ['admin editor', { role: 'editor' }, LET_IN, 'the role claim equals the second listed role'],
    ['admin editor', { role: 'admin' }, LET_IN, 'the role claim equals the first listed role'],
    ['admin editor', { role: 'viewer' }, KEPT_OUT, 'the role claim equals none of them'],
    ['admin editor', { roles: ['viewer', 'editor'] }, LET_IN, 'an entry of roles equals one of them'],
    ['admin editor', { role: 'viewer', roles: ['admin'] }, LET_IN, 'roles has one, the role claim not'],
    ['admin editor', { role: 'admin', roles: ['viewer'] }, LET_IN, 'the role claim has one, roles not'],
    ['admin editor', { roles: ['viewer', 'guest'] }, KEPT_OUT, 'no entry of roles equals one of them'],
    ['admin editor', { name: 'No Roles' }, KEPT_OUT, 'the user has neither role nor roles'],
    ['  admin\teditor\nowner ', { role: 'editor' }, LET_IN, 'the list is split on any whitespace'],
    ['2 admin', { role: 2 }, LET_IN, 'a numeric role claim is compared as a string'],
    ['7', { roles: [3, 7] }, LET_IN, 'numeric roles are compared as strings'],
    ['admin', { role: 'administrator' }, KEPT_OUT, 'a role that only contains a listed one is not it'],
    ['admin', { roles: ['Admin', 'ADMIN'] }, KEPT_OUT, 'roles are compared exactly (case too)'],
    ['', { role: 'viewer' }, LET_IN, 'an empty attribute requires nothing'],
    ['  ', { name: 'No Roles' }, LET_IN, 'an attribute of only spaces requires nothing'],
    [null, { name: 'No Roles' }, LET_IN, 'no attribute requires nothing'],
  ] as const) {
    it(`require-role=${JSON.stringify(required)}, claims ${JSON.stringify(claims)}: ${expected.view} (${why})`, async () => {
      const { shown } = await signedInUnder(required, claims);
      expect(shown()).to.deep.equal(expected);
    });
  }

  it('a new user without the role (a login with no logout between) no longer has what was stamped for the previous one', async () => {
    const { gate, shown } = await signedInUnder('admin', { role: 'admin', name: 'Ada' });
    expect(shown()).to.deep.equal(LET_IN);
    const stamped = gate.querySelector('#stamped');
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: 'v', role: 'viewer' }) }), {
        once: true,
      }),
    );
    const provider = gate.closest('auth-provider')!;
    await provider.login('v', 'v');
    await gate.updateComplete;
    expect(provider.state).to.equal('authenticated');
    expect(shown()).to.deep.equal(KEPT_OUT);
    expect(stamped!.isConnected).to.be.false;
    expect(gate.querySelector('#stamped')?.outerHTML ?? null).to.equal(null);
  });

  it('follows the attribute as it changes: a list that names the role lets in, removing it requires nothing', async () => {
    const { gate, shown } = await signedInUnder('admin', { role: 'editor' });
    expect(shown()).to.deep.equal(KEPT_OUT);
    gate.setAttribute('require-role', 'admin editor');
    await gate.updateComplete;
    expect(shown()).to.deep.equal(LET_IN);
    gate.setAttribute('require-role', 'admin');
    await gate.updateComplete;
    expect(shown()).to.deep.equal(KEPT_OUT);
    // (Markup, not the node: a failing comparison with a DOM node hangs the reporter's diff.)
    expect(gate.querySelector('#stamped')?.outerHTML ?? null, 'the stamped content, removed').to.equal(null);
    gate.removeAttribute('require-role');
    await gate.updateComplete;
    expect(shown()).to.deep.equal(LET_IN);
  });
});

describe('<auth-provider>', () => {
  it('reflects state as an attribute and fires auth-change with { state, user }', async () => {
    const provider = await mount<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    expect(provider.getAttribute('state')).to.equal('restoring');
    const first = await oneEvent(provider, 'auth-change');
    expect(first.detail).to.deep.equal({ state: 'anonymous', user: null });
    expect(provider.getAttribute('state')).to.equal('anonymous');
    const next = oneEvent(provider, 'auth-change');
    await provider.login('bob', 'bob');
    const { detail } = await next;
    expect(detail.state).to.equal('authenticated');
    expect(detail.user).to.include({ name: 'Bob', role: 'user' });
    expect(provider.getAttribute('state')).to.equal('authenticated');
    expect(provider.user).to.equal(detail.user);
  });

  it('fires auth-change only on a change of state or user: a refresh that renews only the token (exp, iat, nbf, jti) keeps the user object', async () => {
    const token = (claims: Record<string, unknown>) =>
      HttpResponse.json({ access_token: fakeJwt({ sub: '7', name: 'Nora', role: 'user', ...claims }) });
    const provider = await mount<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    await provider.ready;
    const changes: { state: string; user: unknown }[] = [];
    provider.addEventListener('auth-change', (e) => changes.push(e.detail));
    worker.use(http.post('/api/login', () => token({ iat: 1000, nbf: 1000, exp: 1060, jti: 'a' }), { once: true }));
    await provider.login('nora', 'nora');
    const user = provider.user;
    expect(changes).to.deep.equal([{ state: 'authenticated', user }]);
    // A refresh's change would be dispatched before refresh() resolves (synchronously, as it is stored).
    worker.use(http.post('/api/refresh', () => token({ iat: 2000, nbf: 2000, exp: 2060, jti: 'b' }), { once: true }));
    await provider.session!.refresh();
    expect(provider.user).to.equal(user);
    expect(changes).to.have.length(1);
    // A claim of the user changed: that is a change, with a new user object.
    worker.use(
      http.post('/api/refresh', () => token({ name: 'Nora B.', iat: 3000, exp: 3060, jti: 'c' }), { once: true }),
    );
    await provider.session!.refresh();
    expect(changes).to.have.length(2);
    expect(changes[1]!.user).to.equal(provider.user);
    expect(provider.user).to.include({ name: 'Nora B.' });
    expect(provider.user).not.to.equal(user);
  });

  it('providers with the same api share one session: one restore request, one logout', async () => {
    const log = requestLog();
    const since = performance.now();
    const root = await mount<HTMLElement>(html`
      <div>
        <auth-provider api="/api" id="a"><auth-provider api="/api/" id="b"></auth-provider></auth-provider>
        <auth-provider api="/api" id="c"></auth-provider>
      </div>
    `);
    const [a, b, c] = ['#a', '#b', '#c'].map((s) => $<AuthProvider>(root, s));
    await Promise.all([a!.ready, b!.ready, c!.ready]);
    expect(a!.session).to.equal(b!.session);
    expect(a!.session).to.equal(c!.session);
    expect(log.count('POST /api/refresh')).to.equal(1);
    await b!.login('alice', 'alice');
    expect([a!.state, c!.state]).to.deep.equal(['authenticated', 'authenticated']);
    await c!.logout();
    log.stop();
    expect([a!.state, b!.state]).to.deep.equal(['anonymous', 'anonymous']);
    // Counted by Resource Timing: the logout is a keepalive request, which Firefox sends around msw
    // (and whose entry Firefox may add a moment after the answer was read).
    await until(() => requestsTo('/api/logout', since).length > 0, 'the logout in Resource Timing');
    expect(requestsTo('/api/logout', since)).to.have.length(1);
  });

  it('providers with different apis stay independent', async () => {
    const root = await mount<HTMLElement>(html`
      <div>
        <auth-provider api="/api" id="main"></auth-provider>
        <auth-provider api="/seed-api" sid-cookie="" refresh-method="GET" logout-method="GET" id="seed"></auth-provider>
      </div>
    `);
    const [main, seed] = ['#main', '#seed'].map((s) => $<AuthProvider>(root, s));
    await Promise.all([main!.ready, seed!.ready]);
    expect(main!.session).not.to.equal(seed!.session);
    await seed!.login('bob', 'bob');
    expect([main!.state, seed!.state]).to.deep.equal(['anonymous', 'authenticated']);
    await main!.login('alice', 'alice');
    await seed!.logout();
    expect([main!.state, seed!.state]).to.deep.equal(['authenticated', 'anonymous']);
  });

  it('authFetch on the element uses the session and keeps its identity', async () => {
    await serverLogin('admin');
    const provider = await mount<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    const fetchFn = provider.authFetch;
    const res = await provider.authFetch('/api/admin');
    expect(res.status).to.equal(200);
    await provider.logout();
    expect(provider.authFetch).to.equal(fetchFn);
  });

  /** Collects auth-error events and console errors while `run` runs. */
  async function reported(run: (seen: { errors: unknown[]; logged: string[] }) => Promise<void>) {
    const errors: unknown[] = [];
    const logged: string[] = [];
    const listener = (e: Event) => errors.push((e as CustomEvent).detail.error);
    document.addEventListener('auth-error', listener);
    const originalError = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(' '));
    try {
      await run({ errors, logged });
    } finally {
      console.error = originalError;
      document.removeEventListener('auth-error', listener);
    }
    return { errors, logged };
  }

  for (const [label, markup, attribute] of [
    [
      'a bad attribute value',
      html`<auth-provider api="/api" refresh-method="DELETE"
        ><auth-gate
          ><p slot="pending">…</p>
          <p slot="login" id="login">login</p></auth-gate
        ></auth-provider
      >`,
      'refresh-method',
    ],
    [
      'no api attribute',
      html`<auth-provider
        ><auth-gate
          ><p slot="pending">…</p>
          <p slot="login" id="login">login</p></auth-gate
        ></auth-provider
      >`,
      'api',
    ],
    [
      'an api that is not a URL',
      html`<auth-provider api="http://["
        ><auth-gate
          ><p slot="pending">…</p>
          <p slot="login" id="login">login</p></auth-gate
        ></auth-provider
      >`,
      'api',
    ],
  ] as const) {
    it(`${label}: a UsageError event and one console error naming the attribute, within one task; ready settles; the gate shows login`, async () => {
      let provider!: AuthProvider;
      const { errors, logged } = await reported(async ({ errors, logged }) => {
        provider = await fixture<AuthProvider>(markup);
        await new Promise((resolve) => setTimeout(resolve)); // one task
        expect(errors).to.have.length(1);
        expect(logged).to.have.length(1);
      });
      expect(isAuthError(errors[0], 'usage')).to.be.true;
      expect(logged[0]).to.match(new RegExp(`^<auth-provider ${attribute}>: `));
      await provider.ready;
      expect(provider.state).to.equal('anonymous');
      expect(provider.getAttribute('state')).to.equal('anonymous');
      const gate = $<LitElement>(provider, 'auth-gate');
      await gate.updateComplete;
      expect(visible(provider, '#login')).to.be.true;
      // Every function fails at once with the same error instead of waiting for a session.
      const error = await provider.login('a', 'b').catch((e: unknown) => e);
      expect(error).to.equal(errors[0]);
      const auth = await getAuth(gate);
      expect(await auth.authFetch('/api/me').catch((e: unknown) => e)).to.equal(errors[0]);
    });
  }

  it('the debug attribute logs every step to console.debug, never a token', async () => {
    const lines: string[] = [];
    const originalDebug = console.debug;
    console.debug = (...args: unknown[]) =>
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    try {
      const provider = await mount<AuthProvider>(html`<auth-provider api="/api" debug></auth-provider>`);
      await provider.ready;
      await provider.login('alice', 'alice');
      await provider.session!.refresh();
      await provider.logout();
    } finally {
      console.debug = originalDebug;
    }
    const steps = lines.map((line) => /: (\w+ \w+)/.exec(line)?.[1]);
    for (const step of [
      'restore start',
      'login start',
      'login success',
      'refresh success',
      'state authenticated',
      'logout success',
      'state anonymous',
    ]) {
      expect(steps, step).to.include(step);
    }
    for (const line of lines) expect(line).not.to.match(JWT_PATTERN);
  });

  it('a provider that would widen a configured session (another allowed-origins) gets a UsageError, not the session', async () => {
    const errors: unknown[] = [];
    const logged: string[] = [];
    const listener = (e: Event) => errors.push((e as CustomEvent).detail.error);
    document.addEventListener('auth-error', listener);
    const originalError = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(' '));
    try {
      const root = await mount<HTMLElement>(html`
        <div>
          <auth-provider api="/api" id="first"></auth-provider>
          <auth-provider api="/api" allowed-origins="https://evil.example" id="second"></auth-provider>
        </div>
      `);
      const [first, second] = ['#first', '#second'].map((q) => $<AuthProvider>(root, q));
      await first!.ready;
      expect(errors).to.have.length(1);
      expect(isAuthError(errors[0], 'usage')).to.be.true;
      expect(String((errors[0] as Error).message)).to.include('allowedOrigins');
      expect(logged).to.have.length(1);
      expect(second!.session).to.equal(null);
      expect(first!.session!.options.bearerOrigins.has('https://evil.example')).to.be.false;
    } finally {
      console.error = originalError;
      document.removeEventListener('auth-error', listener);
    }
  });

  it('attaches when api is set after connecting, as frameworks do (the missing api is reported, then the session works)', async () => {
    let provider!: AuthProvider;
    const { errors } = await reported(async () => {
      provider = await mount<AuthProvider>(html`<auth-provider></auth-provider>`);
    });
    expect(errors).to.have.length(1);
    expect(provider.session).to.equal(null);
    provider.api = '/api';
    await provider.updateComplete;
    trackProviders(provider);
    await provider.session!.ready;
    expect(provider.state).to.equal('anonymous');
    await provider.login('alice', 'alice');
    expect(provider.state).to.equal('authenticated');
  });
});

describe('context', () => {
  it('a Lit consumer gets the session and every change', async () => {
    const tag = uniqueTag('lit-consumer');
    class Consumer extends LitElement {
      auth = new ContextConsumer(this, { context: authContext, subscribe: true });
    }
    customElements.define(tag, Consumer);
    const provider = await mount<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    const consumer = document.createElement(tag) as Consumer;
    provider.append(consumer);
    await provider.ready;
    expect(consumer.auth.value?.state).to.equal('anonymous');
    const before = consumer.auth.value!;
    await consumer.auth.value!.login('alice', 'alice');
    expect(consumer.auth.value?.state).to.equal('authenticated');
    expect(consumer.auth.value).not.to.equal(before);
    expect(consumer.auth.value!.authFetch).to.equal(before.authFetch);
  });

  it('plain JS reaches the session with consumeAuth and getAuth (context-request protocol)', async () => {
    const provider = await mount<AuthProvider>(html`<auth-provider api="/api"><div id="plain"></div></auth-provider>`);
    const plain = $(provider, '#plain');
    const states: string[] = [];
    const stop = consumeAuth(plain, (auth) => states.push(auth.state));
    await provider.ready;
    const auth: AuthValue = await getAuth(plain);
    await auth.login('alice', 'alice');
    stop();
    await auth.logout();
    expect(states).to.deep.equal(['restoring', 'anonymous', 'authenticated']);
    const orphan = document.createElement('div');
    document.body.append(orphan);
    await getAuth(orphan, 100).then(
      () => expect.fail('should reject'),
      (e: unknown) => expect(String(e)).to.match(/no <auth-provider>/),
    );
    orphan.remove();
  });
});

describe('no token leaks', () => {
  it('after login and a refresh: nothing in storage, cookies, DOM, events, console or error texts', async () => {
    const captured: string[] = [];
    const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const originals = methods.map((m) => console[m]);
    methods.forEach((m) => (console[m] = (...args: unknown[]) => captured.push(args.map(String).join(' '))));
    const events: unknown[] = [];
    const record = (e: Event) => events.push((e as CustomEvent).detail);
    for (const type of ['auth-change', 'auth-activity', 'auth-error', 'auth-login'])
      document.addEventListener(type, record);
    try {
      const provider = await mount<AuthProvider>(html`
        <auth-provider api="/api">
          <auth-gate
            ><auth-login-form slot="login"></auth-login-form><template><p>in</p></template></auth-gate
          >
        </auth-provider>
      `);
      await provider.ready;
      await provider.login('alice', 'alice');
      await provider.session!.refresh();
      await provider.authFetch('/api/me');
      worker.use(
        http.post('/api/refresh', () => HttpResponse.json({ access_token: 'eyJhbGciOi.eyJzdWIiOiIx' }), { once: true }),
      );
      const error = await provider.session!.refresh().catch((e: Error) => e);
      // A sweep of every surface: no one event marks the last thing the failure wrote (an event, a
      // console line, a render), so give whatever it scheduled the time to land.
      await sleep(50);

      const shadowText = [...document.querySelectorAll('*')].map((el) => el.shadowRoot?.innerHTML ?? '').join('');
      const surfaces = {
        localStorage: JSON.stringify({ ...localStorage }),
        sessionStorage: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
        dom: document.documentElement.outerHTML + shadowText,
        attributes: [...provider.attributes].map((a) => a.value).join(' '),
        events: JSON.stringify(events, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v)),
        console: captured.join('\n'),
        error: `${(error as Error).message} ${String((error as Error).cause ?? '')}`,
        value: JSON.stringify(provider.session!.value),
      };
      for (const [where, text] of Object.entries(surfaces)) expect(text, where).not.to.match(JWT_PATTERN);
      expect(events.length).to.be.greaterThan(5);
      // The refresh cookie is scoped to /api: only a page under that path could read it if it were
      // not HttpOnly. A same-origin frame there (the backend's 404 page) shows what script sees.
      const frame = document.createElement('iframe');
      frame.src = '/api/no-such-page';
      const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
      document.body.append(frame);
      await loaded;
      try {
        expect(frame.contentWindow!.location.pathname).to.equal('/api/no-such-page');
        frame.contentDocument!.cookie = 'probe=1; path=/api';
        expect(frame.contentDocument!.cookie, 'a script-visible cookie under /api is seen there').to.include('probe=1');
        expect(frame.contentDocument!.cookie).not.to.match(/(^|;\s*)(__Host-|__Secure-)?rt=/);
      } finally {
        frame.contentDocument!.cookie = 'probe=; path=/api; max-age=0';
        frame.remove();
      }
    } finally {
      methods.forEach((m, i) => (console[m] = originals[i]!));
      for (const type of ['auth-change', 'auth-activity', 'auth-error', 'auth-login'])
        document.removeEventListener(type, record);
    }
  });
});

describe('auth-activity timeline', () => {
  it('reports restore, login, refresh, retry and logout steps in order', async () => {
    const steps: string[] = [];
    const record = (e: Event) => {
      const { kind, phase } = (e as CustomEvent).detail;
      steps.push(`${kind}:${phase}`);
    };
    document.addEventListener('auth-activity', record);
    try {
      const provider = await mount<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
      await provider.ready;
      await provider.login('alice', 'alice');
      worker.use(http.get('/api/me', () => new HttpResponse(null, { status: 401 }), { once: true }));
      await provider.authFetch('/api/me');
      await provider.logout();
      expect(steps).to.deep.equal([
        'restore:start',
        'refresh:start',
        'refresh:failure', // 401: no session to restore
        'restore:success',
        'login:start',
        'login:success',
        'refresh:start',
        'refresh:success',
        'retry:start',
        'logout:start',
        'logout:success',
      ]);
    } finally {
      document.removeEventListener('auth-activity', record);
    }
  });
});
