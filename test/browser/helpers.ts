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
    seen.push({ method: request.method, url: new URL(request.url), authorization: request.headers.get('Authorization') });
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
  await fetch(`${api}/logout`, { method: 'POST', headers: { 'X-Requested-With': 'auth-shell' }, credentials: 'include' });
}

/** Logs in with plain fetch (not through the unit under test): sets the refresh cookie. */
export async function serverLogin(login = 'alice', pass = login, api = '/api'): Promise<{ access_token: string; expires_in: number }> {
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

const b64url = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

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
