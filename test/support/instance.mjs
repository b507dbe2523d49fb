// One instance of the demo backend (auth-shell/server + the demo's routes) on a shared store, run as
// a child process by the multi-instance test: `node test/support/instance.mjs` with STORE_KIND
// (postgres | redis), STORE_URL and ALLOWED_ORIGIN in its environment, an IPC channel to its parent.
// It tells the parent `{ port }` once it listens. Test hook: `POST /_hold-next-refresh` makes the
// next successful refresh rotate in the store and then never answer (the parent is told
// `{ holding: true }` and kills the process with SIGKILL: a crash in the middle of a refresh).
import http from 'node:http';
import { createBackend } from '../../demo/server/backend.js';
import { postgresStore } from '../../src/server/stores/postgres.js';
import { redisStore } from '../../src/server/stores/redis.js';

const { STORE_KIND, STORE_URL = '', ALLOWED_ORIGIN = '' } = process.env;
const store =
  STORE_KIND === 'postgres' ? postgresStore({ connectionString: STORE_URL, max: 4 }) : redisStore({ url: STORE_URL });
const backend = createBackend({
  store,
  testRoutes: true,
  log: () => {},
  allowedOrigins: [ALLOWED_ORIGIN],
  // Every request comes from one address, and one user logs in from many tests.
  loginThrottle: { maxFailures: 10_000, maxClientFailures: 10_000, maxNetworkFailures: 10_000 },
  maxFamiliesPerUser: 10_000,
  storeTimeout: 1000,
  cleanupInterval: 0,
});

let holdNext = false;
const server = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/_hold-next-refresh') {
    holdNext = true;
    res.writeHead(204).end();
    return;
  }
  if (holdNext && req.url === '/api/refresh') {
    holdNext = false;
    // The store has rotated by the time the answer is written: write nothing, ever, and say so.
    const { writeHead, end } = res;
    let held = false;
    res.writeHead = /** @type {any} */ (
      function (/** @type {number} */ status, /** @type {any[]} */ ...rest) {
        if (status !== 200) return writeHead.call(this, status, ...rest);
        held = true;
        process.send?.({ holding: true });
        return this;
      }
    );
    res.end = /** @type {any} */ (
      function (/** @type {any[]} */ ...args) {
        return held ? this : end.apply(this, /** @type {any} */ (args));
      }
    );
  }
  if (!(await backend.handle(req, res))) res.writeHead(404).end();
});

await backend.auth.ready();
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: /** @type {import('node:net').AddressInfo} */ (server.address()).port });
});
process.on('disconnect', () => process.exit(0));
