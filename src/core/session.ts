import { AuthError, HttpError, InvalidCredentialsError, NetworkError, RateLimitError, UnauthenticatedError, UsageError } from './errors.js';
import type { Activity, RefreshReason, SessionEventMap, SessionSnapshot, SessionState } from './events.js';
import { createAuthFetch, type AuthFetch } from './fetch.js';
import { exchange, isTransient, parseTokenBody, serverDate, transientError, type Exchange } from './http.js';
import { openLink, type LinkHandlers, type SocketLink } from './link.js';
import { apiKey, resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { logoutPending, markLogout } from './pending-logout.js';
import { TabSync, sharedNow, type TabMessage } from './tab-sync.js';
import { MIN_FRESH, TokenStore, type User } from './token-store.js';

/** The session API as one value: what `session.value` gives and the context value builds on. */
export interface SessionValue extends SessionSnapshot {
  /** Settles (never rejects) once the restore on load has settled: what a route loader awaits. */
  readonly ready: Promise<void>;
  /** Logs in; resolves with the user. Rejects with a typed error, e.g. `invalid-credentials`. */
  readonly login: (login: string, pass: string) => Promise<User>;
  /** Clears the session in memory at once, then tells the server. */
  readonly logout: () => Promise<void>;
  /** `fetch` with the bearer token for allowed origins, refresh on staleness and one retry on 401. */
  readonly authFetch: AuthFetch;
}

const MAX_TIMEOUT = 2 ** 31 - 1;
/** How long 401s do not refresh once a token minted for a 401 was refused too (a refresh does not fix that endpoint). */
const FUTILE_PAUSE = 30_000;
/** Longest pause between proactive refreshes that keep failing (they back off from MIN_FRESH). */
const MAX_PROACTIVE_BACKOFF = 60_000;
/** A server's `Retry-After` up to this many seconds is waited for inside a refresh; a longer one fails it. */
const MAX_RETRY_AFTER = 5;

/**
 * Key of the session's socket hook, for the core's socket module — also a socket module from
 * another bundled copy of auth-shell on the page, hence `Symbol.for`. It hands out connections to
 * allowed origins, never the token; any script may call it, as any script may call `authFetch`.
 */
const CONNECT: unique symbol = Symbol.for('auth-shell.session.connect');

/**
 * Opens a WebSocket to `url` (an allowed origin) with `session`'s credential in the query
 * parameter `param`: the token (refreshed first when stale; after `refused` was refused, a new one
 * unless someone already replaced it), or the one-time `ticket` given. `null` without a session.
 * For the core's socket module only.
 */
export const connect = (
  session: Session,
  url: URL,
  param: string,
  protocols: string | string[] | undefined,
  on: LinkHandlers,
  ticket?: string,
  refused?: SocketLink,
): Promise<SocketLink | null> => session[CONNECT](url, param, protocols, on, ticket, refused);

/**
 * One browser session against one auth API: the state machine `restoring → authenticated |
 * anonymous`, login, logout, a single-flight refresh, proactive refresh and `authFetch`.
 *
 * Framework-free: usable from a route loader, a React or Vue app, or a worker. Elements get theirs
 * from {@link getSession} so that every provider with the same `api` shares one.
 *
 * @example
 * ```ts
 * import { createSession } from 'auth-shell/core';
 * const session = createSession({ api: '/api' });
 * await session.restore();
 * if (session.state === 'anonymous') await session.login('alice', 'secret');
 * const me = await (await session.authFetch('/api/me')).json();
 * ```
 */
export class Session extends EventTarget {
  /** The validated options, defaults filled in. */
  readonly options: ResolvedOptions;

  readonly #tokens: TokenStore;
  #snapshot: SessionSnapshot = Object.freeze({ state: 'restoring', user: null });
  #value: SessionValue | null = null;
  #resolveReady!: () => void;
  readonly #ready = new Promise<void>((resolve) => (this.#resolveReady = resolve));
  #restoring: Promise<void> | null = null;
  /** The restore failed at network level: try again when the network or the page comes back. */
  #restoreFailed = false;
  /** The logout request has not reached the server yet: resend when back online. */
  #pendingLogout = false;
  #inflight: Promise<void> | null = null;
  #refreshAbort: AbortController | null = null;
  /**
   * Bumped by login and logout. Work started under an older epoch must not touch the session:
   * a refresh answered after a logout cannot bring the session back.
   */
  #epoch = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  /** The other tabs: a lock around refresh, tokens and logouts handed over. `null` with `tabSync: false`. */
  readonly #tabs: TabSync | null;
  /** The api's canonical key: the tab channel's name and the pending-logout mark's. */
  readonly #key: string;
  /**
   * {@link sharedNow} of the last logout seen here or in another tab: tokens requested before it are
   * not adopted, logins answered after it are obsolete if they started before it.
   */
  #loggedOutAt = 0;
  /** Logouts done in this session: a login in flight across one of them is obsolete, whatever the clocks say. */
  #logouts = 0;
  /** A token minted for a 401 whose retry was refused too, and until when 401s with it do not refresh. */
  #futile: string | null = null;
  #futileUntil = 0;
  /** Proactive refreshes that failed in a row: the next one waits longer. */
  #proactiveFailures = 0;
  /** The token each socket link was opened with, to tell a refused token from a replaced one. */
  readonly #links = new WeakMap<SocketLink, string>();

  constructor(options: SessionOptions) {
    super();
    this.options = resolveOptions(options);
    this.#tokens = new TokenStore(this.options.clock, this.options.leeway);
    this.#key = apiKey(this.options.api);
    this.#tabs = this.options.tabSync ? new TabSync(`auth-shell:${this.#key}`, this.options.lockTimeout, this.#onTabMessage) : null;
    // Timers are throttled in background tabs and stop while the machine sleeps: re-check on wake-up.
    globalThis.addEventListener?.('online', this.#onResume);
    globalThis.addEventListener?.('pageshow', this.#onResume);
    globalThis.addEventListener?.('pagehide', this.#onHide);
    globalThis.document?.addEventListener('visibilitychange', this.#onResume);
  }

  /** See {@link connect}. */
  async [CONNECT](
    url: URL,
    param: string,
    protocols: string | string[] | undefined,
    on: LinkHandlers,
    ticket?: string,
    refused?: SocketLink,
  ): Promise<SocketLink | null> {
    // The session's own policy, whoever calls: the credential goes only where the bearer may go.
    if (!/^wss?:$/.test(url.protocol) || !this.options.bearerOrigins.has(url.origin.replace(/^ws/, 'http'))) {
      throw new UsageError(`openSocket: ${url.origin} is not an allowed origin for the token`);
    }
    const credential = ticket ?? (await this.#token(refused && this.#links.get(refused)));
    if (credential === null) return null;
    const link = openLink(url, param, credential, protocols, on);
    if (!ticket) this.#links.set(link, credential);
    return link;
  }

  /** `restoring`, `authenticated` or `anonymous`. */
  get state(): SessionState {
    return this.#snapshot.state;
  }

  /** The user (decoded claims without token bookkeeping), or `null`. Not a security decision: the server decides. */
  get user(): User | null {
    return this.#snapshot.user;
  }

  /** The current `{ state, user }`, a new frozen object after each change. */
  get snapshot(): SessionSnapshot {
    return this.#snapshot;
  }

  /** Settles once the first restore (or a login, or a logout) has decided the state. Never rejects. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * The session API as one frozen object, renewed on every change (so `Object.is` tells holders
   * when to re-render) while its functions keep their identity.
   */
  get value(): SessionValue {
    return (this.#value ??= Object.freeze({
      ...this.#snapshot,
      ready: this.#ready,
      login: this.login,
      logout: this.logout,
      authFetch: this.authFetch,
    }));
  }

  /**
   * Calls `listener` with the current snapshot now and after every change; returns the unsubscribe
   * function. Bound, so it can be passed around (e.g. to React's `useSyncExternalStore`).
   */
  subscribe = (listener: (snapshot: SessionSnapshot) => void): (() => void) => {
    const handler = (event: SessionEventMap['change']) => listener(event.detail);
    this.addEventListener('change', handler);
    listener(this.#snapshot);
    return () => this.removeEventListener('change', handler);
  };

  /**
   * Restores the session with one refresh request (the HttpOnly cookie decides). Idempotent: while a
   * restore runs, or once the state is decided, it returns the same settlement. After a restore that
   * failed at network level it tries again. Never rejects: failures end `anonymous` with an `error` event.
   */
  restore = (): Promise<void> => {
    if (this.#restoring) return this.#restoring;
    if (this.state !== 'restoring' && !this.#restoreFailed) return Promise.resolve();
    this.#restoreFailed = false;
    const epoch = this.#epoch;
    this.#step('restore', 'start');
    // A logout that never reached the server (a closed tab, a navigation) is completed first.
    return (this.#restoring = (this.#owesLogout() ? this.#settleLogout().then(() => this.#refresh('restore')) : this.#refresh('restore'))
      .then(
        () => this.#step('restore', 'success'),
        (error: AuthError) => {
          // A 401 is an answer (no session), not a failure.
          if (error instanceof UnauthenticatedError) return this.#step('restore', 'success');
          if (epoch === this.#epoch) {
            // Could not ask the server: show login, but ask again once the network is back.
            this.#restoreFailed = error instanceof NetworkError;
            this.#end();
            this.#report(error);
          }
          this.#step('restore', 'failure', { error });
        },
      )
      .finally(() => (this.#restoring = null)));
  };

  /**
   * Logs in with `POST {api}/login` and a JSON body `{login, pass}`. Resolves with the user; the
   * token stays inside the session. Rejects with {@link InvalidCredentialsError} on 401, a
   * {@link NetworkError} / `TimeoutError` when the server cannot be reached, a `ProtocolError` for
   * a malformed answer. A failed login changes nothing.
   */
  login = async (login: string, pass: string): Promise<User> => {
    if (!login || typeof login !== 'string' || typeof pass !== 'string') {
      throw new UsageError('login(login, pass) expects a non-empty login and a password string');
    }
    if (this.#disposed) throw new UsageError('this session was disposed; get a new one from getSession()');
    const requestedAt = sharedNow();
    const logouts = this.#logouts;
    this.#step('login', 'start');
    try {
      // The previous session's logout, if still owed, goes first: its refresh token must not outlive it.
      if (this.#owesLogout()) await this.#settleLogout().catch(() => {});
      const answer = await this.#send('login', JSON.stringify({ login, pass }));
      if (answer.status === 401) throw new InvalidCredentialsError(undefined, { status: 401 });
      // Only a logout after this login started makes it obsolete: one done here (counted, no clock
      // needed), or one in another tab that happened after the start (a logout still in transit
      // from before it does not count).
      if (this.#logouts !== logouts || this.#loggedOutAt > requestedAt) throw superseded('login');
      const user = this.#store(answer, 'login');
      this.#handOver(requestedAt);
      this.#epoch++;
      this.#refreshAbort?.abort(superseded('refresh'));
      this.#restoreFailed = this.#pendingLogout = false;
      markLogout(this.#key, false); // the old refresh cookie is replaced: nothing left to revoke
      this.#authenticated();
      this.#step('login', 'success');
      return user;
    } catch (error) {
      this.#step('login', 'failure', { error });
      throw error;
    }
  };

  /**
   * Ends the session. Memory is cleared first and synchronously — also offline — and a refresh
   * in flight can no longer bring the session back; then `{api}/logout` asks the server to revoke
   * the refresh cookie. Rejects (memory already cleared) when the server could not be told; the
   * request is sent again when the browser comes back online.
   */
  logout = async (): Promise<void> => {
    this.#logouts++;
    this.#endEverywhere();
    this.#pendingLogout = true;
    await this.#sendLogout();
  };

  /**
   * Gets a new access token with the refresh cookie. Single-flight: concurrent callers share one
   * request and its outcome; once it has settled the next call starts a new one. A network failure,
   * timeout or 5xx is retried with a bounded backoff and never ends the session; a 401 does.
   */
  refresh = (): Promise<void> => this.#refresh('manual');

  /** `fetch` with the session: same signature and result. See {@link createAuthFetch}. */
  readonly authFetch: AuthFetch = createAuthFetch({
    options: () => this.options,
    whenSettled: () => (this.state === 'restoring' ? this.restore() : Promise.resolve()),
    // A 401 to a token that was minted for a 401 and refused again: a refresh does not fix that
    // endpoint, so for a while such 401s are returned as they are instead of rotating again.
    token: (used) => (used !== undefined && used === this.#futile && this.options.clock() < this.#futileUntil ? Promise.resolve(null) : this.#token(used)),
    retried: (url) => this.#step('retry', 'start', { url }),
    futile: (token) => {
      this.#futile = token;
      this.#futileUntil = this.options.clock() + FUTILE_PAUSE;
    },
  });

  /**
   * Removes the session's listeners and timers. Pending work still settles, but the session will
   * not refresh on its own again. {@link getSession} forgets it, so the next provider starts afresh.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    globalThis.removeEventListener?.('online', this.#onResume);
    globalThis.removeEventListener?.('pageshow', this.#onResume);
    globalThis.removeEventListener?.('pagehide', this.#onHide);
    globalThis.document?.removeEventListener('visibilitychange', this.#onResume);
    this.#tabs?.close();
    this.dispatchEvent(new Event('dispose'));
  }

  // ---- refresh ----

  #refresh(reason: RefreshReason): Promise<void> {
    if (this.#inflight) return this.#inflight;
    const controller = (this.#refreshAbort = new AbortController());
    const run = (this.#inflight = this.#runRefresh(reason, this.#epoch, controller.signal));
    const settle = () => {
      if (this.#inflight === run) this.#inflight = this.#refreshAbort = null;
    };
    run.then(settle, settle);
    return run;
  }

  async #runRefresh(reason: RefreshReason, epoch: number, signal: AbortSignal): Promise<void> {
    const { refreshRetries, retryDelay } = this.options;
    const before = this.#tokens.token;
    this.#step('refresh', 'start', { reason });
    for (let attempt = 0; ; attempt++) {
      try {
        // Under the lock only the request and the token store: events are dispatched after it.
        const outcome = await this.#locked(async () => {
          // Another tab refreshed while this one waited: its token was handed over, no request.
          if (this.#tokens.token !== before && this.#tokens.isFresh()) return 'handed-over';
          const requestedAt = sharedNow();
          const answer = await this.#send('refresh', undefined, signal);
          if (epoch !== this.#epoch) throw superseded('refresh');
          if (answer.status === 401) {
            // The cookie is shared: the session is over in every tab.
            this.#tabs?.post({ v: 1, type: 'logout', at: (this.#loggedOutAt = sharedNow()) });
            return 'ended';
          }
          this.#store(answer, 'refresh');
          this.#handOver(requestedAt);
          return 'stored';
        }, signal);
        // A logout or login may land while the lock is being released: checked again after it.
        if (epoch !== this.#epoch) throw superseded('refresh');
        if (outcome === 'ended') {
          this.#end();
          throw new UnauthenticatedError('refresh: 401, the session is over', { status: 401, operation: 'refresh' });
        }
        this.#authenticated();
        this.#step('refresh', 'success', outcome === 'handed-over' ? { reason, source: 'tab' } : { reason });
        return;
      } catch (error) {
        if (!(error instanceof NetworkError) || signal.aborted || epoch !== this.#epoch || attempt >= refreshRetries) {
          this.#step('refresh', 'failure', { reason, error });
          throw error;
        }
        // Exponential backoff, jittered over its upper half so tabs and clients spread out; never
        // sooner than a 429's Retry-After, and a long Retry-After fails the refresh instead of
        // keeping its callers waiting.
        const retryAfter = (error instanceof RateLimitError && error.retryAfter) || 0;
        if (retryAfter > MAX_RETRY_AFTER) {
          this.#step('refresh', 'failure', { reason, error });
          throw error;
        }
        const delay = Math.max(retryDelay * 2 ** attempt * (0.5 + Math.random() / 2), retryAfter * 1000);
        this.#step('refresh', 'backoff', { reason, attempt: attempt + 1, delay, error });
        await sleep(delay, signal);
      }
    }
  }

  #locked<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#tabs ? this.#tabs.locked(work, signal) : work();
  }

  /** Gives the token just stored to the other tabs (memory to memory, same origin). */
  #handOver(requestedAt: number): void {
    const { token, lifetime } = this.#tokens;
    this.#tabs?.post({ v: 1, type: 'token', token: token!, remaining: Math.max(0, this.#tokens.remaining), lifetime, requestedAt });
  }

  /** Ends the session here and in every tab: memory first, in-flight work made obsolete. */
  #endEverywhere(): void {
    this.#epoch++;
    this.#refreshAbort?.abort(superseded('refresh'));
    this.#restoreFailed = false;
    this.#loggedOutAt = sharedNow();
    this.#tabs?.post({ v: 1, type: 'logout', at: this.#loggedOutAt });
    this.#end();
  }

  // Arrow function: passed as a callback. Another tab logged in, refreshed, or ended the session.
  #onTabMessage = (message: TabMessage): void => {
    if (this.#disposed) return;
    if (message.type === 'logout') {
      if (message.at <= this.#loggedOutAt) return;
      this.#loggedOutAt = message.at;
      this.#epoch++;
      this.#refreshAbort?.abort(superseded('refresh'));
      // The tab that ended the session told the server; nothing is pending here any more.
      this.#restoreFailed = this.#pendingLogout = false;
      const wasIn = this.state !== 'anonymous';
      this.#end();
      if (wasIn) this.#step('logout', 'success', { source: 'tab' });
      return;
    }
    // A token from a request sent before a logout we know of belongs to the ended session.
    if (message.requestedAt <= this.#loggedOutAt) return;
    try {
      this.#tokens.set(message.token, message.remaining / 1000, this.options.clock(), 'refresh', undefined, message.lifetime);
    } catch {
      return; // not a token: ignore the message
    }
    this.#restoreFailed = this.#pendingLogout = false;
    this.#authenticated();
    this.#step('refresh', 'success', { source: 'tab' });
  };

  // Arrow function: a listener. A refresh must not hold the cross-tab lock while the page sleeps in
  // the back/forward cache: abort it (its callers get a NetworkError; pageshow re-checks).
  #onHide = (): void => {
    this.#refreshAbort?.abort(new NetworkError('refresh: the page was hidden', { operation: 'refresh' }));
  };

  /**
   * For authFetch: a token fit to send (refreshed first when stale), or — after a 401 answered to
   * `used` — the token to retry with, refreshing unless someone already did. `null` without a session.
   */
  async #token(used?: string): Promise<string | null> {
    const tokens = this.#tokens;
    if (this.state !== 'authenticated') return null;
    if (tokens.isFresh() && tokens.token !== used) return tokens.token;
    try {
      await this.#refresh(used ? 'unauthorized' : 'expiry');
    } catch (error) {
      if (error instanceof UnauthenticatedError) return null;
      // The refresh could not reach the server, but a stale token that has not expired still works.
      if (used || !tokens.isUnexpired()) throw error;
    }
    return tokens.token;
  }

  // ---- state ----

  #authenticated(): void {
    this.#setSnapshot('authenticated', this.#tokens.user);
    this.#schedule();
  }

  /**
   * Proactive refresh when the token turns stale. Only a hint: throttled timers are backed by the
   * checks on resume and in authFetch. Rounded up, because timers may fire a fraction of a
   * millisecond early; a timer that still finds the token fresh schedules itself again.
   */
  #schedule(due = this.#tokens.staleAt - this.options.clock()): void {
    clearTimeout(this.#timer);
    if (!this.#disposed && due < Infinity) {
      this.#timer = setTimeout(() => this.#freshen('expiry'), Math.min(Math.max(0, Math.ceil(due) + 1), MAX_TIMEOUT));
    }
  }

  /** Clears memory: token, user, timers. */
  #end(): void {
    clearTimeout(this.#timer);
    this.#tokens.clear();
    this.#setSnapshot('anonymous', null);
  }

  #setSnapshot(state: SessionState, user: User | null): void {
    if (state === this.#snapshot.state && user === this.#snapshot.user) return;
    this.#snapshot = Object.freeze({ state, user });
    this.#value = null;
    this.#resolveReady();
    this.dispatchEvent(new CustomEvent('change', { detail: this.#snapshot }));
  }

  #freshen(reason: RefreshReason): void {
    if (this.#disposed || this.state !== 'authenticated') return;
    if (this.#tokens.isFresh()) return void (reason === 'expiry' && this.#schedule());
    this.#refresh(reason).then(
      () => (this.#proactiveFailures = 0),
      (error: AuthError) => {
        if (error instanceof UnauthenticatedError) return;
        this.#report(error);
        // Try again later, each failure waiting twice as long: never a storm, never giving up.
        if (this.state === 'authenticated') {
          this.#schedule(Math.min(MIN_FRESH * 2 ** this.#proactiveFailures++, MAX_PROACTIVE_BACKOFF));
        }
      },
    );
  }

  // Arrow function: the same identity is added and removed as a listener.
  #onResume = (event: Event): void => {
    if (this.#disposed || (event.type === 'visibilitychange' && globalThis.document?.visibilityState !== 'visible')) return;
    if (this.#pendingLogout && this.state === 'anonymous') this.#sendLogout().catch(() => {});
    else if (this.#restoreFailed) void this.restore();
    else this.#freshen('resume');
  };

  // ---- requests ----

  async #sendLogout(): Promise<void> {
    const epoch = this.#epoch;
    this.#step('logout', 'start');
    try {
      // A 401 means the server no longer knows the session, which is what logout wants.
      await this.#send('logout');
      this.#step('logout', 'success');
    } catch (error) {
      // Not heard by the server (offline, 5xx): owed, also to the next page of this origin. Any
      // other answer (a 403, a 405) will not change by asking again.
      if (!(error instanceof NetworkError)) this.#logoutSettled(epoch);
      else if (epoch === this.#epoch) markLogout(this.#key, true);
      this.#step('logout', 'failure', { error });
      throw error;
    }
    this.#logoutSettled(epoch);
  }

  #logoutSettled(epoch: number): void {
    // A login since then has its own session: its state is not ours to change.
    if (epoch !== this.#epoch) return;
    this.#pendingLogout = false;
    markLogout(this.#key, false);
  }

  /** A logout is owed to the server: from this page, or one a previous page of this origin could not send. */
  #owesLogout(): boolean {
    return this.#pendingLogout || logoutPending(this.#key);
  }

  /** Sends the owed logout before a restore or login; only a network failure stops them. */
  #settleLogout(): Promise<void> {
    return this.#sendLogout().catch((error: unknown) => {
      if (error instanceof NetworkError) throw error;
    });
  }

  /** One request to a session endpoint. Resolves for 2xx and 401; other statuses become typed errors. */
  async #send(operation: 'login' | 'refresh' | 'logout', body?: string, signal?: AbortSignal): Promise<Exchange> {
    const { csrfHeader, timeout, clock } = this.options;
    const url = this.options[`${operation}Url`];
    const method = operation === 'login' ? 'POST' : this.options[`${operation}Method`];
    const headers: Record<string, string> = body ? { 'Content-Type': 'application/json' } : {};
    if (csrfHeader) headers[csrfHeader[0]] = csrfHeader[1];
    // keepalive: a logout survives the navigation or the closing tab that often follows it.
    const init: RequestInit = { method, headers, body, credentials: 'include', keepalive: operation === 'logout' };
    const answer = await exchange(url, init, { operation, timeout, clock, signal });
    const { status } = answer;
    if (status === 401 || (status >= 200 && status < 300)) return answer;
    const message = `${operation}: ${method} ${url} answered ${status}`;
    throw isTransient(status) ? transientError(message, status, answer.headers, operation) : new HttpError(message, { status, operation });
  }

  /** Stores the token of a token response; a malformed one throws ProtocolError and changes nothing. */
  #store(answer: Exchange, operation: 'login' | 'refresh'): User {
    const { accessToken, expiresIn } = parseTokenBody(answer.text, operation);
    return this.#tokens.set(accessToken, expiresIn, answer.receivedAt, operation, serverDate(answer.headers));
  }

  #step(kind: Activity['kind'], phase: Activity['phase'], extra?: Omit<Partial<Activity>, 'error'> & { error?: unknown }): void {
    this.dispatchEvent(new CustomEvent('activity', { detail: Object.freeze({ kind, phase, ...extra }) as Activity }));
  }

  #report(error: AuthError): void {
    this.dispatchEvent(new CustomEvent('error', { detail: Object.freeze({ error }) }));
  }
}

// Typed listeners for the session's events.
export interface Session {
  addEventListener<K extends keyof SessionEventMap>(
    type: K,
    listener: (event: SessionEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SessionEventMap>(
    type: K,
    listener: (event: SessionEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** Creates a session that is not shared with anyone. Most pages want {@link getSession} instead. */
export function createSession(options: SessionOptions): Session {
  return new Session(options);
}

/** The error of work that a logout or a login made obsolete. */
const superseded = (operation: 'login' | 'refresh') =>
  new UnauthenticatedError(`${operation}: superseded by a logout or login`, { operation });

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
