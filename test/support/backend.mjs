// Mounts the reference backend inside the test server, once per mode, so browser tests exercise
// real cookies, CORS, rotation and sockets. The page runs on http://localhost:<port>;
// http://127.0.0.1:<port> is the same server under another origin, for cross-origin tests.
import { DEFAULT_USERS, createBackend } from '../../demo/server/backend.js';

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
  const loginThrottle = { maxFailures: 10_000, maxClientFailures: 10_000 };
  // Same for the per-user caps: files running side by side log alice in again and again, and an
  // evicted family (the default keeps a user's 10 newest) would end a session another file still uses.
  const caps = { maxFamiliesPerUser: 10_000, maxTicketsPerToken: 10_000, maxSocketsPerUser: 10_000 };
  const common = { allowedOrigins, log: () => {}, testRoutes: true, feedInterval: 200, users, loginThrottle, ...caps };
  // Every backend shares the test page's origin, so each names its session-id cookie apart (see
  // SID_COOKIES in test/browser/helpers.ts); the seed backend sets none, as a seed-style backend.
  const sid = (base) => ({
    sidCookie: base === '/api' ? 'auth-shell-sid' : base === '/seed-api' ? false : `${base.slice(1)}-sid`,
  });
  const backends = [
    createBackend({ ...common, ...sid('/api'), base: '/api', mode: 'hardened' }),
    createBackend({ ...common, ...sid('/seed-api'), base: '/seed-api', mode: 'seed' }),
    // Used by one test only, so its request counters are exact while other files run in parallel.
    createBackend({ ...common, ...sid('/fault-api'), base: '/fault-api', mode: 'hardened' }),
    // The multi-tab test's own backend: its rotation and revocation counters are exact.
    createBackend({ ...common, ...sid('/tabs-api'), base: '/tabs-api', mode: 'hardened' }),
    // The new-tab test's own backend: its refresh counter is exact.
    createBackend({ ...common, ...sid('/newtab-api'), base: '/newtab-api', mode: 'hardened' }),
    // The handed-over lifetime test's own backend: its tabs' tokens and cookies are theirs alone.
    createBackend({ ...common, ...sid('/handover-api'), base: '/handover-api', mode: 'hardened' }),
    // The login-throttle test's own backend, with the default limit of 5 failures per account.
    createBackend({
      ...common,
      ...sid('/throttle-api'),
      base: '/throttle-api',
      mode: 'hardened',
      loginThrottle: { maxFailures: 5, maxClientFailures: 10_000 },
    }),
  ];
  return {
    middleware: backends.map((backend) => backend.middleware),
    plugin: {
      name: 'reference-backend-sockets',
      serverStart({ server }) {
        // Each backend handles upgrades on its own path only; the runner's /wds socket is left alone.
        for (const backend of backends) backend.attachWebSocket(server);
      },
    },
  };
}
