import {
  HttpResponse,
  http,
  ws,
  type HttpHandler,
  type JsonBodyType,
  type WebSocketData,
  type WebSocketHandler,
  type WebSocketHandlerConnection,
} from 'msw';
import type { SetupWorker } from 'msw/browser';
import { apiKey, resolveOptions, type EndpointMethod, type ResolvedOptions } from '../core/options.js';
import { markLogout } from '../core/pending-logout.js';
import type { User } from '../core/token-store.js';
import type { AuthProvider } from '../elements/auth-provider.js';
import { Faults, type Route, type RouteOrAll, type ScriptedAnswer } from './faults.js';
import { mountSignedIn, pageSession, type SignedInOptions } from './page.js';
import { SessionStore } from './sessions.js';
import { UnseenRequests } from './unseen.js';
import { DEFAULT_USERS, hasRole, profileOf, type TestUser } from './users.js';

/** How the test server is reached and what it knows. Paths, methods and the header are the provider's. */
export interface AuthServerOptions {
  /** Base URL of the auth API, the same as the provider's `api`: `/api`, `https://api.example.com/v1`. */
  api: string | URL;
  /** The users who can log in. Default: alice/alice, bob/bob (role `user`), admin/admin (role `admin`). */
  users?: readonly TestUser[];
  /** Lifetime of access tokens in seconds, sent as `expires_in`. Default 300. */
  accessTtl?: number;
  /** Default `/login`. */
  loginPath?: string;
  /** Default `/refresh`. */
  refreshPath?: string;
  /** Default `/logout`. */
  logoutPath?: string;
  /** The one method refresh accepts (others: 405). Default `POST`. */
  refreshMethod?: EndpointMethod;
  /** Default `POST`. */
  logoutMethod?: EndpointMethod;
  /**
   * The anti-CSRF header login, refresh and logout must carry (its name is checked; without it: 403),
   * as `"Name: value"`. Default `X-Requested-With: auth-shell`; `""` checks none.
   */
  csrfHeader?: string;
  /** The socket-ticket endpoint. Default `/ws-ticket`. */
  ticketPath?: string;
  /** The sample protected route. Default `/me`. */
  mePath?: string;
  /** The WebSocket endpoint (`ws:`/`wss:` on the api's host). Default `/ws`. */
  socketPath?: string;
  /** ms every answer waits. Default 0. */
  latency?: number;
  /**
   * Name of the readable session-id cookie the server sets beside the refresh cookie, holding its
   * tokens' `sid` claim — the provider's `sid-cookie`. Default `auth-shell-sid`; `false`: none (a
   * backend that sets none).
   */
  sidCookie?: string | false;
  /** Where {@link AuthServer.start} finds msw's worker script (`npx msw init`). Default `/mockServiceWorker.js`. */
  serviceWorkerUrl?: string;
}

/** Something that logs in: a `Session`, an `<auth-provider>`, the context's `AuthValue`. */
export interface LogsIn {
  login(login: string, pass: string): Promise<User>;
}

/** An msw handler of the test server. */
export type KitHandler = HttpHandler | WebSocketHandler;

/** Something msw handlers can be added to: a `setupWorker()` worker, or `setupServer()` in Node. */
export interface HandlerTarget {
  use(...handlers: KitHandler[]): void;
}

/** A socket connection the server accepted, with the access token that let it in. */
interface OpenSocket {
  readonly client: WebSocketHandlerConnection['client'];
  readonly token: string;
}

/** What a protected route's resolver gets. */
export interface ProtectedRequest {
  request: Request;
  /** The user whose access token came with the request. */
  user: TestUser;
  /** The path parameters, as msw gives them (`/api/orders/:id` → `{ id }`). */
  params: Record<string, string | readonly string[] | undefined>;
}

/** Options of {@link AuthServer.protect}. */
export interface ProtectOptions {
  /** Default `GET`. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Users without one of these roles get 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`. */
  role?: string | readonly string[];
}

const NO_STORE = { 'Cache-Control': 'no-store' };

const json = (body: JsonBodyType, status = 200, headers: Record<string, string> = {}) =>
  HttpResponse.json(body, { status, headers: { ...NO_STORE, ...headers } });

/** RFC 6750: no credentials → a bare challenge; a bad token → `invalid_token`. */
const unauthorized = (error: 'missing' | 'invalid') =>
  json({ error: 'invalid_token' }, 401, {
    'WWW-Authenticate': error === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"',
  });

/**
 * A test server for auth-shell in msw: {@link authServer} makes one. Its {@link handlers} implement
 * the HTTP contract a backend must implement — login, refresh with rotation, logout, socket tickets
 * and the socket, a protected sample route — and its methods script what a test needs: an expired token, a revoked
 * session, a failing network, latency, a status, and request counts.
 */
export class AuthServer {
  /** The options, as given. */
  readonly options: Readonly<AuthServerOptions>;
  /** The endpoints, resolved as the library resolves them. */
  readonly #endpoints: ResolvedOptions;
  readonly #ticketUrl: string;
  readonly #meUrl: string;
  readonly #socketUrl: string;
  readonly #sockets = new Set<OpenSocket>();
  readonly #sessions: SessionStore;
  readonly #faults = new Faults();
  readonly #users = new Map<string, TestUser>();
  readonly #unseen: UnseenRequests;
  /** Logout requests the handler has seen since the last reset (the rest were unseen: see {@link UnseenRequests}). */
  #logoutsHandled = 0;
  #worker: SetupWorker | null = null;
  /** Providers {@link signedIn} mounted: removed by {@link reset}. */
  readonly #mounted = new Set<Element>();
  /** Routes added with {@link protect}. */
  readonly #protected: HttpHandler[] = [];
  #handlers: readonly KitHandler[] | null = null;

  constructor(options: AuthServerOptions) {
    this.options = Object.freeze({ ...options });
    const { api, loginPath, refreshPath, logoutPath, refreshMethod, logoutMethod, csrfHeader } = options;
    this.#endpoints = resolveOptions({
      api,
      loginPath,
      refreshPath,
      logoutPath,
      refreshMethod,
      logoutMethod,
      csrfHeader,
    });
    const under = (path: string) => `${this.#endpoints.api.href}/${path.replace(/^\/+/, '')}`;
    this.#ticketUrl = under(options.ticketPath ?? 'ws-ticket');
    this.#meUrl = under(options.mePath ?? 'me');
    this.#socketUrl = under(options.socketPath ?? 'ws').replace(/^http/, 'ws');
    const ttl = options.accessTtl ?? 300;
    if (!(ttl > 0 && ttl < Infinity)) throw new RangeError(`accessTtl must be a number of seconds > 0, not ${ttl}`);
    const sidCookie = options.sidCookie ?? 'auth-shell-sid';
    this.#sessions = new SessionStore(ttl, (sid) => {
      // The readable, non-secret session-id cookie a backend sets beside the refresh cookie (the
      // page can set this one itself: it is not HttpOnly).
      if (sidCookie && typeof document !== 'undefined')
        document.cookie = `${sidCookie}=${sid ?? ''}; Path=/; SameSite=Strict; Max-Age=${sid ? 28_800 : 0}`;
    });
    this.#resetUsers();
    this.#faults.setLatency(options.latency ?? 0, 'all');
    this.#unseen = new UnseenRequests(
      this.#endpoints.logoutUrl,
      () => this.#logoutsHandled,
      () => {
        // A logout msw could not see (Firefox's keepalive): it reached a server, so the session ends.
        this.#faults.received('logout');
        this.#sessions.logout();
        this.#closeRefusedSockets('session ended');
      },
    );
  }

  /** The api's base URL (absolute, no trailing slash), as the library keys its sessions. */
  get api(): string {
    return apiKey(this.#endpoints.api);
  }

  /**
   * The msw handlers: login, refresh, logout, the ticket endpoint, the sample protected route, the
   * WebSocket endpoint and the routes added with {@link protect}. Give them to your worker —
   * `setupWorker(...server.handlers)` or `worker.use(...server.handlers)` — or let {@link start}
   * start one.
   */
  get handlers(): readonly KitHandler[] {
    return (this.#handlers ??= [
      ...this.#protected,
      this.#route('login', this.#endpoints.loginUrl, this.#login),
      this.#route('refresh', this.#endpoints.refreshUrl, this.#refresh),
      this.#route('logout', this.#endpoints.logoutUrl, this.#logout),
      this.#route('ws-ticket', this.#ticketUrl, this.#ticket),
      this.#route('me', this.#meUrl, this.#me),
      this.#socket(),
    ]);
  }

  // ---- the session on the server ----

  /**
   * The user whose live session the browser's refresh cookie belongs to — the session a refresh
   * would continue — or `null` (never logged in, logged out, revoked, refused).
   */
  get currentUser(): TestUser | null {
    this.#unseen.check();
    return this.#sessions.currentUser;
  }

  /**
   * The refresh cookie the browser holds for the api, as the kit keeps it (see the README: a
   * service worker cannot set cookies), or `null`. Set it to present another one: a spent value
   * from earlier replays a stolen or stale cookie (reuse: the session ends), `null` is a cookie
   * that expired or was cleared.
   */
  get cookie(): string | null {
    this.#unseen.check();
    return this.#sessions.cookie;
  }

  set cookie(value: string | null) {
    this.#sessions.cookie = value;
  }

  /**
   * The browser holds a refresh cookie of a new session for `user`, as after a login on an
   * earlier visit: the next restore (a provider connecting) signs them in with one refresh, no
   * login request. Unknown users given as objects are added.
   */
  seedSession(user: TestUser | string): TestUser {
    const found = this.user(user);
    this.#sessions.login(found);
    return found;
  }

  /**
   * Every access token issued so far is refused from now on (401 `invalid_token`), as when it
   * expired on the server: the library refreshes once and retries. The session itself lives on.
   */
  expireToken(): void {
    this.#sessions.expireTokens();
    this.#closeRefusedSockets('token expired');
  }

  /**
   * Ends the browser's session on the server, as an administrator or a password change would: the
   * next refresh is answered 401 (the library becomes `anonymous`), and its access tokens are
   * refused from now on, like a backend that checks the session on every request.
   */
  revoke(): void {
    this.#unseen.check();
    this.#sessions.revoke();
    this.#closeRefusedSockets('session revoked');
  }

  /** Sends `data` to every open socket of the server, as a server push. */
  send(data: WebSocketData): void {
    for (const { client } of this.#sockets) client.send(data);
  }

  // ---- faults ----

  /**
   * The next `times` requests to `route` (default: every route) fail at network level, as when
   * the server cannot be reached: `fetch` rejects, the library reports a `NetworkError`. They are
   * counted: the page sent them. Until {@link restoreNetwork} when `times` is left out.
   */
  failNetwork(route: RouteOrAll = 'all', times = Infinity): void {
    this.#faults.failNetwork(route, times);
  }

  /** The network works again: pending {@link failNetwork} failures are dropped. */
  restoreNetwork(): void {
    this.#faults.restoreNetwork();
  }

  /** Every answer of `route` (default: every route) waits `ms` first; `0` removes it. */
  latency(ms: number, route: RouteOrAll = 'all'): void {
    this.#faults.setLatency(ms, route);
  }

  /**
   * The next request to `route` (or the next `times`) is answered `status` instead, the server
   * unchanged: `respond('refresh', 503)`, `respond('login', 429, { headers: { 'Retry-After': '30' } })`.
   */
  respond(route: Route, status: number, answer: ScriptedAnswer = {}): void {
    this.#faults.respond(route, status, answer);
  }

  /**
   * How many requests the page sent to `route` (or to every route) since the start or the last
   * {@link reset}: answered, failed by {@link failNetwork} or scripted alike. Logouts that msw could
   * not see (Firefox) are counted once Resource Timing lists them.
   */
  count(route: RouteOrAll): number {
    this.#unseen.check();
    return this.#faults.count(route);
  }

  /**
   * Resolves once the page has sent `count` requests to `route` (the {@link count} since the last
   * {@link reset}); rejects after `timeout` ms. The explicit signal for requests a test does not
   * await itself — a background refresh, or a logout in Firefox, which the kit hears of only once
   * Resource Timing lists it, a moment after `logout()` has settled.
   */
  async received(route: RouteOrAll, count = 1, timeout = 5000): Promise<void> {
    const deadline = performance.now() + timeout;
    while (this.count(route) < count) {
      if (performance.now() > deadline)
        throw new Error(`received('${route}', ${count}): ${this.count(route)} after ${timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // ---- users ----

  /** The user with this login, or (given an object) that user, added or replacing the one with its login. */
  user(user: TestUser | string): TestUser {
    if (typeof user !== 'string') {
      if (typeof user?.login !== 'string' || !user.login) throw new TypeError('a test user needs a login');
      this.#users.set(user.login, user);
      return user;
    }
    const found = this.#users.get(user);
    if (!found) throw new TypeError(`no test user "${user}"; known: ${[...this.#users.keys()].join(', ')}`);
    return found;
  }

  // ---- signing in ----

  /**
   * Logs `user` in through `target` — a `Session`, an `<auth-provider>`, the context's value — with
   * the password the server knows: a real login request, answered by this server.
   */
  signIn(target: LogsIn, user: TestUser | string): Promise<User> {
    const found = this.user(user);
    return target.login(found.login, found.password ?? found.login);
  }

  /**
   * Mounts an `<auth-provider>` for this server's api around `content` (HTML, or nodes), signed in
   * as `user`, and resolves with it once it is authenticated. On a page that has no session for
   * the api yet it is a returning user: {@link seedSession}, then one restore (a refresh request),
   * no login; otherwise a login through the provider. `import 'auth-shell'` first. {@link reset}
   * removes it.
   */
  async signedIn(
    user: TestUser | string,
    content?: string | Node | readonly Node[],
    options?: SignedInOptions,
  ): Promise<AuthProvider> {
    return mountSignedIn(this, this.user(user), content, options, (provider) => this.#mounted.add(provider));
  }

  /**
   * Adds a protected route of your API: requests without a valid access token of this server get
   * 401 with `WWW-Authenticate`, users without `role` 403; the others reach `resolve`. Counted
   * under `path`, and faults apply to it like to any route. Returns the handler, also part of
   * {@link handlers} from now on (call it before giving the handlers to a worker, or `use` this one).
   */
  protect(
    path: string,
    resolve: (request: ProtectedRequest) => Response | Promise<Response>,
    options: ProtectOptions = {},
  ): HttpHandler {
    const roles = typeof options.role === 'string' ? [options.role] : options.role;
    const method = (options.method ?? 'GET').toLowerCase() as Lowercase<NonNullable<ProtectOptions['method']>>;
    const handler = http[method](path, async ({ request, params }) => {
      const faulted = await this.#enter(path);
      if (faulted) return faulted;
      const bearer = this.#sessions.bearer(request.headers.get('Authorization'));
      if ('error' in bearer) return unauthorized(bearer.error);
      if (roles && !hasRole(bearer.user, roles)) {
        return json({ error: 'insufficient_scope' }, 403, {
          'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${roles.join(' ')}"`,
        });
      }
      return resolve({ request, user: bearer.user, params });
    });
    this.#protected.push(handler);
    this.#handlers = null;
    return handler;
  }

  // ---- lifetime ----

  /**
   * Serves the handlers: with your msw worker (or `setupServer()`), adds them with `use()` — they
   * go when you call its `resetHandlers()`, so call this after that, e.g. in `beforeEach`. Without
   * one, starts msw's worker with the handlers (unhandled requests pass through to the network);
   * a page can have only one worker, so give yours if you have one.
   */
  async start(worker?: HandlerTarget): Promise<void> {
    this.#unseen.connect();
    if (worker) return worker.use(...this.handlers);
    if (this.#worker) return;
    const { setupWorker } = await import('msw/browser');
    this.#worker = setupWorker(...this.handlers);
    await this.#worker.start({
      quiet: true,
      onUnhandledRequest: 'bypass',
      serviceWorker: { url: this.options.serviceWorkerUrl ?? '/mockServiceWorker.js' },
    });
  }

  /** Stops the worker {@link start} started, and watching for logouts msw cannot see. */
  stop(): void {
    this.#worker?.stop();
    this.#worker = null;
    this.#unseen.disconnect();
  }

  /**
   * Back to the start, for the next test: sessions, tokens and the browser's cookie forgotten,
   * counts zero, faults and latency gone, the users as configured; the providers {@link signedIn}
   * mounted are removed and the page's session for the api is disposed (any owed logout forgotten),
   * so the next provider starts like a fresh page load.
   */
  reset(): void {
    // Logouts of the test that ends are accounted for first, against its own counts.
    this.#unseen.reset();
    this.#logoutsHandled = 0;
    for (const element of this.#mounted) element.remove();
    this.#mounted.clear();
    pageSession(this.api)?.dispose();
    markLogout(this.api, false);
    // 1000: closed for good, so no socket of the test that ends reconnects into the next one.
    for (const { client } of this.#sockets) client.close(1000, 'server reset');
    this.#sockets.clear();
    this.#sessions.clear();
    this.#faults.clear();
    this.#faults.setLatency(this.options.latency ?? 0, 'all');
    this.#resetUsers();
  }

  // ---- the routes ----

  #resetUsers(): void {
    this.#users.clear();
    for (const user of this.options.users ?? DEFAULT_USERS) this.user(user);
  }

  /** Every request: pending unseen logouts first, then counted, then the faults. */
  async #enter(route: Route): Promise<Response | undefined> {
    this.#unseen.check();
    if (route === 'logout') this.#logoutsHandled++;
    this.#faults.received(route);
    return this.#faults.intercept(route);
  }

  /**
   * `{api}/ws`: a connection with a valid `access_token` (or a one-time `ticket`) in its URL stays
   * open and gets its messages echoed back; without a credential it is closed 1008, with a bad one
   * 4001 — and 4001 again once its token expires or its session ends, as the README's contract says.
   * A network failure scripted for `ws` closes it 1006 (connection lost). Counted as `ws`.
   */
  #socket(): WebSocketHandler {
    return ws.link(this.#socketUrl).addEventListener('connection', async ({ client }) => {
      // Like the reference backend, the connection opens and the credential is checked after: the
      // browser sees the close codes. Messages sent meanwhile are answered once it is accepted.
      let accepted: OpenSocket | null = null;
      const early: WebSocketData[] = [];
      client.addEventListener('message', (event) => (accepted ? client.send(event.data) : early.push(event.data)));
      client.addEventListener('close', () => accepted && this.#sockets.delete(accepted));
      const failed = await this.#enter('ws');
      // A scripted status means nothing to a socket; a network failure is a lost connection.
      if (failed?.type === 'error') return client.close(1006, '');
      const params = client.url.searchParams;
      const ticket = params.get('ticket');
      const presented = params.get('access_token');
      if (ticket === null && presented === null) return client.close(1008, 'missing token');
      const token = ticket === null ? presented : this.#sessions.redeemTicket(ticket);
      if (token === null || 'error' in this.#sessions.bearer(`Bearer ${token}`)) {
        return client.close(4001, ticket === null ? 'invalid token' : 'invalid ticket');
      }
      this.#sockets.add((accepted = { client, token }));
      for (const data of early.splice(0)) client.send(data);
    });
  }

  /** Closes (4001) the sockets whose token the server no longer accepts. */
  #closeRefusedSockets(reason: string): void {
    for (const open of this.#sockets) {
      if ('error' in this.#sessions.bearer(`Bearer ${open.token}`)) {
        this.#sockets.delete(open);
        open.client.close(4001, reason);
      }
    }
  }

  #route(route: Route, url: string, handle: (request: Request) => Promise<Response> | Response): HttpHandler {
    return http.all(url, async ({ request }) => (await this.#enter(route)) ?? handle(request));
  }

  /** 405 for another method, 403 without the anti-CSRF header; `undefined` when the request may go on. */
  #check(request: Request, method: EndpointMethod): Response | undefined {
    if (request.method !== method) return json({ error: 'method_not_allowed' }, 405, { Allow: method });
    const header = this.#endpoints.csrfHeader?.[0];
    if (header && !request.headers.has(header)) return json({ error: 'csrf_header_required' }, 403);
    return undefined;
  }

  #login = async (request: Request): Promise<Response> => {
    const refused = this.#check(request, 'POST');
    if (refused) return refused;
    if (!/^application\/json\b/i.test(request.headers.get('Content-Type') ?? ''))
      return json({ error: 'unsupported_media_type' }, 415);
    const body = (await request.json().catch(() => null)) as { login?: unknown; pass?: unknown } | null;
    if (typeof body?.login !== 'string' || typeof body.pass !== 'string')
      return json({ error: 'invalid_request' }, 400);
    const user = this.#users.get(body.login);
    if (!user || (user.password ?? user.login) !== body.pass) return json({ error: 'invalid_credentials' }, 401);
    return json(this.#sessions.login(user));
  };

  #refresh = (request: Request): Response => {
    const refused = this.#check(request, this.#endpoints.refreshMethod);
    if (refused) return refused;
    const tokens = this.#sessions.refresh();
    if (tokens) return json(tokens);
    this.#closeRefusedSockets('session ended'); // a reused cookie ends its session
    return json({ error: 'invalid_grant' }, 401);
  };

  #logout = (request: Request): Response => {
    const refused = this.#check(request, this.#endpoints.logoutMethod);
    if (refused) return refused;
    this.#sessions.logout();
    this.#closeRefusedSockets('session ended');
    return new HttpResponse(null, { status: 204, headers: NO_STORE });
  };

  #ticket = (request: Request): Response => {
    if (request.method !== 'POST') return json({ error: 'method_not_allowed' }, 405, { Allow: 'POST' });
    const bearer = this.#sessions.bearer(request.headers.get('Authorization'));
    return 'error' in bearer ? unauthorized(bearer.error) : json(this.#sessions.ticket(bearer));
  };

  #me = (request: Request): Response => {
    if (request.method !== 'GET') return json({ error: 'method_not_allowed' }, 405, { Allow: 'GET' });
    const bearer = this.#sessions.bearer(request.headers.get('Authorization'));
    return 'error' in bearer ? unauthorized(bearer.error) : json(profileOf(bearer.user));
  };
}

/**
 * Creates a test server for auth-shell, in msw: the whole HTTP contract of the README for one api,
 * with the controls a test needs. Nothing is served until its {@link AuthServer.handlers} are given
 * to msw — {@link AuthServer.start} does it.
 *
 * @example
 * ```ts
 * import { authServer } from 'auth-shell/testing';
 * const server = authServer({ api: '/api', users: [{ login: 'alice', password: 'secret', name: 'Alice' }] });
 * await server.start();                 // or: worker.use(...server.handlers)
 * server.expireToken();                 // the next authFetch gets a 401, refreshes once, retries
 * server.failNetwork('refresh', 2);     // the next two refreshes cannot reach the server
 * server.count('refresh');              // requests the page sent
 * ```
 */
export function authServer(options: AuthServerOptions): AuthServer {
  return new AuthServer(options);
}
