// Shared test setup. msw only scripts answers (errors, delays, malformed bodies) and counts requests;
// everything it does not handle goes to the reference backend mounted in the test server.
import { setupWorker } from 'msw/browser';

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

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate` holds, polling each frame; fails with `message` after `timeout` ms. */
export async function until(predicate: () => boolean, message: string, timeout = 3000): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeout) throw new Error(`Timed out: ${message}`);
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

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
  const start = performance.now();
  while (wire(since, api).length < count && performance.now() - start < 3000)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return wire(since, api);
}
