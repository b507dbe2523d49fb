import { expect } from '@open-wc/testing';
import { HttpResponse, delay, http, passthrough } from 'msw';
import {
  HttpError,
  InvalidCredentialsError,
  NetworkError,
  ProtocolError,
  RateLimitError,
  TimeoutError,
  UnauthenticatedError,
  UsageError,
  createSession,
  isAuthError,
  type Activity,
  type SessionSnapshot,
} from '../../src/core/index.js';
import {
  avoidedDelay,
  disposeSessions,
  engine,
  fakeJwt,
  JWT_PATTERN,
  loggedIn,
  logoutFault,
  manualClock,
  outcome,
  requestLog,
  requestsTo,
  serverLogin,
  serverLogout,
  session,
  sessionsWith,
  sleep,
  startWorker,
  until,
  worker,
} from './helpers.js';
import { authServer } from '../../src/testing/index.js';

// The tests that script a backend's answers (a status, a network failure) use the testing kit on
// its own api; the others run against the reference backend on /api.
const kit = authServer({ api: '/kit-api' });

/** A session of the kit's api, signed in (as alice) through it. */
const { loggedIn: kitLoggedIn } = sessionsWith({ api: '/kit-api' }, (s, user) => kit.signIn(s, user));

before(startWorker);
beforeEach(() => serverLogout());
beforeEach(() => kit.start(worker));
afterEach(() => {
  worker.resetHandlers();
  disposeSessions();
  kit.reset();
});

describe('restore', () => {
  it('makes exactly one refresh request and ends anonymous without a cookie', async () => {
    const log = requestLog();
    const s = session();
    expect(s.state).to.equal('restoring');
    await Promise.all([s.restore(), s.restore(), s.ready]);
    log.stop();
    expect(s.state).to.equal('anonymous');
    expect(log.count('POST /api/refresh')).to.equal(1);
    expect(log.keys()).to.deep.equal(['POST /api/refresh']);
  });

  it('restores an existing server session from the HttpOnly cookie with one request', async () => {
    await serverLogin('bob');
    const log = requestLog();
    const s = session();
    await s.restore();
    log.stop();
    expect(s.state).to.equal('authenticated');
    expect(s.user).to.include({ user_id: 2, role: 'user', name: 'Bob' });
    expect(log.keys()).to.deep.equal(['POST /api/refresh']);
  });

  it('ends anonymous with a network error event when the server cannot be reached, and retries when back online', async () => {
    await serverLogin('bob');
    worker.use(http.post('/api/refresh', () => HttpResponse.error()));
    const s = session({ refreshRetries: 1 });
    const errors: unknown[] = [];
    s.addEventListener('error', (e) => errors.push(e.detail.error));
    await s.restore();
    expect(s.state).to.equal('anonymous');
    expect(errors).to.have.length(1);
    expect(isAuthError(errors[0], 'network')).to.be.true;
    worker.resetHandlers();
    window.dispatchEvent(new Event('online'));
    await s.restore();
    expect(s.state).to.equal('authenticated');
  });

  it('ready settles once the state is decided and never rejects', async () => {
    worker.use(http.post('/api/refresh', () => HttpResponse.json({ nope: true })));
    const s = session();
    const events: string[] = [];
    s.addEventListener('error', (e) => events.push(e.detail.error.code));
    void s.restore();
    await s.ready;
    expect(s.state).to.equal('anonymous');
    expect(events).to.deep.equal(['setup']); // no token where it is looked for: a set-up mistake
  });
});

describe('login', () => {
  it('authenticates and exposes the user without token bookkeeping', async () => {
    const s = session();
    const user = await s.login('admin', 'admin');
    expect(s.state).to.equal('authenticated');
    expect(user).to.equal(s.user);
    expect(user).to.include({ user_id: 3, role: 'admin', name: 'Ada Admin' });
    expect(user).not.to.have.any.keys('exp', 'iat', 'jti', 'nbf');
    expect(Object.isFrozen(user)).to.be.true;
  });

  it('rejects bad credentials with InvalidCredentialsError and stores nothing', async () => {
    const s = session();
    await s.restore();
    const error = await s.login('alice', 'wrong').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(InvalidCredentialsError);
    expect((error as InvalidCredentialsError).code).to.equal('invalid-credentials');
    expect(s.state).to.equal('anonymous');
    expect(s.user).to.equal(null);
  });

  it('sends JSON with the anti-CSRF header and credentials', async () => {
    let seen: Request | undefined;
    worker.use(
      http.post('/api/login', ({ request }) => {
        seen = request.clone();
        return passthrough();
      }),
    );
    await loggedIn();
    expect(seen!.headers.get('content-type')).to.equal('application/json');
    expect(seen!.headers.get('x-requested-with')).to.equal('auth-shell');
    expect(await seen!.json()).to.deep.equal({ login: 'alice', pass: 'alice' });
  });

  it('rejects wrong arguments with a UsageError before any request', async () => {
    const s = session();
    const log = requestLog();
    // @ts-expect-error wrong argument on purpose
    const error = await s.login(undefined, 'x').catch((e: unknown) => e);
    log.stop();
    expect(error).to.be.instanceOf(UsageError);
    expect(log.count('POST /api/login')).to.equal(0);
  });

  it('reports a network failure as NetworkError and a 5xx as NetworkError with its status', async () => {
    const s = session({ api: '/kit-api' });
    kit.failNetwork('login', 1);
    expect(await s.login('alice', 'alice').catch((e: unknown) => e)).to.be.instanceOf(NetworkError);
    kit.respond('login', 503);
    const error = (await s.login('alice', 'alice').catch((e: unknown) => e)) as NetworkError;
    expect(error.code).to.equal('network');
    expect(error.status).to.equal(503);
    expect(s.state).not.to.equal('authenticated');
  });
});

describe('login throttled by the server', () => {
  it('a 429 rejects with a RateLimitError carrying Retry-After (seconds or an HTTP date); nothing stored', async () => {
    const s = session({ api: '/kit-api' });
    await s.restore();
    kit.respond('login', 429, { headers: { 'Retry-After': '120' } });
    const error = (await s.login('alice', 'alice').catch((e: unknown) => e)) as RateLimitError;
    expect(error).to.be.instanceOf(RateLimitError);
    expect(error).to.be.instanceOf(NetworkError); // never a logout, like any "try again later"
    expect(error.code).to.equal('rate-limited');
    expect(error.status).to.equal(429);
    expect(error.operation).to.equal('login');
    expect(error.retryAfter).to.equal(120);
    expect(s.state).to.equal('anonymous');
    // An HTTP date is read against the server's own Date header, not the client's clock.
    const serverNow = Date.now() - 3_600_000;
    kit.respond('login', 429, {
      headers: { Date: new Date(serverNow).toUTCString(), 'Retry-After': new Date(serverNow + 45_000).toUTCString() },
    });
    expect(((await s.login('alice', 'alice').catch((e: unknown) => e)) as RateLimitError).retryAfter).to.equal(45);
    kit.respond('login', 429);
    expect(((await s.login('alice', 'alice').catch((e: unknown) => e)) as RateLimitError).retryAfter).to.equal(
      undefined,
    );
  });

  it('a refresh answered 429 with a short Retry-After waits that long before its retry', async () => {
    const s = await kitLoggedIn();
    kit.respond('refresh', 429, { headers: { 'Retry-After': '1' } });
    const backoffs: Activity[] = [];
    s.addEventListener('activity', (e) => e.detail.phase === 'backoff' && backoffs.push(e.detail));
    await s.refresh();
    expect(backoffs.map((b) => b.delay! >= 1000)).to.deep.equal([true]);
    expect(s.state).to.equal('authenticated');
  });

  it('a refresh answered 429 with a long Retry-After fails at once (callers are not kept waiting), the session stays', async () => {
    const s = await kitLoggedIn();
    kit.respond('refresh', 429, { headers: { 'Retry-After': '3600' }, times: Infinity });
    const error = await s.refresh().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RateLimitError);
    expect(kit.count('refresh')).to.equal(1);
    expect(s.state).to.equal('authenticated');
  });
});

describe('refresh', () => {
  it('is single-flight within one page, without the cross-tab lock too (tabSync: false)', async () => {
    const s = await loggedIn({ tabSync: false });
    const log = requestLog();
    await Promise.all(Array.from({ length: 10 }, () => s.refresh()));
    log.stop();
    expect(log.count('POST /api/refresh')).to.equal(1);
  });

  it('a cross-tab lock held forever (a stuck tab) delays a refresh by lockTimeout at most, then it runs without it', async () => {
    const s = await loggedIn({ lockTimeout: 300 });
    const lock = `auth-shell:${location.origin}/api`;
    let releaseStuck!: () => void;
    const stuck = new Promise<void>((resolve) => (releaseStuck = resolve));
    void navigator.locks.request(lock, () => stuck);
    try {
      // The default lockTimeout is 10 s: a session that waited for it (not for its own 300 ms)
      // would still be waiting when a 10 s timer the test started first fires.
      const tenSeconds = avoidedDelay(10_000, 'for the default lockTimeout, not its own');
      const started = performance.now();
      await tenSeconds.first(s.refresh());
      expect(performance.now() - started).to.be.at.least(250); // it did wait for the lock, lockTimeout long
      // It ran without the lock: the stuck tab holds it still.
      const { held = [] } = await navigator.locks.query();
      expect(held.map((entry) => entry.name)).to.include(lock);
      expect(s.state).to.equal('authenticated');
    } finally {
      releaseStuck();
    }
  });

  it('pagehide aborts a refresh in flight (the page may sleep in the back/forward cache): a NetworkError at once, the lock free', async () => {
    // The server holds its answer 10 s, and the session's timeout is a minute: only the abort on
    // pagehide can end the refresh before that answer. "At once" is this order of events — the
    // refresh failed while the answer was still held — not a budget on the test's clock.
    const s = await loggedIn({ refreshRetries: 0, timeout: 60_000 });
    let sent = false;
    let answered = false;
    worker.use(
      http.post('/api/refresh', async () => {
        sent = true;
        await delay(10_000);
        answered = true;
        // Not the real backend's answer: one that comes after the test must not rotate its cookie.
        return new HttpResponse(null, { status: 503 });
      }),
    );
    const refreshing = s.refresh().catch((e: unknown) => e);
    await until(() => sent, 'the refresh request in flight');
    window.dispatchEvent(new Event('pagehide'));
    const error = await refreshing;
    expect(error).to.be.instanceOf(NetworkError);
    expect(error).not.to.be.instanceOf(TimeoutError);
    expect(answered, 'the server answered before the refresh failed: it waited for the answer').to.be.false;
    const { held = [] } = await navigator.locks.query();
    expect(held.map((lock) => lock.name)).not.to.include(`auth-shell:${location.origin}/api`);
    expect(s.state).to.equal('authenticated');
  });

  it('is single-flight: concurrent callers share one request; the next call starts a new one', async () => {
    const s = await loggedIn();
    const log = requestLog();
    await Promise.all(Array.from({ length: 10 }, () => s.refresh()));
    expect(log.count('POST /api/refresh')).to.equal(1);
    await s.refresh();
    log.stop();
    expect(log.count('POST /api/refresh')).to.equal(2);
  });

  it('a refresh answered 401 clears memory: anonymous', async () => {
    const s = await loggedIn();
    await serverLogout();
    const changes: string[] = [];
    s.addEventListener('change', (e) => changes.push(e.detail.state));
    const error = await s.refresh().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(UnauthenticatedError);
    expect(s.state).to.equal('anonymous');
    expect(s.user).to.equal(null);
    expect(changes).to.deep.equal(['anonymous']);
  });

  it('network errors are retried with backoff and never log out (3 failures, then success)', async () => {
    const s = await kitLoggedIn();
    kit.failNetwork('refresh', 3);
    const backoffs: Activity[] = [];
    s.addEventListener('activity', (e) => e.detail.phase === 'backoff' && backoffs.push(e.detail));
    await s.refresh();
    expect(s.state).to.equal('authenticated');
    expect(backoffs.map((a) => a.attempt)).to.deep.equal([1, 2, 3]);
    // Exponential: each delay is within [0.5, 1] × 20 ms × 2^n.
    backoffs.forEach((a, n) => expect(a.delay).to.be.within(10 * 2 ** n, 20 * 2 ** n));
  });

  it('5xx beyond the retries rejects with a typed network error; the session stays and recovers', async () => {
    const s = await kitLoggedIn({ refreshRetries: 2 });
    const user = s.user;
    kit.respond('refresh', 502, { times: 3 }); // the request and its 2 retries; the server is back after that
    const error = (await s.refresh().catch((e: unknown) => e)) as NetworkError;
    expect(error).to.be.instanceOf(NetworkError);
    expect(error.status).to.equal(502);
    expect(s.state).to.equal('authenticated');
    expect(s.user).to.equal(user);
    await s.refresh();
    expect(s.state).to.equal('authenticated');
  });

  it('a hanging refresh aborts after the timeout with a TimeoutError, still authenticated', async () => {
    // Signed in without a request under that 150 ms timeout (a login's password check can take
    // longer on a loaded machine): another session of the page signs in, and hands its token over
    // to this one's restore, as to a new tab.
    await loggedIn();
    // How each attempt ended: only the client's timeout can end a request that is never answered.
    let requests = 0;
    worker.use(
      http.post('/api/refresh', async () => {
        requests++;
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const s = session({ timeout: 150, refreshRetries: 1 });
    await s.restore();
    expect(s.state).to.equal('authenticated');
    expect(requests, 'refreshes of the restore (the token was handed over)').to.equal(0);
    const backoffs: Activity[] = [];
    s.addEventListener('activity', (e) => e.detail.phase === 'backoff' && backoffs.push(e.detail));
    const error = await s.refresh().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TimeoutError);
    expect((error as TimeoutError).code).to.equal('timeout');
    expect(error).to.be.instanceOf(NetworkError);
    // The first try given up by the timeout (its backoff says so), then its one retry, given up too.
    expect(requests).to.equal(2);
    expect(backoffs.map((b) => (b.error as TimeoutError | undefined)?.code)).to.deep.equal(['timeout']);
    expect(s.state).to.equal('authenticated');
  });

  it('a 403 (e.g. a CSRF rejection) is an HttpError, not a logout', async () => {
    const s = await kitLoggedIn();
    kit.respond('refresh', 403);
    const error = await s.refresh().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(HttpError);
    expect(s.state).to.equal('authenticated');
  });

  for (const [label, answer] of [
    ['a non-JSON body', () => new HttpResponse('<html>oops</html>', { status: 200 })],
    ['"garbage" as token', () => HttpResponse.json({ access_token: 'garbage' })],
    ['"a.b" as token', () => HttpResponse.json({ access_token: 'a.b' })],
    [
      'a two-part token whose payload decodes (not a JWS)',
      () => HttpResponse.json({ access_token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0' }),
    ],
    [
      'a token whose payload is not JSON',
      () => HttpResponse.json({ access_token: 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln' }),
    ],
    ['a negative expires_in', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: -5 })],
    ['a number as token', () => HttpResponse.json({ access_token: 42 })],
  ] as const) {
    it(`${label} → ProtocolError, session kept, the next call works`, async () => {
      const s = await loggedIn();
      const user = s.user;
      worker.use(http.post('/api/refresh', answer, { once: true }));
      const error = await s.refresh().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ProtocolError);
      expect((error as ProtocolError).code).to.equal('protocol');
      expect(String((error as Error).message)).not.to.match(JWT_PATTERN);
      expect(s.state).to.equal('authenticated');
      expect(s.user).to.equal(user);
      await s.refresh();
      expect(s.state).to.equal('authenticated');
    });
  }
});

describe('subscribe and the activity events', () => {
  it('subscribe calls the listener at once with the current snapshot, then on every change until unsubscribed', async () => {
    const s = session();
    await s.restore();
    const seen: SessionSnapshot[] = [];
    const stop = s.subscribe((snapshot) => seen.push(snapshot));
    expect(seen).to.deep.equal([{ state: 'anonymous', user: null }]); // at once: nothing changed yet
    expect(seen[0]).to.equal(s.snapshot);
    await s.login('alice', 'alice');
    expect(seen.map(({ state }) => state)).to.deep.equal(['anonymous', 'authenticated']);
    expect(seen[1]).to.equal(s.snapshot);
    stop();
    await s.logout();
    expect(seen).to.have.length(2);
  });

  it('a refresh that backs off reports each retry: its attempt (1 for the first), the delay before it (retryDelay doubled per retry, jittered) and the failure', async () => {
    const s = await kitLoggedIn({ retryDelay: 200, refreshRetries: 2 });
    kit.respond('refresh', 503, { times: 2 });
    const steps: Activity[] = [];
    s.addEventListener('activity', (e) => e.detail.kind === 'refresh' && steps.push(e.detail));
    await s.refresh();
    expect(steps.map(({ phase, attempt }) => `${phase}${attempt ?? ''}`)).to.deep.equal([
      'start',
      'backoff1',
      'backoff2',
      'success',
    ]);
    expect(steps.map(({ reason }) => reason)).to.deep.equal(['manual', 'manual', 'manual', 'manual']);
    const [, first, second] = steps;
    // The upper half of retryDelay · 2^(attempt − 1): 100–200 ms, then 200–400 ms.
    expect(first!.delay).to.be.within(100, 200);
    expect(second!.delay).to.be.within(200, 400);
    expect(first!.error).to.include({ code: 'network', status: 503 });
  });

  it('the error event is for failures nobody awaited: not a failed login, refresh() or authFetch, but a refresh of its own', async () => {
    const clock = manualClock();
    const s = await kitLoggedIn({ clock: clock.now });
    const errors: string[] = [];
    s.addEventListener('error', (e) => errors.push(e.detail.error.code));
    const code = (e: unknown) => (e as { code: string }).code;
    // (403s: failures that start no outage, so every refresh below is sent at once.)
    expect(await s.login('alice', 'wrong').catch(code)).to.equal('invalid-credentials');
    kit.respond('refresh', 403);
    expect(await s.refresh().catch(code)).to.equal('http');
    clock.advance(10 * 60_000); // expired: the next call must refresh first
    kit.respond('refresh', 403);
    expect(await s.authFetch('/kit-api/me').catch(code)).to.equal('http');
    expect(errors).to.deep.equal([]);
    // Nobody awaits the refresh that the page's coming back online starts: its failure is an error event.
    kit.respond('refresh', 403);
    const failed = outcome(s, 'refresh');
    const reported = new Promise((resolve) => s.addEventListener('error', resolve, { once: true }));
    window.dispatchEvent(new Event('online'));
    expect(await failed).to.equal('failure');
    await reported;
    expect(errors).to.deep.equal(['http']);
    expect(s.state).to.equal('authenticated');
  });

  it("in an outage, a refresh waiting for the browser's next attempt reports that wait as its backoff's delay", async () => {
    // No quick retries: the first failure starts the outage, whose next attempt is 2.5–5 s away.
    const s = await kitLoggedIn({ refreshRetries: 0 });
    kit.respond('refresh', 503);
    expect(await s.refresh().catch((e: unknown) => e)).to.be.instanceOf(NetworkError);
    const steps: (Activity & { at: number })[] = [];
    s.addEventListener(
      'activity',
      (e) => e.detail.kind === 'refresh' && steps.push({ ...e.detail, at: performance.now() }),
    );
    const sent: number[] = [];
    const record = ({ request }: { request: Request }) =>
      void (new URL(request.url).pathname === '/kit-api/refresh' && sent.push(performance.now()));
    worker.events.on('request:start', record);
    await s.refresh(); // due within the session's timeout: it waits for that attempt, then succeeds
    worker.events.removeListener('request:start', record);
    expect(steps.map(({ phase, attempt }) => `${phase}${attempt ?? ''}`)).to.deep.equal([
      'start',
      'backoff0',
      'success',
    ]);
    const backoff = steps[1]!;
    expect(backoff.delay).to.be.within(1, 5000);
    // One request, sent once that delay had passed (a timer may fire a few ms early).
    expect(sent).to.have.length(1);
    expect(sent[0]! - backoff.at).to.be.at.least(backoff.delay! - 20);
  });
});

describe('logout', () => {
  it('clears memory at once and revokes the refresh cookie on the server', async () => {
    const s = await loggedIn();
    const pending = s.logout();
    expect(s.state).to.equal('anonymous');
    expect(s.user).to.equal(null);
    await pending;
    const again = session();
    await again.restore();
    expect(again.state).to.equal('anonymous');
  });

  it('is sent with keepalive, so a navigation or a closing tab does not cancel it; login and refresh are not', async function () {
    // Firefox sends keepalive requests around service workers, so msw cannot see this one there;
    // the flag is checked in Chromium and WebKit (the code is the same in every engine).
    if (engine === 'firefox') this.skip();
    const keepalive: Record<string, boolean> = {};
    const record = ({ request }: { request: Request }) => {
      keepalive[new URL(request.url).pathname] = request.keepalive;
      return passthrough();
    };
    worker.use(http.post('/api/login', record), http.post('/api/refresh', record), http.post('/api/logout', record));
    const s = await loggedIn();
    await s.refresh();
    await s.logout();
    expect(keepalive).to.deep.equal({ '/api/login': false, '/api/refresh': false, '/api/logout': true });
  });

  it('clears memory even offline, rejects with a NetworkError, and resends when back online', async () => {
    const s = await loggedIn();
    await logoutFault({ drop: true }); // the server never hears this logout
    const error = await s.logout().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NetworkError);
    expect(s.state).to.equal('anonymous');
    // The server still holds the session until the logout gets through.
    const since = performance.now();
    const resent = new Promise((resolve) =>
      s.addEventListener(
        'activity',
        (e) => e.detail.kind === 'logout' && e.detail.phase !== 'start' && resolve(e.detail.phase),
      ),
    );
    window.dispatchEvent(new Event('online'));
    expect(await resent).to.equal('success');
    await until(() => requestsTo('/api/logout', since).length > 0, 'the resent logout in Resource Timing');
    expect(requestsTo('/api/logout', since)).to.have.length(1);
    s.dispose();
    const again = session();
    await again.restore();
    expect(again.state).to.equal('anonymous');
  });
});

describe('logout and work in flight', () => {
  /** Whether this page (or another tab) holds or waits for the session's cross-tab refresh lock. */
  const lockBusy = async () => {
    const { held = [], pending = [] } = await navigator.locks.query();
    return [...held, ...pending].some((lock) => lock.name === `auth-shell:${location.origin}/api`);
  };

  it('a logout aborts the refresh in flight at once: its caller is told, the cross-tab lock is free', async () => {
    const s = await loggedIn();
    let sent = false;
    let answered = false;
    worker.use(
      http.post('/api/refresh', async () => {
        sent = true;
        await delay(2000);
        answered = true;
        return HttpResponse.json({ access_token: fakeJwt({ sub: '9' }), expires_in: 60 });
      }),
    );
    const refreshing = s.refresh().catch((e: unknown) => e);
    await until(() => s.state === 'authenticated', 'authenticated');
    await until(() => sent, 'the refresh request in flight');
    expect(await lockBusy()).to.be.true;
    void s.logout();
    expect(await refreshing).to.be.instanceOf(UnauthenticatedError);
    expect(answered).to.be.false; // the caller did not wait for the server
    expect(await lockBusy()).to.be.false;
    expect(s.state).to.equal('anonymous');
  });

  it('a refresh answer (200, a valid token) arriving after logout cannot bring the session back', async () => {
    const s = await loggedIn();
    let sent = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    worker.use(
      http.post('/api/refresh', async () => {
        sent = true;
        await gate;
        return HttpResponse.json({ access_token: fakeJwt({ sub: '9', iat: 1, exp: 2 }), expires_in: 60 });
      }),
      http.post('/api/logout', () => new HttpResponse(null, { status: 204 })),
    );
    const refreshing = s.refresh().catch((e: unknown) => e);
    await until(() => sent, 'the refresh request in flight');
    const logout = s.logout();
    release();
    await logout;
    expect(await refreshing).to.be.instanceOf(UnauthenticatedError);
    // The late answer has no event of its own (the request was aborted): nothing in the page marks
    // where it would have been wrongly stored, so give it the time to arrive.
    await sleep(100);
    expect(s.state).to.equal('anonymous');
    expect(s.user).to.equal(null);
    expect((await s.authFetch('/api/me')).status).to.equal(401);
  });

  it('a logout that lands while the refresh lock is being released still wins', async () => {
    const s = await loggedIn();
    // Delay the lock's release past the end of the refresh: the answer is stored, then the logout comes.
    const request = navigator.locks.request.bind(navigator.locks) as (...args: unknown[]) => Promise<unknown>;
    let released!: () => void;
    const releasing = new Promise<void>((resolve) => (released = resolve));
    (navigator.locks as { request: unknown }).request = async (...args: unknown[]) => {
      const result = await request(...args);
      released();
      await sleep(100); // the scenario: the window, after the lock's release, in which the logout lands
      return result;
    };
    try {
      const refreshing = s.refresh().catch((e: unknown) => e);
      await releasing;
      await s.logout();
      expect(await refreshing).to.be.instanceOf(UnauthenticatedError);
      expect(s.state).to.equal('anonymous');
      expect(s.user).to.equal(null);
    } finally {
      delete (navigator.locks as { request?: unknown }).request;
    }
  });
});

describe('login and logout racing', () => {
  it('a logout while a login request is in flight wins: the login rejects and nothing is stored', async () => {
    const s = session();
    await s.restore();
    let sent = false;
    worker.use(
      http.post('/api/login', async () => {
        sent = true;
        await delay(200);
        return passthrough();
      }),
    );
    const changes: string[] = [];
    s.addEventListener('change', (e) => changes.push(e.detail.state));
    const login = s.login('alice', 'alice').catch((e: unknown) => e);
    await until(() => sent, 'the login request in flight');
    await s.logout();
    expect(await login).to.be.instanceOf(UnauthenticatedError);
    expect(s.state).to.equal('anonymous');
    expect(changes).not.to.include('authenticated');
    expect((await s.authFetch('/api/me')).status).to.equal(401);
  });

  it("a login right after a logout waits for the logout's answer, so its expired cookie cannot wipe the new one", async () => {
    const s = await loggedIn();
    await logoutFault({ delay: 300 }); // the server holds the logout's answer 300 ms
    const since = performance.now();
    const loggingOut = s.logout();
    await s.login('bob', 'bob');
    await loggingOut; // every answer to it has arrived too
    // The new cookie survived the logout's answer: the session refreshes with it.
    await s.refresh();
    expect(s.state).to.equal('authenticated');
    expect(s.user).to.include({ name: 'Bob' });
    // Exactly one logout, answered before the login was sent (Resource Timing sees both on the wire).
    const [logout] = requestsTo('/api/logout', since);
    const [login] = requestsTo('/api/login', since);
    expect(requestsTo('/api/logout', since)).to.have.length(1);
    expect(login!.startTime).to.be.at.least(logout!.responseEnd);
  });

  it('a logout before a login starts does not cancel it (same task)', async () => {
    const s = await loggedIn();
    void s.logout();
    await s.login('bob', 'bob');
    expect(s.state).to.equal('authenticated');
    expect(s.user).to.include({ name: 'Bob' });
  });
});

describe('expiry and clocks', () => {
  it('refreshes before use once the monotonic clock passes the leeway, not before', async () => {
    const clock = manualClock();
    const s = await loggedIn({ clock: clock.now, leeway: 10 });
    const log = requestLog();
    // Backend TTL is 60 s; effective leeway min(10 s, 15 s) = 10 s → stale at 50 s.
    clock.advance(49_000);
    await s.authFetch('/api/me');
    expect(log.count('POST /api/refresh')).to.equal(0);
    clock.advance(2_000);
    const res = await s.authFetch('/api/me');
    log.stop();
    expect(res.status).to.equal(200);
    expect(log.count('POST /api/refresh')).to.equal(1);
    expect(log.keys()).to.deep.equal(['GET /api/me', 'POST /api/refresh', 'GET /api/me']);
  });

  for (const skew of [-5 * 60_000, 5 * 60_000]) {
    it(`a client wall clock ${skew > 0 ? 'ahead' : 'behind'} by 5 minutes changes nothing`, async () => {
      const realNow = Date.now;
      Date.now = () => realNow() + skew;
      try {
        const log = requestLog();
        const s = await loggedIn();
        for (let i = 0; i < 3; i++) expect((await s.authFetch('/api/me')).status).to.equal(200);
        log.stop();
        expect(log.count('POST /api/refresh')).to.equal(0);
      } finally {
        Date.now = realNow;
      }
    });
  }

  it('without expires_in, the lifetime is exp − iat measured from receipt', async () => {
    const clock = manualClock();
    // iat/exp far in the past: only their difference (100 s) matters.
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1', iat: 1000, exp: 1100 }) })),
      http.post('/api/refresh', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1', iat: 2000, exp: 2100 }) })),
    );
    const s = await loggedIn({ clock: clock.now, leeway: 10 });
    const log = requestLog();
    clock.advance(85_000);
    await s.authFetch('/nothing-here');
    expect(log.count('POST /api/refresh')).to.equal(0);
    clock.advance(6_000);
    await s.authFetch('/nothing-here');
    log.stop();
    expect(log.count('POST /api/refresh')).to.equal(1);
  });

  it('a clock moved past expiry without any timer firing: the next authFetch refreshes first, no expired token sent', async () => {
    const clock = manualClock();
    const s = await loggedIn({ clock: clock.now });
    const log = requestLog();
    clock.advance(120_000);
    const res = await s.authFetch('/api/me');
    log.stop();
    expect(res.status).to.equal(200);
    expect(log.keys()).to.deep.equal(['POST /api/refresh', 'GET /api/me']);
  });

  it('the proactive timer refreshes shortly before expiry (leeway capped at a quarter of the lifetime), once', async () => {
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 8 })),
      http.post('/api/refresh', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 60 })),
    );
    const s = session({ leeway: 30 });
    const starts: number[] = [];
    s.addEventListener(
      'activity',
      (e) => e.detail.kind === 'refresh' && e.detail.phase === 'start' && starts.push(performance.now()),
    );
    await s.login('alice', 'alice');
    const loggedInAt = performance.now();
    await until(() => starts.length > 0, 'a proactive refresh', 8000);
    // A second refresh would come from a timer; nothing marks one that does not come.
    await sleep(200);
    // Leeway capped at a quarter of the 8 s lifetime: due at ≈6 s, not at once and not after expiry.
    expect(starts).to.have.length(1);
    expect(starts[0]! - loggedInAt).to.be.within(5900, 7900);
    expect(s.state).to.equal('authenticated');
  });

  it('a token of a tiny lifetime is refreshed proactively no sooner than 5 s after it arrived', async () => {
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 0.001 })),
      http.post('/api/refresh', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 60 })),
    );
    const s = session();
    const starts: number[] = [];
    s.addEventListener(
      'activity',
      (e) => e.detail.kind === 'refresh' && e.detail.phase === 'start' && starts.push(performance.now()),
    );
    await s.login('alice', 'alice');
    const loggedInAt = performance.now();
    await until(() => starts.length > 0, 'a proactive refresh', 8000);
    expect(starts).to.have.length(1);
    expect(starts[0]! - loggedInAt).to.be.at.least(4900);
  });

  it('a proactive timer that fires before the token is stale tries again instead of giving up', async () => {
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 0.4 })),
      http.post('/api/refresh', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 60 })),
    );
    const clock = manualClock();
    const s = session({ clock: clock.now });
    const starts: number[] = [];
    s.addEventListener(
      'activity',
      (e) => e.detail.kind === 'refresh' && e.detail.phase === 'start' && starts.push(performance.now()),
    );
    await s.login('alice', 'alice');
    // The session's clock lags 80 ms behind the timers: the first timer finds the token still fresh.
    clock.advance(-80);
    await until(() => starts.length > 0, 'a proactive refresh after an early timer', 7000);
    expect(starts).to.have.length(1);
    expect(s.state).to.equal('authenticated');
  });

  it('online, pageshow and visibilitychange re-check freshness', async () => {
    const clock = manualClock();
    const s = await loggedIn({ clock: clock.now });
    for (const [target, type] of [
      [window, 'online'],
      [window, 'pageshow'],
      [document, 'visibilitychange'],
    ] as const) {
      const log = requestLog();
      const done = new Promise((resolve) =>
        s.addEventListener(
          'activity',
          (e) => e.detail.kind === 'refresh' && e.detail.phase !== 'start' && resolve(e.detail.phase),
        ),
      );
      clock.advance(120_000);
      target.dispatchEvent(new Event(type));
      expect(await done, type).to.equal('success');
      // The refresher lets go of the refresh a few microtasks after its success event (nothing marks
      // it); the next trigger would join it otherwise. One task later it has.
      await sleep(0);
      log.stop();
      expect(log.count('POST /api/refresh'), type).to.equal(1);
      expect(s.state).to.equal('authenticated');
    }
  });
});

describe('options', () => {
  it('rejects bad options with UsageError naming the option', () => {
    expect(() => createSession({ api: '' })).to.throw(UsageError, /api is required/);
    expect(() => createSession({ api: '/api', refreshMethod: 'PUT' as 'GET' })).to.throw(UsageError, /refreshMethod/);
    expect(() => createSession({ api: '/api', allowedOrigins: 'api.example.com' })).to.throw(
      UsageError,
      /allowed-origins/,
    );
    expect(() => createSession({ api: '/api', allowedOrigins: 'https://api.example.com/v1' })).to.throw(
      UsageError,
      /path/,
    );
    expect(() => createSession({ api: '/api', csrfHeader: 'nonsense' })).to.throw(UsageError, /csrfHeader/);
    expect(() => createSession({ api: '/api', timeout: -1 })).to.throw(UsageError, /timeout/);
  });

  it('builds endpoint URLs under the api, or takes absolute ones', () => {
    const s = session({ api: '/api/', refreshPath: 'token/refresh', logoutPath: 'https://auth.example.com/out' });
    expect(s.options.loginUrl).to.equal(`${location.origin}/api/login`);
    expect(s.options.refreshUrl).to.equal(`${location.origin}/api/token/refresh`);
    expect(s.options.logoutUrl).to.equal('https://auth.example.com/out');
  });
});

describe('lost responses (real backend)', () => {
  it('the server rotated but its answers were lost: resending the previous cookie succeeds (grace), no revocation', async () => {
    const s = await loggedIn({ api: '/fault-api' });
    const stats = async () => (await fetch('/fault-api/_stats')).json();
    const before = await stats();
    // The next 3 refreshes of this family rotate, then drop the connection without an answer.
    // (Chromium itself resends a request whose reused connection closed without an answer; the
    // session's backoff retries cover the rest. Either way the previous cookie is presented again.)
    expect((await fetch('/fault-api/_faults/drop-next-refresh?times=3', { method: 'POST' })).status).to.equal(204);
    await s.refresh();
    const after = await stats();
    expect(s.state).to.equal('authenticated');
    expect(after.refreshes - before.refreshes).to.equal(4);
    expect(after.graceHits - before.graceHits).to.equal(3);
    expect(after.reuseDetections).to.equal(before.reuseDetections);
    // The family is intact: the next rotation works.
    await s.refresh();
    expect((await s.authFetch('/fault-api/me')).status).to.equal(200);
  });
});
