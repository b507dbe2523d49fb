// Right the first time, and loud when the set-up is wrong: every set-up mistake answered in words
// without `debug` (one console.warn per cause naming method, URL, status, content type and the
// server's error field — never a token), typed SetupErrors, the login form telling "not set up
// right" from "try again later"; any backend shape by configuration (login fields, where the token
// and its lifetime are, a one-time code step); and the session hint's first visit with no request.
import { expect, fixture, html } from '@open-wc/testing';
import { HttpResponse, http } from 'msw';
import '../../src/index.js';
import '../../src/login-form.js';
import { SetupError, createSession, getAuth, isAuthError, type AuthProvider, type Session } from '../../src/index.js';
import type { AuthLoginForm } from '../../src/login-form.js';
import {
  JWT_PATTERN,
  disposeSessions,
  fakeJwt,
  requestLog,
  serverLogin,
  serverLogout,
  startWorker,
  track,
  until,
  worker,
} from './helpers.js';

before(startWorker);
beforeEach(() => serverLogout());
afterEach(() => {
  worker.resetHandlers();
  disposeSessions();
});

/** Captures console.warn while `run` runs. */
/** What console.warn said during the current `warnings` call. */
const heard: string[] = [];
async function warnings(run: () => Promise<unknown>): Promise<string[]> {
  heard.length = 0;
  const original = console.warn;
  console.warn = (...args: unknown[]) => void heard.push(args.map(String).join(' '));
  try {
    await run();
  } finally {
    console.warn = original;
  }
  return [...heard];
}

const unique = () => Math.random().toString(36).slice(2, 8);
const restored = async (s: Session) => {
  const errors: unknown[] = [];
  s.addEventListener('error', (e) => errors.push(e.detail.error));
  await s.restore();
  return errors;
};

describe('set-up mistakes, said once in words', () => {
  it("a single-page app's fallback answering the api (200 text/html): a SetupError (html), one console line naming it all", async () => {
    const api = `/spa-${unique()}`;
    worker.use(
      http.post(
        `${api}/*`,
        () => new HttpResponse('<!doctype html><title>app</title>', { headers: { 'Content-Type': 'text/html' } }),
      ),
    );
    const s = track(createSession({ api, retryDelay: 1 }));
    let errors: unknown[] = [];
    let login: unknown;
    const said = await warnings(async () => {
      errors = await restored(s);
      login = await s.login('alice', 'alice').catch((e: unknown) => e);
      await s.login('alice', 'alice').catch(() => {}); // the same cause again: not said again
    });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(SetupError).and.include({ code: 'setup', problem: 'html', status: 200 });
    expect(login).to.include({ code: 'setup', problem: 'html' });
    expect(s.state).to.equal('anonymous');
    expect(said).to.have.length(2); // the refresh's cause and the login's: each once
    expect(said[0]).to.include(`refresh: POST ${location.origin}${api}/refresh answered 200 (text/html)`);
    expect(said[1]).to.include(`login: POST ${location.origin}${api}/login answered 200 (text/html)`);
    expect(said[1]).to.include('fallback');
  });

  it('a wrong api (404 from the server): a SetupError (not-found) naming method, URL, status and content type', async () => {
    const api = `/nowhere-${unique()}`;
    const s = track(createSession({ api }));
    let errors: unknown[] = [];
    const said = await warnings(async () => void (errors = await restored(s)));
    expect(errors[0]).to.include({ code: 'setup', problem: 'not-found', status: 404 });
    expect(said).to.have.length(1);
    expect(said[0]).to.match(new RegExp(`refresh: POST ${location.origin}${api}/refresh answered 404 \\([^)]+\\)`));
    expect(said[0]).to.include('api attribute');
  });

  it("a wrong CSRF header (403 from the backend's check): a SetupError (forbidden) with the server's error field", async () => {
    const s = track(createSession({ api: '/api', csrfHeader: 'X-Wrong: 1' }));
    let error: unknown;
    const said = await warnings(async () => void (error = await s.login('alice', 'alice').catch((e: unknown) => e)));
    expect(error).to.include({ code: 'setup', problem: 'forbidden', status: 403 });
    expect(said).to.have.length(1);
    expect(said[0]).to.include(
      `login: POST ${location.origin}/api/login answered 403 (application/json), error "csrf_header_required"`,
    );
  });

  it('a token answer without the expected field: a SetupError (token-field) that names the field to set', async () => {
    const api = `/shape-${unique()}`;
    worker.use(http.post(`${api}/refresh`, () => HttpResponse.json({ accessToken: fakeJwt({ sub: '1' }) })));
    const s = track(createSession({ api }));
    let errors: unknown[] = [];
    const said = await warnings(async () => void (errors = await restored(s)));
    expect(errors[0]).to.include({ code: 'setup', problem: 'token-field' });
    expect(said[0]).to.include('field "access_token"').and.include('token-field');
    expect(said.join()).not.to.match(JWT_PATTERN);
  });

  it('the refresh cookie did not come back after a login (its cookies did not stick): said, and an error event', async () => {
    const api = `/nocookie-${unique()}`;
    // A login answered with a token of a session (sid) whose cookies the browser did not keep.
    worker.use(http.post(`${api}/login`, () => HttpResponse.json({ access_token: fakeJwt({ sub: '1', sid: 's-1' }) })));
    worker.use(http.post(`${api}/refresh`, () => HttpResponse.json({ error: 'invalid_grant' }, { status: 401 })));
    const s = track(createSession({ api, sessionHint: true }));
    await s.restore();
    const errors: unknown[] = [];
    s.addEventListener('error', (e) => errors.push(e.detail.error));
    const said = await warnings(() => s.login('alice', 'alice'));
    expect(s.state).to.equal('authenticated'); // the login itself worked
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ code: 'setup', problem: 'cookie' });
    expect(said[0]).to.include('SameSite').and.include('Secure');
  });

  it('an api on another origin whose answers lack CORS headers: what the browser hid is said, once', async () => {
    const foreign = `http://127.0.0.1:${location.port}`;
    const s = track(createSession({ api: '/api', allowedOrigins: foreign }));
    await s.login('alice', 'alice');
    const said = await warnings(async () => {
      for (let i = 0; i < 2; i++) {
        const error = await s.authFetch(`${foreign}/no-cors-here`).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(TypeError); // fetch's own contract
      }
      // The probe (a no-cors request, sent once) answers a moment later: its warning is the signal.
      await until(() => heard.length > 0, 'the CORS warning', 5000);
    });
    expect(said).to.have.length(1);
    expect(said[0]).to.include(`authFetch: GET ${foreign}/no-cors-here failed`).and.include('CORS');
  });

  it("the login form tells 'this page is not set up right' from 'try again later'", async () => {
    const api = `/spa-${unique()}`;
    worker.use(
      http.post(`${api}/*`, () => new HttpResponse('<html></html>', { headers: { 'Content-Type': 'text/html' } })),
    );
    const provider = await fixture<AuthProvider>(
      html`<auth-provider api=${api}><auth-login-form></auth-login-form></auth-provider>`,
    );
    track(provider.session!);
    await provider.ready;
    const form = provider.querySelector('auth-login-form')! as AuthLoginForm;
    await warnings(async () => {
      await submit(form, 'alice', 'alice');
    });
    expect(form.error).to.equal('Sign-in is not set up correctly on this page. Please tell the site’s team.');
  });
});

/** Fills and submits the form; resolves once it is no longer pending. */
async function submit(form: AuthLoginForm, login: string, pass: string, code?: string): Promise<void> {
  const root = form.shadowRoot!;
  const field = (name: string) => root.querySelector<HTMLInputElement>(`input[name="${name}"]`)!;
  field('login').value = login;
  field('pass').value = pass;
  if (code !== undefined) field('code').value = code;
  root.querySelector('form')!.requestSubmit();
  await until(() => !form.pending, 'the login settled');
  await form.updateComplete;
}

describe('any backend shape, by configuration', () => {
  const token = (claims: Record<string, unknown>) => fakeJwt({ iat: 1000, exp: 1060, ...claims });

  it("the seed's shape by default: {login, pass} → {access_token}", async () => {
    const api = `/seedshape-${unique()}`;
    const bodies: unknown[] = [];
    worker.use(
      http.post(`${api}/login`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ access_token: token({ sub: 'a' }) });
      }),
    );
    const s = track(createSession({ api, sessionHint: false, tabSync: false }));
    await s.login('alice', 'secret');
    expect(bodies).to.deep.equal([{ login: 'alice', pass: 'secret' }]);
    expect(s.user).to.include({ sub: 'a' });
  });

  it('{email, password} → {accessToken, expiresIn}: login-fields, token-field and expires-in-field', async () => {
    const api = `/emailshape-${unique()}`;
    const bodies: unknown[] = [];
    worker.use(
      http.post(`${api}/login`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ accessToken: token({ sub: 'e' }), expiresIn: 120 });
      }),
      http.post(`${api}/refresh`, () => HttpResponse.json({ accessToken: token({ sub: 'e', n: 2 }), expiresIn: 120 })),
    );
    const provider = await fixture<AuthProvider>(
      html`<auth-provider
        api=${api}
        session-hint="false"
        login-fields="email password"
        token-field="accessToken"
        expires-in-field="expiresIn"
        ><auth-login-form></auth-login-form
      ></auth-provider>`,
    );
    track(provider.session!);
    await provider.ready;
    await submit(provider.querySelector('auth-login-form')! as AuthLoginForm, 'ada@example.com', 'pw');
    expect(bodies).to.deep.equal([{ email: 'ada@example.com', password: 'pw' }]);
    expect(provider.state).to.equal('authenticated');
    await provider.session!.refresh();
    expect(provider.user).to.include({ n: 2 });
    // The object form posts the fields as they are.
    await provider.login({ email: 'bob@example.com', password: 'x', remember: true });
    expect(bodies[1]).to.deep.equal({ email: 'bob@example.com', password: 'x', remember: true });
  });

  it('{username, password, otp} → {token}, with the code step: the form asks for the code and sends it with the same credentials', async () => {
    const api = `/otpshape-${unique()}`;
    const bodies: Record<string, unknown>[] = [];
    worker.use(
      http.post(`${api}/login`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        bodies.push(body);
        if (!body['otp']) return HttpResponse.json({ error: 'otp_required' }, { status: 401 });
        if (body['otp'] !== '123456') return HttpResponse.json({ error: 'invalid_otp' }, { status: 401 });
        return HttpResponse.json({ token: token({ sub: 'u' }) });
      }),
    );
    const provider = await fixture<AuthProvider>(
      html`<auth-provider api=${api} session-hint="false" login-fields="username password" token-field="token"
        ><auth-login-form></auth-login-form
      ></auth-provider>`,
    );
    track(provider.session!);
    await provider.ready;
    const form = provider.querySelector('auth-login-form')! as AuthLoginForm;
    const codeField = () => form.shadowRoot!.querySelector<HTMLLabelElement>('[part~="code"]')!;
    expect(codeField().hidden).to.be.true;
    await submit(form, 'ada', 'pw');
    expect(bodies.at(-1)).to.deep.equal({ username: 'ada', password: 'pw' });
    expect(provider.state).to.equal('anonymous');
    expect(codeField().hidden).to.be.false; // the code step
    expect(form.error).to.equal('Enter the one-time code from your authenticator app.');
    expect(form.shadowRoot!.activeElement).to.equal(codeField().querySelector('input'));
    await submit(form, 'ada', 'pw', '000000');
    expect(form.error).to.equal('Wrong login or password.');
    await submit(form, 'ada', 'pw', '123456');
    expect(bodies.at(-1)).to.deep.equal({ username: 'ada', password: 'pw', otp: '123456' });
    expect(provider.state).to.equal('authenticated');
    expect(codeField().hidden).to.be.true;
  });

  it('login() from code: a code-required error, then the same call with the code in extra fields', async () => {
    const api = `/otpcode-${unique()}`;
    worker.use(
      http.post(`${api}/login`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        return body['code'] === '42'
          ? HttpResponse.json({ access_token: token({ sub: 'c' }) })
          : HttpResponse.json({ error: 'mfa_required' }, { status: 401 });
      }),
    );
    const s = track(createSession({ api, sessionHint: false, codeField: 'code', tabSync: false }));
    const error = await s.login('ada', 'pw').catch((e: unknown) => e);
    expect(isAuthError(error, 'code-required')).to.be.true;
    expect(error).to.include({ field: 'code' });
    await s.login('ada', 'pw', { code: '42' });
    expect(s.state).to.equal('authenticated');
  });
});

describe('the session hint: an anonymous visit without a failed request', () => {
  it('a first visit with session-hint: no request, anonymous at once, no error', async () => {
    const log = requestLog();
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.map(String).join(' '));
    try {
      const provider = await fixture<AuthProvider>(html`<auth-provider api="/api" session-hint></auth-provider>`);
      track(provider.session!);
      await provider.ready;
      expect(provider.state).to.equal('anonymous');
    } finally {
      console.error = original;
      log.stop();
    }
    expect(log.keys().filter((key) => key.includes('/api/'))).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  it("the hint's absence never ends a real session: without the cookie the page asks nothing, and the session is still there", async () => {
    await serverLogin('alice'); // the browser holds a session…
    document.cookie = 'auth-shell-sid=; Max-Age=0; Path=/'; // …but its session-id cookie is gone
    const hinted = track(createSession({ api: '/api', sessionHint: true }));
    const log = requestLog();
    await hinted.restore();
    log.stop();
    expect(hinted.state).to.equal('anonymous');
    expect(log.keys()).to.deep.equal([]); // no refresh, and no logout either
    hinted.dispose();
    const asking = track(createSession({ api: '/api', sessionHint: false }));
    await asking.restore();
    expect(asking.state).to.equal('authenticated');
  });

  it('on by default once this browser saw the backend set the cookie', async () => {
    const first = track(createSession({ api: '/api' }));
    await first.login('alice', 'alice'); // the backend sets auth-shell-sid: remembered
    await first.logout();
    first.dispose();
    const log = requestLog();
    const next = track(createSession({ api: '/api' }));
    await next.restore();
    log.stop();
    expect(next.state).to.equal('anonymous');
    expect(log.count('POST /api/refresh')).to.equal(0);
  });
});

describe('smaller things', () => {
  it('getAuth on the provider itself answers with its session API', async () => {
    const provider = await fixture<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    track(provider.session!);
    const auth = await getAuth(provider, 2000);
    expect(auth.login).to.be.a('function');
    await provider.ready;
    expect(auth.state).to.not.equal(undefined);
  });

  it("the console line names the attribute at fault, not an option's name found in the api URL", async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.map(String).join(' '));
    try {
      // The api URL contains "leeway" and "timeout"; the bad attribute is refresh-method.
      const provider = await fixture<AuthProvider>(
        html`<auth-provider api="/leeway-timeout-api" refresh-method="DELETE"></auth-provider>`,
      );
      await provider.ready;
    } finally {
      console.error = original;
    }
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^<auth-provider refresh-method>: /);
  });
});
