/**
 * auth-shell/testing — a test server for components that use auth-shell, in msw: the whole HTTP
 * contract of the README (login, refresh with rotation, logout, socket tickets and the socket, a
 * protected route) for one api, and the controls a test needs — an expired token, a revoked session, a failing
 * network, latency, a status, request counts — plus a provider signed in as a given user.
 *
 * Needs `msw` (2.x) as a dev dependency, and msw's worker script served by your test server
 * (`npx msw init <public dir>`). Only this entry imports msw.
 *
 * @example
 * ```ts
 * import 'auth-shell';
 * import { authServer } from 'auth-shell/testing';
 *
 * const server = authServer({ api: '/api', users: [{ login: 'alice', password: 'secret', name: 'Alice' }] });
 * before(() => server.start());
 * afterEach(() => server.reset());
 * after(() => server.stop());
 *
 * it('greets the user', async () => {
 *   const provider = await server.signedIn('alice', '<my-greeting></my-greeting>');
 *   server.expireToken(); // the component's next authFetch refreshes once and retries
 * });
 * ```
 * @module
 */
export { AuthServer, authServer } from './server.js';
export type { AuthServerOptions, HandlerTarget, LogsIn, ProtectOptions, ProtectedRequest } from './server.js';
export type { SignedInOptions } from './page.js';
export type { Route, RouteOrAll, ScriptedAnswer } from './faults.js';
export { DEFAULT_USERS, type TestUser } from './users.js';
