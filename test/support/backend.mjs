// Mounts the demo backend (auth-shell/server plus the demo's routes) inside the test server, once
// per base, so browser tests exercise real cookies, CORS, rotation and sockets. The page runs on
// http://localhost:<port>; http://127.0.0.1:<port> is the same server under another origin, for
// cross-origin tests.
import { DEFAULT_USERS, createBackend } from '../../demo/server/backend.js';

/**
 * The readable session-id cookie of a base. The backends share the origin localhost:<port>, so
 * each has its own name or they would overwrite each other's (its `Path` is /): `/api` keeps the
 * default `auth-shell-sid`, every other base `<base without the slash>-sid` (`tabs-api-sid`, …),
 * except `/seed-api`, which plays a seed-style backend and sets none.
 * @param {string} base
 */
export function sidCookieFor(base) {
  if (base === '/api') return 'auth-shell-sid';
  if (base === '/seed-api') return false;
  return `${base.slice(1)}-sid`;
}

/**
 * The backends of a test run: `middleware` for web-test-runner's `middleware` option (each answers
 * its paths, the rest falls through) and `plugin` to attach their WebSocket endpoints to the server.
 */
export function testBackends({ port }) {
  const allowedOrigins = [`http://localhost:${port}`];
  // carol is revoked "everywhere" by a socket test: no other file logs in as her, since the backend
  // (and so a user's sessions) is shared by test files running side by side.
  const users = [...DEFAULT_USERS, { login: 'carol', pass: 'carol', user_id: 4, role: 'user', name: 'Carol' }];
  // The login throttle's defaults are strict (5 failures per account, 20 per client); here every
  // request comes from one address and many files log in as alice, bob and admin, some with wrong
  // passwords on purpose, so the limits are set far beyond what a whole run does.
  const loginThrottle = { maxFailures: 10_000, maxClientFailures: 10_000, maxNetworkFailures: 10_000 };
  // Same for the per-user caps: files running side by side log alice in again and again, and an
  // evicted family (the default keeps a user's 10 newest) would end a session another file still uses.
  const caps = { maxFamiliesPerUser: 10_000, maxTicketsPerToken: 10_000, maxSocketsPerUser: 10_000 };
  const common = { allowedOrigins, log: () => {}, testRoutes: true, feedInterval: 200, users, loginThrottle, ...caps };
  /** @param {string} base @param {'hardened' | 'seed'} mode @param {object} [more] */
  const backend = (base, mode, more = {}) =>
    createBackend({ ...common, base, mode, sidCookie: sidCookieFor(base), ...more });
  const backends = [
    backend('/api', 'hardened'),
    backend('/seed-api', 'seed'),
    // Used by one test only, so its request counters are exact while other files run in parallel.
    backend('/fault-api', 'hardened'),
    // The multi-tab test's own backend: its rotation and revocation counters are exact.
    backend('/tabs-api', 'hardened'),
    // The new-tab test's own backend: its refresh counter is exact.
    backend('/newtab-api', 'hardened'),
    // The handed-over lifetime test's own backend: its tabs' tokens and cookies are theirs alone.
    backend('/handover-api', 'hardened'),
    // The login-throttle test's own backend, with the default limit of 5 failures per account.
    backend('/throttle-api', 'hardened', { loginThrottle: { ...loginThrottle, maxFailures: 5 } }),
  ];
  return {
    middleware: backends.map((b) => b.middleware),
    plugin: {
      name: 'reference-backend-sockets',
      serverStart({ server }) {
        // Each backend handles upgrades on its own path only; the runner's /wds socket is left alone.
        for (const b of backends) b.attachWebSocket(server);
      },
    },
  };
}
