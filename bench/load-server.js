// @ts-check
/**
 * The auth server the load bench (bench/server-load.js) drives: auth-shell/server on one store,
 * behind Node's http through its adapter, in a process of its own (one Node process: one core for
 * the server). Run as a child with an IPC channel; STORE is memory | pglite | postgres | redis,
 * STORE_URL (postgres, redis) or DATA_DIR (pglite) where it lives. It says `{ port }` when it
 * listens and answers `'cpu'` with `{ cpu }` (its CPU time so far, µs).
 *
 * Users: `user-<n>` with the password `bench-password`, checked with scrypt at OWASP's cost (the
 * login figures); `fast-<n>` with `fast` and no hashing, to open the sessions the refresh runs use.
 */
import http from 'node:http';
import { createAuthServer, checkPassword, hashPassword, toNodeHandler } from '../src/server/index.js';
import { memoryStore } from '../src/server/stores/memory.js';
import { pgliteStore } from '../src/server/stores/pglite.js';
import { postgresStore } from '../src/server/stores/postgres.js';
import { redisStore } from '../src/server/stores/redis.js';

const { STORE = 'memory', STORE_URL = '', DATA_DIR } = process.env;
const store =
  STORE === 'postgres'
    ? postgresStore({ connectionString: STORE_URL, max: 16 })
    : STORE === 'redis'
      ? redisStore({ url: STORE_URL })
      : STORE === 'pglite'
        ? pgliteStore(DATA_DIR ? { dataDir: DATA_DIR } : {})
        : memoryStore();

const hash = await hashPassword('bench-password');
const auth = createAuthServer({
  store,
  log: () => {},
  cleanupInterval: 0,
  maxSessionsPerUser: 1_000_000,
  // Every request comes from 127.0.0.1: the client limits would measure the throttle, not the login.
  loginThrottle: { maxFailures: 1_000_000, maxClientFailures: 1_000_000, maxNetworkFailures: 1_000_000 },
  verifyPassword: async (login, pass) => {
    if (login.startsWith('fast-')) return pass === 'fast' ? { id: login } : null;
    return (await checkPassword(login.startsWith('user-') ? hash : undefined, pass)) ? { id: login } : null;
  },
});
await auth.ready();
const handler = toNodeHandler(auth);
const server = http.createServer(async (req, res) => {
  if (!(await handler(req, res))) res.writeHead(404).end();
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: /** @type {import('node:net').AddressInfo} */ (server.address()).port });
});
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
});
process.on('disconnect', () => {
  server.close();
  void auth.close().finally(() => process.exit(0));
});
