import { expect, fixture, html } from '@open-wc/testing';
import { HttpResponse, delay, http, passthrough } from 'msw';
import { AuthProvider, RateLimitError } from '../../src/index.js';
import { AuthLoginForm } from '../../src/login-form.js';
import { disposeSessions, serverLogout, startWorker, track, until, worker } from './helpers.js';

before(startWorker);
beforeEach(() => serverLogout());
afterEach(() => {
  worker.resetHandlers();
  worker.events.removeAllListeners();
  disposeSessions();
});

/** Mounts a provider with the form and returns the parts a user interacts with. */
async function setup() {
  const provider = await fixture<AuthProvider>(html`
    <auth-provider api="/api">
      <auth-gate>
        <auth-login-form slot="login"></auth-login-form>
        <p id="in">Welcome</p>
      </auth-gate>
    </auth-provider>
  `);
  track(provider.session!);
  await provider.ready;
  const form = provider.querySelector('auth-login-form')!;
  await form.updateComplete;
  const root = form.shadowRoot!;
  const query = <T extends Element>(selector: string): T => {
    const found = root.querySelector<T>(selector);
    if (!found) throw new Error(`<auth-login-form> has no ${selector}`);
    return found;
  };
  const login = query<HTMLInputElement>('input[name=login]');
  const pass = query<HTMLInputElement>('input[name=pass]');
  const button = query<HTMLButtonElement>('button[type=submit]');
  const error = query<HTMLElement>('[part=error]');
  return { provider, form, login, pass, button, error };
}

/** Types into an input the way a user does (input events), then presses Enter in the password field. */
function typeAndEnter(login: HTMLInputElement, pass: HTMLInputElement, user: string, password: string) {
  login.value = user;
  login.dispatchEvent(new Event('input', { bubbles: true }));
  pass.value = password;
  pass.dispatchEvent(new Event('input', { bubbles: true }));
  // Implicit submission: Enter in a text field submits the form through its submit button.
  pass.form!.requestSubmit();
}

describe('<auth-login-form>', () => {
  it('has labelled inputs with autocomplete hints and an alert region', async () => {
    const { login, pass, error, button } = await setup();
    expect(login.labels?.[0]?.textContent?.trim()).to.equal('Login');
    expect(pass.labels?.[0]?.textContent?.trim()).to.equal('Password');
    expect(login.autocomplete).to.equal('username');
    expect(pass.autocomplete).to.equal('current-password');
    expect(pass.type).to.equal('password');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(button.textContent?.trim()).to.equal('Sign in');
  });

  it('is accessible (axe)', async () => {
    const { form } = await setup();
    await expect(form).to.be.accessible();
  });

  it('logs in on submit and fires auth-login; the gate then shows the protected content', async () => {
    const { provider, form, login, pass } = await setup();
    const logged = new Promise<CustomEvent>((resolve) =>
      form.addEventListener('auth-login', (e) => resolve(e as CustomEvent), { once: true }),
    );
    typeAndEnter(login, pass, 'alice', 'alice');
    const event = await logged;
    expect(event.detail.user.name).to.equal('Alice');
    expect(provider.state).to.equal('authenticated');
    await until(() => provider.querySelector('#in')!.checkVisibility(), 'protected content visible');
  });

  it('is disabled and busy while the request is pending', async () => {
    worker.use(
      http.post('/api/login', async () => {
        await delay(300);
        return passthrough();
      }),
    );
    const { form, login, pass, button } = await setup();
    let logins = 0;
    worker.events.on('request:start', ({ request }) => void (request.url.endsWith('/api/login') && logins++));
    typeAndEnter(login, pass, 'alice', 'alice');
    await form.updateComplete;
    expect(form.pending).to.be.true;
    expect(form.hasAttribute('pending')).to.be.true;
    expect(button.disabled).to.be.true;
    expect(login.disabled).to.be.true;
    expect(form.shadowRoot!.querySelector('form')!.getAttribute('aria-busy')).to.equal('true');
    // A second submit while pending sends nothing more.
    pass.form!.requestSubmit();
    await until(() => !form.pending, 'login settled');
    expect(logins).to.equal(1);
  });

  it('shows the invalid-credentials error, marks the inputs invalid and focuses the password', async () => {
    const { form, login, pass, error, provider } = await setup();
    typeAndEnter(login, pass, 'alice', 'wrong');
    await until(() => error.textContent !== '', 'an error message');
    await form.updateComplete;
    expect(error.textContent).to.equal('Wrong login or password.');
    expect(pass.getAttribute('aria-invalid')).to.equal('true');
    expect(pass.value).to.equal('');
    expect(form.shadowRoot!.activeElement).to.equal(pass);
    expect(provider.state).to.equal('anonymous');
  });

  it('shows a network error distinctly', async () => {
    worker.use(http.post('/api/login', () => HttpResponse.error()));
    const { login, pass, error } = await setup();
    typeAndEnter(login, pass, 'alice', 'alice');
    await until(() => error.textContent !== '', 'an error message');
    expect(error.textContent).to.match(/Cannot reach the server/);
  });

  it('shows how long to wait when the server throttles logins (429 + Retry-After)', async () => {
    worker.use(
      http.post('/api/login', () =>
        HttpResponse.json({ error: 'too_many_attempts' }, { status: 429, headers: { 'Retry-After': '30' } }),
      ),
    );
    const { login, pass, error, provider } = await setup();
    typeAndEnter(login, pass, 'alice', 'alice');
    await until(() => error.textContent !== '', 'an error message');
    expect(error.textContent).to.equal('Too many attempts. Try again in 30 s.');
    expect(provider.state).to.equal('anonymous');
  });

  it('against the real backend: after 5 failures the account is locked; login() rejects with the delay and the form shows it', async () => {
    // A login name of its own (the backend locks unknown names like real ones), so every engine of a
    // run — they share one backend — starts with a clean count.
    const name = `guesser-${Math.random().toString(36).slice(2)}`;
    const provider = await fixture<AuthProvider>(html`
      <auth-provider api="/throttle-api" sid-cookie="throttle-api-sid"
        ><auth-gate><auth-login-form slot="login"></auth-login-form></auth-gate
      ></auth-provider>
    `);
    track(provider.session!);
    await provider.ready;
    const wrong: string[] = [];
    for (let i = 0; i < 5; i++)
      wrong.push(((await provider.login(name, 'nope').catch((e: unknown) => e)) as { code: string }).code);
    expect(wrong).to.deep.equal(Array(5).fill('invalid-credentials'));
    const locked = (await provider.login(name, 'nope').catch((e: unknown) => e)) as RateLimitError;
    expect(locked).to.be.instanceOf(RateLimitError);
    expect(locked.retryAfter).to.be.within(1, 900);
    expect(provider.state).to.equal('anonymous');
    const root = provider.querySelector('auth-login-form')!.shadowRoot!;
    typeAndEnter(root.querySelector('input[name=login]')!, root.querySelector('input[name=pass]')!, name, 'nope');
    await until(() => root.querySelector('[part=error]')!.textContent !== '', 'an error message');
    expect(root.querySelector('[part=error]')!.textContent).to.match(/^Too many attempts\. Try again in \d+ s\.$/);
  });

  it('asks for both fields before sending anything', async () => {
    const { login, pass, error } = await setup();
    let logins = 0;
    worker.events.on('request:start', ({ request }) => void (request.url.endsWith('/api/login') && logins++));
    typeAndEnter(login, pass, '', '');
    await until(() => error.textContent !== '', 'an error message');
    expect(error.textContent).to.equal('Enter your login and password.');
    expect(logins).to.equal(0);
  });

  it('labels are configurable and parts are exposed for styling', async () => {
    const form = await fixture<AuthLoginForm>(
      html`<auth-login-form login-label="E-mail" password-label="Passphrase" submit-label="Go"></auth-login-form>`,
    );
    const root = form.shadowRoot!;
    expect(shownLabels(root)).to.deep.equal(['E-mail', 'Passphrase']);
    expect(root.querySelector('[part=button]')!.textContent?.trim()).to.equal('Go');
    for (const part of ['form', 'field', 'label', 'input', 'button', 'error'])
      expect(root.querySelector(`[part~=${part}]`), part).to.exist;
  });

  it('without a provider it says so instead of throwing', async () => {
    const form = await fixture<AuthLoginForm>(html`<auth-login-form></auth-login-form>`);
    const root = form.shadowRoot!;
    (root.querySelector('input[name=login]') as HTMLInputElement).value = 'a';
    (root.querySelector('input[name=pass]') as HTMLInputElement).value = 'b';
    root.querySelector('form')!.requestSubmit();
    await form.updateComplete;
    expect(root.querySelector('[part=error]')!.textContent).to.equal('Sign-in is not available on this page.');
  });

  it('pending and error are read-only: the form owns them', async () => {
    const form = await fixture<AuthLoginForm>(html`<auth-login-form></auth-login-form>`);
    expect(() => ((form as unknown as { pending: boolean }).pending = true)).to.throw(TypeError);
    expect(() => ((form as unknown as { error: string }).error = 'x')).to.throw(TypeError);
  });
});

describe('<auth-login-form>: the message for each way a login fails', () => {
  /**
   * A provider (`attributes` on it) with the form; submits a login whose answer `worker.use`
   * scripted, and resolves with the text the user sees and the code of the error behind it.
   */
  async function failedLogin(attributes = '', wrapper = (markup: string) => markup) {
    const host = document.createElement('div');
    host.innerHTML = wrapper(
      `<auth-provider api="/api" ${attributes}><auth-gate><auth-login-form slot="login"></auth-login-form></auth-gate></auth-provider>`,
    );
    document.body.append(host);
    cleanups.push(() => host.remove());
    const provider = host.querySelector('auth-provider')!;
    await provider.updateComplete; // attached to its session (none when an attribute is bad)
    if (provider.session) track(provider.session);
    await provider.ready;
    const codes: string[] = [];
    provider.addEventListener('auth-activity', ({ detail }) => {
      if (detail.kind === 'login' && detail.phase === 'failure') codes.push((detail.error as { code: string }).code);
    });
    const form = host.querySelector('auth-login-form')!;
    await form.updateComplete;
    const root = form.shadowRoot!;
    typeAndEnter(root.querySelector('input[name=login]')!, root.querySelector('input[name=pass]')!, 'alice', 'alice');
    await until(() => form.error !== '', 'an error message');
    await form.updateComplete;
    return { shown: root.querySelector('[part=error]')!.textContent, codes };
  }
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  const NETWORK = 'Cannot reach the server. Check your connection and try again.';
  const FAILED = 'Sign-in failed. Please try again later.';

  it('a login that timed out (TimeoutError, code timeout) says the server cannot be reached', async () => {
    // The server never answers: the provider's timeout (200 ms) aborts the login.
    worker.use(http.post('/api/login', () => delay('infinite')));
    expect(await failedLogin('timeout="200"')).to.deep.equal({ shown: NETWORK, codes: ['timeout'] });
  });

  it('the same in the German defaults', async () => {
    worker.use(http.post('/api/login', () => delay('infinite')));
    expect(await failedLogin('timeout="200"', (markup) => `<div lang="de">${markup}</div>`)).to.deep.equal({
      shown: 'Der Server ist nicht erreichbar. Bitte Verbindung prüfen und erneut versuchen.',
      codes: ['timeout'],
    });
  });

  it("the same with the page's own messages: the network one, not the one for anything else", async () => {
    worker.use(http.post('/api/login', () => delay('infinite')));
    const messages = JSON.stringify({ network: 'Offline.', failed: 'Nope.' }).replace(/"/g, '&quot;');
    const withMessages = (markup: string) => markup.replace('slot="login"', `slot="login" messages="${messages}"`);
    expect(await failedLogin('timeout="200"', withMessages)).to.deep.equal({ shown: 'Offline.', codes: ['timeout'] });
  });

  for (const [what, answer, expected] of [
    [
      'wrong credentials (401, invalid-credentials)',
      () => HttpResponse.json({ error: 'invalid_credentials' }, { status: 401 }),
      { shown: 'Wrong login or password.', codes: ['invalid-credentials'] },
    ],
    ['no connection (network)', () => HttpResponse.error(), { shown: NETWORK, codes: ['network'] }],
    [
      'a server error (503, network)',
      () => HttpResponse.json({}, { status: 503 }),
      { shown: NETWORK, codes: ['network'] },
    ],
    [
      'throttled with a delay (429 + Retry-After: 30, rate-limited)',
      () => HttpResponse.json({}, { status: 429, headers: { 'Retry-After': '30' } }),
      { shown: 'Too many attempts. Try again in 30 s.', codes: ['rate-limited'] },
    ],
    [
      'throttled without a delay (429, rate-limited)',
      () => HttpResponse.json({}, { status: 429 }),
      { shown: 'Too many attempts. Try again later.', codes: ['rate-limited'] },
    ],
    [
      'an answer that is not a token (protocol)',
      () => HttpResponse.text('<html>maintenance</html>'),
      { shown: FAILED, codes: ['protocol'] },
    ],
    [
      'an unexpected status (403 of the account, http)',
      () => HttpResponse.json({ error: 'account_disabled' }, { status: 403 }),
      { shown: FAILED, codes: ['http'] },
    ],
    [
      // A CSRF or Origin check refused it: the page is not set up right, trying again will not help.
      'a 403 of a CSRF check (setup)',
      () => HttpResponse.json({ error: 'csrf' }, { status: 403 }),
      { shown: 'Sign-in is not set up correctly on this page. Please tell the site’s team.', codes: ['setup'] },
    ],
  ] as const) {
    it(`${what}: "${expected.shown}"`, async () => {
      worker.use(http.post('/api/login', answer));
      expect(await failedLogin()).to.deep.equal(expected);
    });
  }

  it('a provider that cannot work (a bad attribute, usage): sign-in is not available', async () => {
    // The provider fails every call at once with its UsageError (no login step to report).
    const { shown } = await failedLogin('refresh-method="DELETE"');
    expect(shown).to.equal('Sign-in is not available on this page.');
  });
});

describe('<auth-login-form> in any language', () => {
  it('follows the lang of the page around it: German defaults, the error too', async () => {
    worker.use(http.post('/api/login', () => HttpResponse.json({ error: 'invalid_credentials' }, { status: 401 })));
    const host = await fixture<HTMLElement>(html`
      <div lang="de-CH">
        <auth-provider api="/api"
          ><auth-gate><auth-login-form slot="login"></auth-login-form></auth-gate
        ></auth-provider>
      </div>
    `);
    const provider = host.querySelector('auth-provider')!;
    track(provider.session!);
    await provider.ready;
    const form = host.querySelector('auth-login-form')!;
    await form.updateComplete;
    const root = form.shadowRoot!;
    expect(shownLabels(root)).to.deep.equal(['Benutzername', 'Passwort']);
    expect(root.querySelector('[part=button]')!.textContent).to.equal('Anmelden');
    typeAndEnter(root.querySelector('input[name=login]')!, root.querySelector('input[name=pass]')!, 'alice', 'nope');
    await until(() => form.error !== '', 'an error message');
    await form.updateComplete;
    expect(root.querySelector('[part=error]')!.textContent).to.equal('Benutzername oder Passwort ist falsch.');
  });

  it('reads the language tag regardless of case (lang="DE-at")', async () => {
    const host = await fixture<HTMLElement>(html`<div lang="DE-at"><auth-login-form></auth-login-form></div>`);
    const form = host.querySelector('auth-login-form')!;
    await form.updateComplete;
    expect(form.shadowRoot!.querySelector('[part=button]')!.textContent).to.equal('Anmelden');
  });

  it('an unknown language falls back to English', async () => {
    const host = await fixture<HTMLElement>(html`<div lang="ja"><auth-login-form></auth-login-form></div>`);
    const form = host.querySelector('auth-login-form')!;
    await form.updateComplete;
    expect(form.shadowRoot!.querySelector('[part=button]')!.textContent).to.equal('Sign in');
  });

  it('every text can be set: labels by attribute, errors by code through messages (property or JSON attribute), the delay filled in', async () => {
    const messages = {
      'invalid-credentials': 'Mauvais identifiant ou mot de passe.',
      'rate-limited': 'Trop de tentatives. Réessayez dans {seconds} s.',
      network: 'Serveur injoignable.',
      missing: 'Remplissez les deux champs.',
      submit: 'Connexion',
    };
    const host = await fixture<HTMLElement>(html`
      <auth-provider api="/api">
        <auth-login-form login-label="Identifiant" messages=${JSON.stringify(messages)}></auth-login-form>
      </auth-provider>
    `);
    track((host as AuthProvider).session!);
    await (host as AuthProvider).ready;
    const form = host.querySelector('auth-login-form')!;
    await form.updateComplete;
    const root = form.shadowRoot!;
    const login = root.querySelector<HTMLInputElement>('input[name=login]')!;
    const pass = root.querySelector<HTMLInputElement>('input[name=pass]')!;
    const shown = async () => {
      await until(() => form.error !== '', 'an error message');
      await form.updateComplete;
      return root.querySelector('[part=error]')!.textContent;
    };
    expect(root.querySelector('[part=label]')!.textContent).to.equal('Identifiant');
    expect(root.querySelector('[part=button]')!.textContent).to.equal('Connexion');
    typeAndEnter(login, pass, '', '');
    expect(await shown()).to.equal(messages.missing);
    for (const [answer, expected] of [
      [() => HttpResponse.json({}, { status: 401 }), messages['invalid-credentials']],
      [
        () => HttpResponse.json({}, { status: 429, headers: { 'Retry-After': '42' } }),
        'Trop de tentatives. Réessayez dans 42 s.',
      ],
      [() => HttpResponse.error(), messages.network],
    ] as const) {
      worker.use(http.post('/api/login', answer, { once: true }));
      typeAndEnter(login, pass, 'alice', 'x');
      await until(() => form.error === '', 'the previous message cleared');
      expect(await shown()).to.equal(expected);
    }
    // The property works as well as the attribute; what it does not give stays the default.
    form.messages = { network: 'Hors ligne.' };
    await form.updateComplete;
    expect(form.error).to.equal('Hors ligne.');
    expect(root.querySelector('[part=button]')!.textContent).to.equal('Sign in');
  });
});

/** The labels a user sees (the one-time code's field stays hidden until the server asks for a code). */
function shownLabels(root: ShadowRoot): (string | null)[] {
  return [...root.querySelectorAll('[part=label]')].filter((el) => !el.closest('[hidden]')).map((el) => el.textContent);
}
