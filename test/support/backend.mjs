// Mounts the reference backend inside the test server, once per mode, so browser tests exercise
// real cookies, CORS and rotation. The page runs on http://localhost:<port>; http://127.0.0.1:<port>
// is the same server under another origin, for cross-origin tests.
import { createBackend } from '../../demo/server/backend.js';

/** Koa middleware for web-test-runner's `middleware` option: the backend answers its paths, the rest falls through. */
export function backendMiddleware({ port }) {
  const allowedOrigins = [`http://localhost:${port}`];
  const quiet = () => {};
  return [
    createBackend({ base: '/api', mode: 'hardened', allowedOrigins, log: quiet, testRoutes: true }),
    createBackend({ base: '/seed-api', mode: 'seed', allowedOrigins, log: quiet, testRoutes: true }),
    // Used by one test only, so its request counters are exact while other files run in parallel.
    createBackend({ base: '/fault-api', mode: 'hardened', allowedOrigins, log: quiet, testRoutes: true }),
  ].map((backend) => backend.middleware);
}
