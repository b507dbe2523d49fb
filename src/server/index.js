// @ts-check
/**
 * auth-shell/server: the backend half of auth-shell's HTTP contract, Web-standard, on a session
 * store of your choice (memory, PGlite, Postgres, Redis), with adapters for Node's http, Express,
 * Fastify, Hono and Next.js. See "Running the backend" in the README.
 *
 * @example
 * import http from 'node:http';
 * import { createAuthServer, postgresStore, toNodeHandler, checkPassword } from 'auth-shell/server';
 *
 * const auth = createAuthServer({
 *   basePath: '/api',
 *   store: postgresStore({ connectionString: process.env.DATABASE_URL }),
 *   accessTokenTtl: 300,
 *   async verifyPassword(login, pass) {
 *     const user = await db.findUserByLogin(login);
 *     return (await checkPassword(user?.passwordHash, pass)) ? { id: user.id } : null;
 *   },
 * });
 * const authHandler = toNodeHandler(auth);
 * http.createServer(async (req, res) => {
 *   if (await authHandler(req, res)) return;
 *   // your routes: const claims = await auth.verify(request) → 401 on failure
 * }).listen(8000);
 */
export { createAuthServer } from './auth-server.js';
export {
  UnauthorizedError,
  ServiceUnavailableError,
  isUnauthorizedError,
  isServiceUnavailableError,
} from './errors.js';
export { hashPassword, checkPassword, needsRehash, SCRYPT_DEFAULTS } from './password.js';
export { memoryStore } from './stores/memory.js';
export { pgliteStore } from './stores/pglite.js';
export { postgresStore } from './stores/postgres.js';
export { redisStore } from './stores/redis.js';
export { MIGRATIONS } from './stores/sql.js';
export {
  toNodeHandler,
  toWebRequest,
  writeNodeResponse,
  fastifyPlugin,
  honoHandler,
  nextRouteHandlers,
} from './adapters.js';
export { LOGIN_THROTTLE_DEFAULTS } from './login-throttle.js';

/**
 * @typedef {import('./auth-server.js').AuthServer} AuthServer
 * @typedef {import('./auth-server.js').AuthServerOptions} AuthServerOptions
 * @typedef {import('./auth-server.js').User} User
 * @typedef {import('./auth-server.js').Claims} Claims
 * @typedef {import('./auth-server.js').Route} Route
 * @typedef {import('./auth-server.js').RouteContext} RouteContext
 * @typedef {import('./auth-server.js').RequestInfo} RequestInfo
 * @typedef {import('./auth-server.js').Stats} Stats
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./login-throttle.js').LoginThrottleOptions} LoginThrottleOptions
 */
