/**
 * The host shell of the micro-frontend demo (built to dist/shell.js). No framework: it registers the
 * elements from its own copy of auth-shell, shows the signed-in user's name next to the state badge
 * (the badge itself is CSS on `auth-provider[state=…]`), wires the header's Log out button, and counts
 * the page's `/api/refresh` requests so the shared session is visible.
 */
import '../../src/index.js';
import '../../src/login-form.js';
import { consumeAuth, type AuthValue } from '../../src/index.js';

const session = document.getElementById('shell-session')!;
const userName = document.getElementById('shell-user')!;
let auth: AuthValue | undefined;

consumeAuth(session, (value) => {
  auth = value;
  userName.textContent =
    value.state === 'authenticated' ? String(value.user?.['name'] ?? value.user?.['sub'] ?? '') : '';
});

// The Log out button lives in a <template> the gate stamps on sign-in: listen on the header.
document.querySelector('header')!.addEventListener('click', (event) => {
  if (!(event.target instanceof Element) || !event.target.closest('[data-action="logout"]')) return;
  // Memory is cleared at once; a rejection only means the server could not be told yet.
  auth?.logout().catch((error: unknown) => console.warn('logout: the server could not be told yet', error));
});

// Every /api/refresh request of the page, whichever bundle sent it (resource timing, same origin).
const counter = document.getElementById('refresh-count')!;
let refreshes = 0;
counter.textContent = '/api/refresh requests since this page loaded: 0.';
const isRefresh = (entry: PerformanceEntry) => new URL(entry.name, location.href).pathname === '/api/refresh';
new PerformanceObserver((list) => {
  refreshes += list.getEntries().filter(isRefresh).length;
  counter.textContent = `/api/refresh requests since this page loaded: ${refreshes}.`;
}).observe({ type: 'resource', buffered: true });
