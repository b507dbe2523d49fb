// Inputs nobody designed for: what is checked must be what is sent, no answer or clock can make the
// session loop, junk on the tab channel changes nothing, micro-frontends cannot weaken each other,
// nothing waits forever, and a logout is not lost. Each test here failed on the code before these
// rules existed.
import { expect } from '@open-wc/testing';
import { HttpResponse, delay, http } from 'msw';
import {
  UsageError,
  getSession,
  isAuthError,
  openSocket,
  type AuthSocketErrorEvent,
  type Session,
} from '../../src/core/index.js';
import {
  delivered,
  disposeSessions,
  fakeJwt,
  forgetSidSeen,
  JWT_PATTERN,
  loggedIn,
  logoutFault,
  manualClock,
  requestLog,
  serverLogout,
  session,
  sleep,
  startWorker,
  track,
  until,
  wired,
  worker,
} from './helpers.js';

const channelName = `auth-shell:${location.origin}/api`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

before(startWorker);
beforeEach(() => serverLogout());
afterEach(() => {
  worker.resetHandlers();
  disposeSessions();
  localStorage.clear();
});

describe('the bearer is decided on the request actually sent', () => {
  /** Records the Authorization header of every request msw sees for `pattern`. */
  function recordAt(pattern: string) {
    const seen: (string | null)[] = [];
    worker.use(
      http.all(pattern, ({ request }) => {
        seen.push(request.headers.get('Authorization'));
        return HttpResponse.json({ ok: true });
      }),
    );
    return seen;
  }

  it('a Request from another realm (an iframe) for a foreign origin gets no Authorization', async () => {
    const s = await loggedIn();
    const seen = recordAt('https://other.example/*');
    const frame = document.createElement('iframe');
    document.body.append(frame);
    try {
      const ForeignRequest = (frame.contentWindow as unknown as typeof globalThis).Request;
      const request = new ForeignRequest('https://other.example/x');
      expect(request instanceof Request).to.be.false;
      await s.authFetch(request);
    } finally {
      frame.remove();
    }
    expect(seen).to.deep.equal([null]);
  });

  it('a Request from another realm for the api gets the bearer (the policy is not simply stricter)', async () => {
    const s = await loggedIn();
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const log = requestLog();
    try {
      const ForeignRequest = (frame.contentWindow as unknown as typeof globalThis).Request;
      expect((await s.authFetch(new ForeignRequest(`${location.origin}/api/me`))).status).to.equal(200);
    } finally {
      frame.remove();
      log.stop();
    }
    expect(log.seen.find((r) => r.url.pathname === '/api/me')!.authorization).to.match(/^Bearer /);
  });

  it('an input whose URL reads differently the second time is read once: what was checked is sent', async () => {
    const s = await loggedIn();
    const seen = recordAt('https://evil.example/*');
    let reads = 0;
    const shifty = { toString: () => (reads++ === 0 ? `${location.origin}/api/me` : 'https://evil.example/steal') };
    const res = await s.authFetch(shifty as unknown as string);
    expect(res.status).to.equal(200);
    expect(reads).to.equal(1);
    expect(seen).to.deep.equal([]);
  });

  it('a Request subclass that lies about its url cannot get the bearer sent elsewhere', async () => {
    const s = await loggedIn();
    const seen = recordAt('https://evil.example/*');
    class Liar extends Request {
      override get url() {
        return `${location.origin}/api/me`;
      }
    }
    await s.authFetch(new Liar('https://evil.example/steal'));
    expect(seen).to.deep.equal([null]);
  });

  it('URL objects are judged by their origin', async () => {
    const s = await loggedIn();
    const seen = recordAt('https://evil.example/*');
    await s.authFetch(new URL('https://evil.example/steal'));
    const log = requestLog();
    expect((await s.authFetch(new URL('/api/me', location.href))).status).to.equal(200);
    log.stop();
    expect(seen).to.deep.equal([null]);
    expect(log.seen.find((r) => r.url.pathname === '/api/me')!.authorization).to.match(/^Bearer /);
  });
});

describe('expiry no clock can break', () => {
  /** Counts refresh requests and answers API calls with 200, for `ms`; returns both counts. */
  async function observe(s: Session, ms: number) {
    const log = requestLog();
    const statuses: number[] = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
      statuses.push((await s.authFetch('/api/data')).status);
      await sleep(100); // the scenario: a call every 100 ms, while a storm would show
    }
    log.stop();
    return { refreshes: log.count('POST /api/refresh'), statuses };
  }

  for (const [label, body] of [
    [
      'a server 10 minutes behind issuing exp-only tokens',
      () => ({ access_token: fakeJwt({ sub: '1', exp: nowSeconds() - 600 + 60 }) }),
    ],
    [
      'a server 1 day ahead issuing exp-only tokens',
      () => ({ access_token: fakeJwt({ sub: '1', exp: nowSeconds() + 86_400 + 60 }) }),
    ],
    ['expires_in: 0.001', () => ({ access_token: fakeJwt({ sub: '1' }), expires_in: 0.001 })],
    ['expires_in: 0', () => ({ access_token: fakeJwt({ sub: '1' }), expires_in: 0 })],
  ] as const) {
    it(`${label}: no refresh storm, API calls succeed`, async () => {
      worker.use(
        http.post('/api/login', () => HttpResponse.json(body())),
        http.post('/api/refresh', () => HttpResponse.json(body())),
        http.get('/api/data', () => HttpResponse.json({ ok: true })),
      );
      const s = await loggedIn();
      const { refreshes, statuses } = await observe(s, 3000);
      // At most one refresh per 5 s, whatever the server says.
      expect(refreshes).to.be.at.most(1);
      expect(statuses.length).to.be.greaterThan(10);
      expect(new Set(statuses)).to.deep.equal(new Set([200]));
      expect(s.state).to.equal('authenticated');
    });
  }

  it("an exp-only token's lifetime is measured against the server's Date header, not the client's clock", async () => {
    const serverNow = () => Date.now() - 10 * 60_000; // the server is 10 minutes behind
    const answer = () =>
      HttpResponse.json(
        { access_token: fakeJwt({ sub: '1', exp: Math.floor(serverNow() / 1000) + 60 }) },
        { headers: { Date: new Date(serverNow()).toUTCString() } },
      );
    worker.use(
      http.post('/api/login', answer),
      http.post('/api/refresh', answer),
      http.get('/api/data', () => HttpResponse.json({})),
    );
    const clock = manualClock();
    const s = await loggedIn({ clock: clock.now, leeway: 10 });
    const log = requestLog();
    clock.advance(45_000); // 59–60 s granted by the server's clock, stale 10 s before that
    await s.authFetch('/api/data');
    expect(log.count('POST /api/refresh')).to.equal(0);
    clock.advance(10_000);
    await s.authFetch('/api/data');
    log.stop();
    expect(log.count('POST /api/refresh')).to.equal(1);
  });

  it('a failing proactive refresh backs off and tries again (5 s, then 10 s), never storming nor giving up', async () => {
    const attempts: number[] = [];
    worker.use(
      http.post('/api/login', () => HttpResponse.json({ access_token: fakeJwt({ sub: '1' }), expires_in: 1 })),
      http.post('/api/refresh', () => {
        attempts.push(performance.now());
        return new HttpResponse(null, { status: 503 });
      }),
    );
    const s = await loggedIn({ refreshRetries: 0 });
    const start = performance.now();
    await until(() => attempts.length >= 2, 'a second proactive attempt', 12_000);
    // A storm would be a third attempt from a timer; nothing marks one that does not come.
    await sleep(300);
    expect(attempts).to.have.length(2);
    expect(attempts[0]! - start).to.be.within(4800, 6000); // the floor
    expect(attempts[1]! - attempts[0]!).to.be.within(4800, 6000); // backoff 5 s, doubling next
    expect(s.state).to.equal('authenticated');
  });
});

describe('401s that a refresh cannot fix', () => {
  it('20 calls to an endpoint that rejects every token: at most 2 refreshes, the session stays, other routes work', async () => {
    const s = await loggedIn();
    worker.use(http.get('/api/always-401', () => HttpResponse.json({ error: 'invalid_token' }, { status: 401 })));
    const log = requestLog();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await s.authFetch('/api/always-401')).status);
    const me = await s.authFetch('/api/me');
    log.stop();
    expect(statuses).to.deep.equal(Array(20).fill(401));
    expect(log.count('POST /api/refresh')).to.be.at.most(2);
    expect(s.state).to.equal('authenticated');
    expect(me.status).to.equal(200);
  });

  it('after the pause, a 401 refreshes again', async () => {
    const clock = manualClock();
    const s = await loggedIn({ clock: clock.now });
    worker.use(http.get('/api/always-401', () => HttpResponse.json({}, { status: 401 })));
    await s.authFetch('/api/always-401');
    const log = requestLog();
    await s.authFetch('/api/always-401');
    expect(log.count('POST /api/refresh')).to.equal(0);
    clock.advance(31_000);
    await s.authFetch('/api/always-401');
    log.stop();
    expect(log.count('POST /api/refresh')).to.equal(1);
  });

  it('one route that rejects every token does not speak for the others: an expired token elsewhere still refreshes', async () => {
    const s = await loggedIn();
    worker.use(http.get('/api/deny', () => HttpResponse.json({ error: 'invalid_token' }, { status: 401 })));
    expect((await s.authFetch('/api/deny')).status).to.equal(401); // refreshed, refused again: /deny paused
    // The server has since refused the token everywhere (revoked, expired): /me answers 401 to it.
    expect((await s.authFetch('/api/expire-token', { method: 'POST' })).status).to.equal(204);
    const log = requestLog();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await s.authFetch('/api/me')).status);
    log.stop();
    expect(statuses).to.deep.equal([200, 200, 200]);
    expect(log.count('POST /api/refresh')).to.equal(1);
  });

  for (const status of [401, 403]) {
    it(`a ${status} with WWW-Authenticate: Bearer error="insufficient_scope" never refreshes (RFC 6750)`, async () => {
      const s = await loggedIn();
      worker.use(
        http.get('/api/scoped', () =>
          HttpResponse.json(
            {},
            {
              status,
              headers: { 'WWW-Authenticate': 'Bearer realm="api", error="insufficient_scope", scope="admin"' },
            },
          ),
        ),
      );
      const log = requestLog();
      const res = await s.authFetch('/api/scoped');
      log.stop();
      expect(res.status).to.equal(status);
      expect(log.keys()).to.deep.equal(['GET /api/scoped']);
    });
  }
});

describe('tab messages are validated', () => {
  const junk: unknown[] = [
    { v: 1, type: 'logout', at: 1e20 },
    { v: 1, type: 'logout', at: 'soon' },
    { v: 1, type: 'logout', at: Number.NaN },
    { v: 1, type: 'logout', at: Infinity },
    { v: 1, type: 'logout' },
    { v: 1, type: 'token', token: 'garbage', remaining: 60_000, lifetime: 60_000, requestedAt: 0 },
    {
      v: 1,
      type: 'token',
      token: fakeJwt({ sub: 'mallory' }),
      remaining: Number.NaN,
      lifetime: 60_000,
      requestedAt: 0,
    },
    { v: 1, type: 'token', token: fakeJwt({ sub: 'mallory' }), remaining: 60_000, lifetime: 60_000, requestedAt: 1e20 },
    { v: 1, type: 'token', token: 42, remaining: 60_000, lifetime: 60_000, requestedAt: 0 },
    { v: 1, type: 'held', id: 'x'.repeat(10_000) },
    { v: 2, type: 'logout', at: 0 },
    'logout',
    null,
    [1, 2, 3],
  ];

  it('junk messages change nothing: the session stays, login and authFetch work', async () => {
    const s = await loggedIn();
    const user = s.user;
    const channel = new BroadcastChannel(channelName);
    for (const message of junk) channel.postMessage(message);
    await delivered(channel);
    expect(s.state).to.equal('authenticated');
    expect(s.user).to.equal(user);
    expect((await s.authFetch('/api/me')).status).to.equal(200);
    await s.logout();
    for (const message of junk) channel.postMessage(message);
    await delivered(channel);
    await s.login('bob', 'bob');
    expect(s.state).to.equal('authenticated');
    expect((await s.authFetch('/api/me')).status).to.equal(200);
    channel.close();
  });

  it('a token whose request was sent before this tab logged out is not adopted; one requested after it is', async () => {
    const s = await loggedIn();
    const shared = () => performance.timeOrigin + performance.now();
    const requestedBefore = shared();
    // Strictly before the logout's time, also at a clock resolution of 1 ms (Firefox).
    await until(() => shared() > requestedBefore, 'the shared clock moved on');
    await s.logout();
    const channel = new BroadcastChannel(channelName);
    const token = fakeJwt({ sub: '2', name: 'Bob', iat: 1000, exp: 1060 });
    channel.postMessage({
      v: 1,
      type: 'token',
      token,
      remaining: 60_000,
      lifetime: 60_000,
      requestedAt: requestedBefore,
    });
    await delivered(channel);
    expect(s.state).to.equal('anonymous');
    channel.postMessage({ v: 1, type: 'token', token, remaining: 60_000, lifetime: 60_000, requestedAt: shared() });
    await until(() => s.state === 'authenticated', 'the token requested after the logout is adopted');
    expect(s.user).to.include({ name: 'Bob' });
    channel.close();
  });

  it('a far-future logout on the channel cannot block a later login', async () => {
    const s = session();
    await s.restore();
    const channel = new BroadcastChannel(channelName);
    channel.postMessage({ v: 1, type: 'logout', at: 1e20 });
    channel.postMessage({ v: 1, type: 'logout', at: Date.now() + 3_600_000 });
    await delivered(channel);
    await s.login('alice', 'alice');
    expect(s.state).to.equal('authenticated');
    channel.close();
  });

  it('a wall clock stepped back after a logout cannot block a later login', async () => {
    const s = await loggedIn();
    await s.logout();
    const realNow = Date.now;
    Date.now = () => realNow() - 3_600_000;
    try {
      await s.login('alice', 'alice');
      expect(s.state).to.equal('authenticated');
    } finally {
      Date.now = realNow;
    }
  });

  it('no global path yields the token: the registry, every Symbol.for key and every hook on a session', async () => {
    const s = track(getSession('/api'));
    await s.ready;
    await s.login('alice', 'alice');
    await s.refresh();
    const found: string[] = [];
    const seen = new WeakSet<object>();
    const visit = async (value: unknown, depth: number): Promise<void> => {
      if (typeof value === 'string') return void (JWT_PATTERN.test(value) && found.push(value));
      if (value instanceof Promise) return visit(await value.catch((e: unknown) => e), depth);
      if (
        (typeof value !== 'object' && typeof value !== 'function') ||
        value === null ||
        depth === 0 ||
        seen.has(value)
      )
        return;
      if (value instanceof Node || value === globalThis) return;
      seen.add(value);
      if (value instanceof Map || value instanceof Set) for (const entry of value) await visit(entry, depth - 1);
      if (value instanceof Error) await visit(value.message, depth - 1);
      for (
        let o: object | null = value;
        o && o !== Object.prototype && o !== EventTarget.prototype && o !== Function.prototype;
        o = Object.getPrototypeOf(o)
      ) {
        for (const key of Reflect.ownKeys(o)) {
          const descriptor = Object.getOwnPropertyDescriptor(o, key)!;
          let member: unknown;
          try {
            member = descriptor.get ? descriptor.get.call(value) : descriptor.value;
            // Hooks keyed by a symbol are what another copy (or any script) could call: call them.
            if (typeof key === 'symbol' && typeof member === 'function') member = (member as () => unknown).call(value);
          } catch (error) {
            member = error;
          }
          await visit(member, depth - 1);
        }
      }
    };
    const keys = Object.getOwnPropertySymbols(globalThis).filter((k) => k.description?.startsWith('auth-shell'));
    expect(keys.length).to.be.greaterThan(0);
    for (const key of keys) await visit((globalThis as Record<symbol, unknown>)[key], 6);
    await visit(s, 4);
    expect(found).to.deep.equal([]);
  });
});

describe('micro-frontends cannot silently weaken each other', () => {
  function captureErrors() {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.map(String).join(' '));
    return { errors, restore: () => (console.error = original) };
  }

  it('a second getSession for the same api with another allowed origin: UsageError and a console error', async () => {
    // The first declaration configures the session (the defaults, said explicitly).
    const first = track(getSession({ api: '/api', csrfHeader: 'X-Requested-With: auth-shell' }));
    const console = captureErrors();
    try {
      let error: unknown;
      try {
        getSession({ api: '/api', allowedOrigins: 'https://evil.example' });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(UsageError);
      expect(String((error as Error).message)).to.include('allowedOrigins');
      expect(console.errors).to.have.length(1);
      expect(first.options.bearerOrigins.has('https://evil.example')).to.be.false;
      for (const [name, value] of [
        ['csrfHeader', ''],
        ['refreshMethod', 'GET'],
        ['logoutMethod', 'GET'],
        ['refreshPath', '/other-refresh'],
      ] as const) {
        expect(() => getSession({ api: '/api', [name]: value }), name).to.throw(UsageError, name);
      }
      // Leaving options out, or giving the same ones, is no conflict.
      expect(getSession('/api')).to.equal(first);
      expect(getSession({ api: '/api/', refreshMethod: 'post', csrfHeader: 'X-Requested-With: auth-shell' })).to.equal(
        first,
      );
    } finally {
      console.restore();
    }
  });
});

describe('nothing on the page can widen the session', () => {
  const FOREIGN = 'https://elsewhere.example';

  /**
   * Tries to widen everything reachable from `root`: adds the foreign origin to every Set and array,
   * points every URL and URL-like string at it, replaces every function and redefines every
   * property — each attempt may throw (frozen), and none may count.
   */
  function widen(root: unknown, seen = new Set<unknown>(), depth = 0): number {
    if ((typeof root !== 'object' && typeof root !== 'function') || root === null || seen.has(root) || depth > 5)
      return 0;
    seen.add(root);
    let tried = 0;
    const attempt = (change: () => unknown) => {
      tried++;
      try {
        change();
      } catch {
        // frozen, or not writable: as it should be
      }
    };
    if (root instanceof Set) {
      attempt(() => (root as Set<string>).add(FOREIGN));
      attempt(() => Set.prototype.add.call(root, FOREIGN));
    }
    if (root instanceof Map) attempt(() => Map.prototype.set.call(root, `${location.origin}/api`, {}));
    if (Array.isArray(root)) attempt(() => Array.prototype.push.call(root, FOREIGN));
    if (root instanceof URL) attempt(() => (root.href = `${FOREIGN}/api`));
    if (typeof root === 'function') return tried;
    for (const key of Reflect.ownKeys(root)) {
      let value: unknown;
      try {
        value = (root as Record<PropertyKey, unknown>)[key];
      } catch {
        continue;
      }
      const target = root as Record<PropertyKey, unknown>;
      if (typeof value === 'string') attempt(() => (target[key] = `${FOREIGN}/steal`));
      if (typeof value === 'function' && key !== 'addEventListener' && key !== 'removeEventListener')
        attempt(() => (target[key] = () => ({ api: FOREIGN })));
      attempt(() => Object.defineProperty(root, key, { value: `${FOREIGN}/steal` }));
      tried += widen(value, seen, depth + 1);
    }
    return tried;
  }

  it('after every reachable object was mutated, the bearer still goes only to allowed origins and login to the api', async () => {
    const s = await loggedIn();
    const registry = (globalThis as Record<symbol, unknown>)[Symbol.for('auth-shell.registry')];
    let tried = 0;
    for (const root of [s, s.options, s.options.bearerOrigins, s.options.api, s.options.csrfHeader, s.value, registry])
      tried += widen(root);
    expect(tried).to.be.greaterThan(50);
    const seen: (string | null)[] = [];
    worker.use(
      http.get(`${FOREIGN}/x`, ({ request }) => {
        seen.push(request.headers.get('Authorization'));
        return HttpResponse.json({});
      }),
    );
    await s.authFetch(`${FOREIGN}/x`);
    expect(seen).to.deep.equal([null]);
    expect((await s.authFetch('/api/me')).status).to.equal(200);
    const log = requestLog();
    await s.login('alice', 'alice');
    log.stop();
    expect(log.keys()).to.deep.equal(['POST /api/login']);
    // The registry made nothing of what was tried on it: the page's session is the real one.
    expect(getSession('/api')).to.not.equal(undefined);
  });

  it('the registry is a frozen facade: nothing can register a session of its own making', async () => {
    const real = track(getSession({ api: '/api', csrfHeader: 'X-Requested-With: auth-shell' }));
    const registry = (globalThis as Record<symbol, Record<string, unknown>>)[Symbol.for('auth-shell.registry')]!;
    expect(Object.isFrozen(registry)).to.be.true;
    const fake = { login: () => Promise.resolve({}), options: real.options };
    expect(() => Object.defineProperty(registry, 'session', { value: () => fake })).to.throw(TypeError);
    expect('sessions' in registry).to.be.false; // no map to write into
    expect(getSession('/api')).to.equal(real);
  });
});

describe('nothing waits forever', () => {
  it('a ticket request that never answers times out with a typed error', async () => {
    const s = await loggedIn();
    worker.use(
      http.post('/api/ws-ticket', async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const socket = openSocket(s, '/api/ws', { ticket: true, connectTimeout: 300, maxAttempts: 0 });
    const errors: unknown[] = [];
    socket.addEventListener('error', (e: AuthSocketErrorEvent) => errors.push(e.error));
    let gaveUp = false;
    socket.addEventListener('giveup', () => (gaveUp = true));
    await until(() => gaveUp, 'giveup after the ticket timeout', 3000);
    expect(errors).to.have.length(1);
    expect(isAuthError(errors[0], 'timeout')).to.be.true;
    socket.close();
  });
});

describe('logout is not lost', () => {
  // The logout is a keepalive request, which Firefox sends around msw: its failures are scripted
  // at the real backend, and the requests read from Resource Timing, so every engine runs these.
  it('a logout that could not reach the server is completed on the next load, before the restore', async () => {
    const s = await loggedIn();
    await logoutFault({ drop: true });
    expect(await s.logout().catch((e: unknown) => e)).to.satisfy((e: unknown) => isAuthError(e, 'network'));
    s.dispose(); // the page goes away before it is back online
    expect(JSON.stringify({ ...localStorage })).not.to.match(JWT_PATTERN);
    const since = performance.now();
    const next = session();
    await next.restore();
    expect(await wired(since, 2)).to.deep.equal(['logout', 'refresh']);
    expect(next.state).to.equal('anonymous');
    next.dispose();
    // Done once: the load after that restores normally (asking the server: the hint is left out).
    forgetSidSeen();
    const again = performance.now();
    await session().restore();
    expect(await wired(again, 1)).to.deep.equal(['refresh']);
  });

  it('an owed logout the server refuses (403) does not block restores forever', async () => {
    const s = await loggedIn();
    await logoutFault({ drop: true });
    await s.logout().catch(() => {});
    s.dispose();
    await logoutFault({ status: 403 });
    // Each session stands for a page load; the page before is gone when the next one starts.
    const second = session();
    await second.restore();
    second.dispose();
    const since = performance.now();
    await session().restore();
    expect(await wired(since, 1)).to.deep.equal(['refresh']);
  });

  it('a login through the library settles an owed logout first', async () => {
    const s = await loggedIn();
    await logoutFault({ drop: true });
    await s.logout().catch(() => {});
    s.dispose();
    const since = performance.now();
    const next = session();
    await next.login('bob', 'bob');
    expect(await wired(since, 2)).to.deep.equal(['logout', 'login']);
    expect(next.state).to.equal('authenticated');
  });
});
