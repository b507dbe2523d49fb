// The browser tests' one helpers module: what more than one test file needs, in sections — msw,
// the reference backend, tokens and clocks, waiting, the test page, frames, framework adapters.
//
// msw only scripts answers (errors, delays, malformed bodies) and counts requests; everything it
// does not handle goes to the reference backend mounted in the test server.
import { expect, fixture } from '@open-wc/testing';
import { setupWorker } from 'msw/browser';
import {
  createSession,
  getSession,
  type Activity,
  type AuthSocket,
  type Session,
  type SessionOptions,
} from '../../src/core/index.js';
import { existingSessions } from '../../src/core/registry.js';
import type { AuthProvider } from '../../src/index.js';

// ---- msw ----

export const worker = setupWorker();
let started: Promise<unknown> | undefined;

/** Starts msw once per test page; unhandled requests pass through to the real backend. */
export function startWorker(): Promise<unknown> {
  started ??= worker.start({
    quiet: true,
    onUnhandledRequest: 'bypass',
    serviceWorker: { url: '/mockServiceWorker.js' },
  });
  return started;
}

/** Counts requests by `METHOD pathname` (or full URL for other origins) as the page sends them. */
export function requestLog() {
  const seen: { method: string; url: URL; authorization: string | null }[] = [];
  const listener = ({ request }: { request: Request }) => {
    seen.push({
      method: request.method,
      url: new URL(request.url),
      authorization: request.headers.get('Authorization'),
    });
  };
  worker.events.on('request:start', listener);
  const key = (entry: { method: string; url: URL }) =>
    `${entry.method} ${entry.url.origin === location.origin ? entry.url.pathname : entry.url.origin + entry.url.pathname}`;
  return {
    seen,
    count(what: string): number {
      return seen.filter((entry) => key(entry) === what).length;
    },
    keys(): string[] {
      return seen.map(key).filter((k) => !k.includes('/__') && !k.endsWith('.js') && !k.endsWith('.ts'));
    },
    stop() {
      worker.events.removeListener('request:start', listener);
    },
  };
}

// ---- the reference backend ----

/** Ends any server-side session of this browser context for `api` (revokes and clears the cookie). */
export async function serverLogout(api = '/api'): Promise<void> {
  await fetch(`${api}/logout`, {
    method: 'POST',
    headers: { 'X-Requested-With': 'auth-shell' },
    credentials: 'include',
  });
}

/** Logs in with plain fetch (not through the unit under test): sets the refresh cookie. */
export async function serverLogin(
  login = 'alice',
  pass = login,
  api = '/api',
): Promise<{ access_token: string; expires_in: number }> {
  const res = await fetch(`${api}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'auth-shell' },
    body: JSON.stringify({ login, pass }),
    credentials: 'include',
  });
  if (!res.ok) throw new Error(`serverLogin: ${res.status}`);
  return res.json();
}

/**
 * Makes the real backend drop (`drop`), refuse (`status`) or hold (`delay` ms) the next logouts of
 * this browser's session — scripted at the server, so it works for keepalive requests in every engine.
 */
export async function logoutFault(
  fault: { drop: true } | { status: number } | { delay: number },
  api = '/api',
  times = 1,
): Promise<void> {
  const query = 'drop' in fault ? 'drop' : 'status' in fault ? `status=${fault.status}` : `delay=${fault.delay}`;
  const res = await fetch(`${api}/_faults/next-logout?${query}&times=${times}`, {
    method: 'POST',
    credentials: 'include',
  });
  if (res.status !== 204) throw new Error(`logoutFault: ${res.status}`);
}

// Resource Timing keeps 250 entries by default; the busier test files make more requests than that.
performance.setResourceTimingBufferSize(100_000);

/**
 * Requests this page made to `path` (origin-relative) since `since` (a `performance.now()`), from
 * Resource Timing: it sees every request, keepalive ones included — which Firefox sends around
 * service workers, so msw never sees them there.
 */
export function requestsTo(path: string, since = 0): PerformanceResourceTiming[] {
  return (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
    (entry) => entry.startTime >= since && new URL(entry.name).pathname === path,
  );
}

/**
 * The session endpoints this page called since `since`, in the order they were sent (e.g.
 * `['logout', 'refresh']`). Firefox may add an entry a moment after its answer was read: call it
 * after a signal that the last request is done, and wait for the count you expect where it matters.
 */
export function wire(since: number, api = '/api'): string[] {
  const endpoints = ['login', 'refresh', 'logout'];
  return (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
    .filter(
      (entry) =>
        entry.startTime >= since && endpoints.some((name) => new URL(entry.name).pathname === `${api}/${name}`),
    )
    .sort((a, b) => a.startTime - b.startTime)
    .map((entry) => new URL(entry.name).pathname.slice(api.length + 1));
}

/** {@link wire}, once at least `count` requests are in Resource Timing (or after 3 s). */
export async function wired(since: number, count: number, api = '/api'): Promise<string[]> {
  await until(() => wire(since, api).length >= count, `${count} requests`).catch(() => {});
  return wire(since, api);
}

// ---- tokens and clocks ----

/** A clock the test can move forward, as the session's `clock` option. */
export function manualClock() {
  let offset = 0;
  return {
    now: () => performance.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** An unsigned JWT-shaped token for scripted answers (the client never verifies signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;
}

/** A JWT anywhere in a string: what must never show up in storage, DOM, events or messages. */
export const JWT_PATTERN = /eyJ[\w-]{5,}\.[\w-]{5,}/;

// ---- sessions ----
// Every session a test makes or meets is tracked, and disposed after the test (each file's afterEach
// calls disposeSessions): sessions of getSession and of providers are page-wide per api, and only a
// disposed one is forgotten, so that the next test restores afresh.

const tracked = new Set<Session>();

/** Tracks `session` for {@link disposeSessions}, and returns it. */
export function track<S extends Session>(session: S): S {
  tracked.add(session);
  return session;
}

/** Disposes every session tracked since the last call. */
export function disposeSessions(): void {
  const sessions = [...tracked];
  tracked.clear();
  for (const session of sessions) session.dispose();
  forgetSidSeen();
}

/**
 * The next test starts as a browser that has not seen a backend set the session-id cookie, so its
 * restore asks the server unless the test turns the session hint on (the hint has its own tests).
 */
export function forgetSidSeen(): void {
  for (const key of Object.keys(localStorage)) if (key.startsWith('auth-shell.sid-seen:')) localStorage.removeItem(key);
}

/**
 * A file's `session()` and `loggedIn()`: sessions of their own (createSession, never shared
 * through getSession), tracked, with `defaults` over `{ api: '/api', retryDelay: 20 }` and a test's
 * options over those. `loggedIn` signs in with `signIn`: by default a login whose password is the
 * login, as the reference backend's users have it.
 */
/**
 * The session-id cookie of each test backend: they share the page's origin, so each names its own
 * (test/support/backend.mjs); the seed backend sets none.
 */
export const sidCookieOf = (api: string | URL = '/api'): string => {
  const path = new URL(api, location.href).pathname.replace(/\/+$/, '');
  return path === '/api' ? 'auth-shell-sid' : path === '/seed-api' ? '' : `${path.slice(1)}-sid`;
};

export function sessionsWith(
  defaults: Partial<SessionOptions> = {},
  signIn: (session: Session, user: string) => Promise<unknown> = (session, user) => session.login(user, user),
) {
  const session = (options: Partial<SessionOptions> = {}): Session => {
    const api = options.api ?? defaults.api ?? '/api';
    return track(createSession({ api, sidCookie: sidCookieOf(api), retryDelay: 20, ...defaults, ...options }));
  };
  const loggedIn = async (options: Partial<SessionOptions> = {}, user = 'alice'): Promise<Session> => {
    const s = session(options);
    await signIn(s, user);
    return s;
  };
  return { session, loggedIn };
}

/** A session of its own on `/api` (see {@link sessionsWith}), and one signed in as `user` (alice). */
export const { session, loggedIn } = sessionsWith();

/** Tracks the sessions of `el` and of the `<auth-provider>`s in it. */
export function trackProviders(el: Element): void {
  for (const provider of [el, ...el.querySelectorAll('auth-provider')]) {
    const { session } = provider as Partial<AuthProvider>;
    if (provider.localName === 'auth-provider' && session) track(session);
  }
}

/** A fixture whose providers' sessions are tracked (fixtures are already disconnected after the test). */
export async function mount<T extends Element>(template: Parameters<typeof fixture>[0]): Promise<T> {
  const el = await fixture<T>(template);
  trackProviders(el);
  return el;
}

// ---- waiting ----

/**
 * Resolves after `ms`. Only where time itself is the signal — a timer-driven step that must not
 * come, or a delay that is part of the scenario — and each use says why; anything that has an
 * event, an answer or a round trip ordered after it waits for that instead.
 */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `predicate` holds — checked at once, then every 10 ms — and resolves with the ms that
 * took; rejects naming `message` after `timeout` ms. For a state that has no event of its own.
 */
export async function until(predicate: () => boolean, message: string, timeout = 3000): Promise<number> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeout) throw new Error(`Timed out after ${timeout} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

/**
 * A delay that the code under test must NOT wait — one much longer (5 s or more) than its normal
 * path, e.g. a default it must not fall back to — as a timer the test starts before the behaviour.
 * `first(work)` settles as `work` does, or rejects naming `avoided` once the timer has fired: the
 * assertion is the order of two events (the outcome came before that timer), not a budget on how
 * fast the machine is. The timer is an `AbortSignal.timeout`, as the library's own timeouts are:
 * timers of one kind and one page fire in the order they were started when the earlier one is not
 * longer (HTML's timer ordering), so one of the same length started first also fires first.
 */
export function avoidedDelay(ms: number, avoided: string) {
  const timer = AbortSignal.timeout(ms);
  const fired = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error(`${ms} ms passed first: it waited ${avoided}`));
    if (timer.aborted) fail();
    else timer.addEventListener('abort', fail, { once: true });
  });
  fired.catch(() => {}); // only `first` reports it
  return {
    /** Whether the timer has fired. */
    get passed(): boolean {
      return timer.aborted;
    },
    first<T>(work: Promise<T>): Promise<T> {
      return Promise.race([work, fired]);
    },
  };
}

/**
 * Resolves with the phase of `session`'s next `kind` activity other than `start`: `success`,
 * `failure`, or a refresh's `backoff` before it tries again.
 */
export function outcome(session: Session, kind: Activity['kind']): Promise<Activity['phase']> {
  return new Promise((resolve) => {
    const listener = ({ detail }: CustomEvent<Activity>) => {
      if (detail.kind !== kind || detail.phase === 'start') return;
      session.removeEventListener('activity', listener);
      resolve(detail.phase);
    };
    session.addEventListener('activity', listener);
  });
}

/**
 * Resolves once every message `channel` has posted so far was delivered to the channels of its
 * name in `realm` (this page, or a frame's window) — and handled by their listeners: a marker posted
 * after them is heard by a channel of that realm. Messages from one channel arrive in the order they
 * were posted (HTML: one task source per global), so a listener that wrongly acted on one of them
 * has done so by then. Every other listener ignores the marker (it has no `v` and no `type`).
 */
export async function delivered(channel: BroadcastChannel, realm: Window = window): Promise<void> {
  const probe = new (realm as unknown as typeof globalThis).BroadcastChannel(channel.name);
  const id = Math.random().toString(36).slice(2);
  const heard = new Promise<void>((resolve) =>
    probe.addEventListener('message', ({ data }) => data?.delivered === id && resolve()),
  );
  channel.postMessage({ delivered: id });
  await heard;
  probe.close();
}

/**
 * Resolves once the server has checked the socket's credential and said hello: the socket's `open`
 * comes first (the server accepts, then checks), so what is scoped by the session id waits for this.
 */
export const hello = (socket: AuthSocket) =>
  new Promise<void>((resolve) => {
    const listener = (e: MessageEvent) => {
      if (JSON.parse(e.data as string).type !== 'hello') return;
      socket.removeEventListener('message', listener);
      resolve();
    };
    socket.addEventListener('message', listener);
  });

// ---- the test page ----

let tagCount = 0;
/** A unique tag name for test-only elements, so tests never collide on customElements.define. */
export const uniqueTag = (prefix = 'test-el') => `${prefix}-${++tagCount}-${Math.random().toString(36).slice(2, 7)}`;

/**
 * The engine running this test page. Only for the few tests that cannot run in one engine: each
 * one names the engine and says why where it skips.
 */
export const engine: 'chromium' | 'firefox' | 'webkit' = navigator.userAgent.includes('Firefox/')
  ? 'firefox'
  : navigator.userAgent.includes('Chrome/')
    ? 'chromium'
    : 'webkit';

// ---- frames ----
// Same-origin iframes as separate pages: each has its own realm (its own copies of the bundles, its
// own globalThis) while sharing cookies, BroadcastChannel and Web Locks with the others, as tabs do.

const frames: HTMLIFrameElement[] = [];

/** Loads `body` (HTML, scripts included) into a new same-origin iframe and resolves with its window. */
export async function openFrame<W = Window>(body: string): Promise<W & Window> {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width: 400px; height: 200px';
  frame.srcdoc = `<!doctype html><html><head></head><body>${body}</body></html>`;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  return frame.contentWindow as W & Window;
}

/** Removes every frame opened by the test. */
export function closeFrames(): void {
  for (const frame of frames.splice(0)) frame.remove();
}

/** Script that records console.warn calls in `window.warnings`, to put before the bundles. */
export const captureWarnings = `<script>
  window.warnings = [];
  const warn = console.warn;
  console.warn = (...args) => { window.warnings.push(args.map(String).join(' ')); warn.apply(console, args); };
</script>`;

// ---- framework adapters ----
// Shared by the adapters' tests (react-, vue-, svelte-adapter.test.ts): the ways a session changes
// "elsewhere", and a count of who listens to a session.

/** Starts the test anonymous: no refresh cookie on the server, nothing in the page's `/api` session. */
export async function startAnonymous(): Promise<Session> {
  await serverLogout();
  const session = getSession('/api');
  await session.ready;
  if (session.state !== 'anonymous') await session.logout().catch(() => {});
  return session;
}

/**
 * Signs `session` in and then out from each place "elsewhere" in turn — another provider, another
 * bundle, another tab — waiting each time until `shown()` (the component's text) follows.
 */
export async function logoutsElsewhereRender(session: Session, shown: () => string): Promise<void> {
  for (const [where, logout] of [
    ['another provider', logoutThroughAnotherProvider],
    ['another bundle', logoutThroughAnotherBundle],
    ['another tab', logoutInAnotherTab],
  ] as const) {
    await session.login('alice', 'alice');
    await until(() => shown() === 'authenticated Alice', `signed in before the logout in ${where}`);
    await logout();
    await until(() => shown() === 'anonymous', `the logout in ${where} rendered`, 5000);
  }
}

/**
 * Counts the `change` listeners `session` holds: each subscription is one. Observed on the
 * instance's own add/removeEventListener, which `subscribe` and its unsubscribe go through.
 */
export function countListeners(session: Session): { readonly count: number } {
  const listeners = new Set<unknown>();
  const add = session.addEventListener.bind(session);
  const remove = session.removeEventListener.bind(session);
  Object.assign(session, {
    addEventListener(type: string, listener: EventListener, options?: AddEventListenerOptions) {
      if (type === 'change') listeners.add(listener);
      add(type, listener, options);
    },
    removeEventListener(type: string, listener: EventListener, options?: EventListenerOptions) {
      if (type === 'change') listeners.delete(listener);
      remove(type, listener, options);
    },
  });
  return {
    get count() {
      return listeners.size;
    },
  };
}

/**
 * Logs the page's `/api` session out through another `<auth-provider api="/api">` of the page —
 * not an ancestor of anything the test renders. (The elements are imported here, on first use.)
 */
export async function logoutThroughAnotherProvider(): Promise<void> {
  await import('../../src/index.js');
  const provider = document.createElement('auth-provider') as AuthProvider;
  provider.api = '/api';
  document.body.append(provider);
  try {
    await provider.ready;
    await provider.logout();
  } finally {
    provider.remove();
  }
}

/**
 * Logs out through a separately bundled copy of auth-shell on this page (as another
 * micro-frontend's bundle would): its own `getSession`, its own modules.
 */
export async function logoutThroughAnotherBundle(): Promise<void> {
  const other = (await import(/* @vite-ignore */ '/__bundles__/a.js' as string)) as { getSession: typeof getSession };
  if (other.getSession === getSession) throw new Error('the bundle is not another copy');
  await other.getSession('/api').logout();
}

/**
 * Logs out in another tab (a same-origin iframe with its own copy of auth-shell): it restores from
 * this tab, then logs out, which every tab hears over the BroadcastChannel.
 */
export async function logoutInAnotherTab(): Promise<void> {
  const tab = await openFrame<{ session?: Session }>(`
    <script type="module">
      import { getSession } from '/__bundles__/a.js';
      window.session = getSession('/api');
    </script>`);
  await until(() => tab.session?.state === 'authenticated', 'the other tab authenticated', 5000);
  await tab.session!.logout();
}

// ---- adapters inside the elements ----
// A hook, composable or store rendered inside <auth-gate> runs before its <auth-provider> attaches:
// its lookup makes the page's session first, and the provider's attributes must still configure it.

/** The test server under another origin (the same backend): an origin a provider may allow. */
export const otherOrigin = (): string => location.origin.replace('//localhost:', '//127.0.0.1:');

/** Disposes the page's sessions for `api`, so that the next declaration configures a new one. */
export function forgetPageSessions(api = '/api'): void {
  const path = new URL(api, location.href).pathname;
  for (const session of existingSessions()) if (session.options.api.pathname === path) session.dispose();
}

/** Whether a connected `<auth-provider>` has attached to a session yet. */
export const providerAttached = (): boolean =>
  [...document.querySelectorAll<AuthProvider>('auth-provider')].some((provider) => provider.session);

/** The provider's attributes of the adapters' "inside the gate" tests. */
export const insideGate = (framework: string) => ({
  csrfHeader: `X-Requested-With: ${framework}-adapter`,
  allowedOrigins: otherOrigin(),
});

/**
 * Proves that the session an adapter reads (through `handle()`) has the options of the provider
 * around it (see {@link insideGate}): the session says so, the login request carries the provider's
 * CSRF header, and the allowed origin receives the bearer (its `/api/me` answers 200, not 401). No
 * UsageError: the provider reported none (`errors`). msw must be started (it sees the headers).
 */
export async function providerOptionsHold(
  framework: string,
  handle: () => Pick<Session, 'state' | 'login' | 'authFetch' | 'logout'> | undefined,
  errors: Event[],
): Promise<void> {
  const { csrfHeader, allowedOrigins } = insideGate(framework);
  await until(() => handle()?.state === 'anonymous', 'the session decided (anonymous)', 5000);
  const session = getSession('/api');
  track(session);
  expect(session.options.csrfHeader).to.deep.equal(['X-Requested-With', `${framework}-adapter`]);
  expect([...session.options.bearerOrigins]).to.include(allowedOrigins);
  const sent: (string | null)[] = [];
  const listener = ({ request }: { request: Request }) => {
    if (new URL(request.url).pathname === '/api/login') sent.push(request.headers.get('X-Requested-With'));
  };
  worker.events.on('request:start', listener);
  try {
    await handle()!.login('alice', 'alice');
  } finally {
    worker.events.removeListener('request:start', listener);
  }
  expect(sent, `the login request's ${csrfHeader.split(':')[0]}`).to.deep.equal([`${framework}-adapter`]);
  await until(() => handle()!.state === 'authenticated', 'authenticated after the login');
  const res = await handle()!.authFetch(`${allowedOrigins}/api/me`);
  expect(res.status, 'the allowed origin received the bearer').to.equal(200);
  expect(errors, 'auth-error events').to.deep.equal([]);
  await handle()!.logout();
}
