import { logSteps } from './debug.js';
import { AuthError, InvalidCredentialsError, NetworkError, UnauthenticatedError, UsageError } from './errors.js';
import type { Activity, RefreshReason, SessionEventMap, SessionSnapshot, SessionState } from './events.js';
import { createAuthFetch, type AuthFetch } from './fetch.js';
import { exchange, parseTokenBody, serverDate, statusError, type Exchange } from './http.js';
import { openLink, type LinkHandlers, type SocketLink } from './link.js';
import { apiKey, resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { logoutPending, markLogout } from './pending-logout.js';
import { Refresher, type RefreshOutcome } from './refresher.js';
import { TabSync, sharedNow, type Offer, type TokenMessage } from './tab-sync.js';
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

/**
 * What moves a session between its three states, from whichever state it is in:
 *
 * | cause         | what happened                                                        | state           |
 * |---------------|----------------------------------------------------------------------|-----------------|
 * | `stored`      | a token was stored: login, refresh, restore, another tab's hand-over | `authenticated` |
 * | `ended`       | the server answered 401 to a refresh (the session is over), or a restore failed for good | `anonymous` |
 * | `logout`      | `logout()` here, or another tab's                                    | `anonymous`     |
 * | `unreachable` | the restore could not ask the server (asked again when back online)  | `anonymous`     |
 *
 * Invariants, kept by {@link Session.#enter}, the one place `state` changes:
 * - `authenticated` ⇔ the token store holds a token.
 * - `ready` settles once the state is decided: when the restore has finished (after its closing
 *   activity), or at the first change of state when no restore runs (a login, a logout).
 * - The proactive timer runs only while `authenticated`.
 * - Work owed to the server (a restore after a network failure, a logout it has not heard) exists
 *   only while `anonymous`.
 * - Work started before a logout or login (a refresh, a restore, a login) never changes the state:
 *   {@link Session.#supersede} bumps the epoch and aborts the refresh in flight, and every such
 *   work checks the epoch (or its abort signal) after each wait.
 */
export const TRANSITIONS = {
  stored: 'authenticated',
  ended: 'anonymous',
  logout: 'anonymous',
  unreachable: 'anonymous',
} as const satisfies Record<string, SessionState>;

/** A cause of {@link TRANSITIONS}. */
export type Cause = keyof typeof TRANSITIONS;

const MAX_TIMEOUT = 2 ** 31 - 1;
/** How long 401s do not refresh once a token minted for a 401 was refused too (a refresh does not fix that endpoint). */
const FUTILE_PAUSE = 30_000;
/** Longest pause between proactive refreshes that keep failing (they back off from MIN_FRESH). */
const MAX_PROACTIVE_BACKOFF = 60_000;

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
 * One browser session against one auth API: the states `restoring → authenticated | anonymous`
 * (see {@link TRANSITIONS}), login, logout, a single-flight refresh, proactive refresh and
 * `authFetch`.
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
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types addEventListener
export class Session extends EventTarget {
  /** The validated options, defaults filled in. */
  readonly options: ResolvedOptions;

  readonly #tokens: TokenStore;
  readonly #refresher: Refresher;
  /** The other tabs: a lock around refresh, tokens and logouts handed over. `null` with `tabSync: false`. */
  readonly #tabs: TabSync | null;
  /** The api's canonical key: the tab channel's name and the pending-logout mark's. */
  readonly #key: string;
  #snapshot: SessionSnapshot = Object.freeze({ state: 'restoring', user: null });
  #value: SessionValue | null = null;
  #resolveReady!: () => void;
  readonly #ready = new Promise<void>((resolve) => (this.#resolveReady = resolve));
  #restoring: Promise<void> | null = null;
  /** Work owed to the server while anonymous: a restore that could not reach it, a logout it has not heard. */
  #owed: 'restore' | 'logout' | null = null;
  /** Bumped by login and logout: work started under an older epoch must not touch the session. */
  #epoch = 0;
  /** Logouts done in this session: a login in flight across one of them is obsolete, whatever the clocks say. */
  #logouts = 0;
  /** The logout request in flight. */
  #loggingOut: Promise<void> | null = null;
  /** {@link sharedNow} when the request that got the current token was sent (told to the other tabs). */
  #requestedAt = 0;
  /** The proactive refresh; only while authenticated. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Proactive refreshes that failed in a row: the next one waits longer. */
  #proactiveFailures = 0;
  /** A token minted for a 401 whose retry was refused too, and until when 401s with it do not refresh. */
  #futile: string | null = null;
  #futileUntil = 0;
  #disposed = false;
  /** A session on a server (see {@link getSession}): it stays `restoring`, and does nothing on its own. */
  readonly #inert: boolean;
  /** The token each socket link was opened with, to tell a refused token from a replaced one. */
  readonly #links = new WeakMap<SocketLink, string>();

  /**
   * @param inert for {@link getSession} on a server only: a session that never restores, opens no
   *   channel, sets no timer and adds no listener — nothing that could keep a process alive.
   */
  constructor(options: SessionOptions, inert = false) {
    super();
    this.#inert = inert;
    this.options = resolveOptions(options);
    this.#tokens = new TokenStore(this.options.clock, this.options.leeway);
    this.#key = apiKey(this.options.api);
    this.#refresher = new Refresher(
      this.#attempt,
      () => ({ retries: this.options.refreshRetries, delay: this.options.retryDelay }),
      (phase, extra) => this.#step('refresh', phase, extra),
    );
    if (this.options.debug) logSteps(this);
    this.#tabs =
      this.options.tabSync && !inert
        ? new TabSync(`auth-shell:${this.#key}`, this.options.lockTimeout, {
            token: this.#onTabToken,
            logout: this.#onTabLogout,
            offer: this.#offer,
          })
        : null;
    // On a server the state is the browser's to decide: settled, and left `restoring`.
    if (inert) this.#resolveReady();
    // Timers are throttled in background tabs and stop while the machine sleeps: re-check on wake-up.
    else this.#listen('addEventListener');
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
   * Restores the session: from another tab of this browser that holds a fresh token (memory to
   * memory, no request), else with one refresh request (the HttpOnly cookie decides). Idempotent:
   * while a restore runs, or once the state is decided, it returns the same settlement. After a
   * restore that failed at network level it tries again. Never rejects: failures end `anonymous`
   * with an `error` event.
   */
  restore = (): Promise<void> => {
    if (this.#restoring) return this.#restoring;
    if (this.#inert) return this.#ready;
    if (this.state !== 'restoring' && this.#owed !== 'restore') return Promise.resolve();
    const epoch = this.#epoch;
    this.#step('restore', 'start');
    return (this.#restoring = this.#restoreFrom(epoch)
      .then(
        (source) => this.#step('restore', 'success', source ? { source } : undefined),
        (error: AuthError) => {
          // A 401 is an answer (no session), not a failure.
          if (error instanceof UnauthenticatedError) return this.#step('restore', 'success');
          if (epoch === this.#epoch) {
            // Could not ask the server: show login, but ask again once the network is back.
            this.#enter(error instanceof NetworkError ? 'unreachable' : 'ended');
            this.#report(error);
          }
          this.#step('restore', 'failure', { error });
        },
      )
      .finally(() => {
        this.#restoring = null;
        this.#resolveReady();
      }));
  };

  /**
   * Logs in with `POST {api}/login` and a JSON body `{login, pass}`. Resolves with the user; the
   * token stays inside the session. Rejects with {@link InvalidCredentialsError} on 401, a
   * {@link NetworkError} / `TimeoutError` / `RateLimitError` when the server cannot be reached or
   * throttles, a `ProtocolError` for a malformed answer. A failed login changes nothing.
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
      if (this.#owed === 'logout' || logoutPending(this.#key)) await this.#settleLogout().catch(() => {});
      const answer = await this.#send('login', JSON.stringify({ login, pass }));
      if (answer.status === 401) throw new InvalidCredentialsError(undefined, { status: 401 });
      // Only a logout after this login started makes it obsolete: one done here (counted, no clock
      // needed), or one in another tab that happened after the start (a logout still in transit
      // from before it does not count).
      if (this.#logouts !== logouts || this.#tabs?.loggedOutSince(requestedAt)) throw superseded('login');
      const user = this.#store(answer, 'login');
      this.#supersede();
      this.#handOver(requestedAt);
      markLogout(this.#key, false); // the old refresh cookie is replaced: nothing left to revoke
      this.#enter('stored');
      this.#step('login', 'success');
      return user;
    } catch (error) {
      this.#step('login', 'failure', { error });
      throw error;
    }
  };

  /**
   * Ends the session. Memory is cleared first and synchronously — also offline — and a refresh or
   * login in flight can no longer bring the session back; then `{api}/logout` asks the server to
   * revoke the refresh cookie. Rejects (memory already cleared) when the server could not be told;
   * the request is sent again when the browser comes back online, or by the next page.
   */
  logout = async (): Promise<void> => {
    this.#logouts++;
    this.#supersede();
    this.#tabs?.logout();
    this.#enter('logout');
    await this.#sendLogout();
  };

  /**
   * Gets a new access token with the refresh cookie. Single-flight: concurrent callers share one
   * request and its outcome; once it has settled the next call starts a new one. A network failure,
   * timeout or 5xx is retried with a bounded backoff and never ends the session; a 401 does.
   */
  refresh = async (): Promise<void> => {
    // An owed logout first: its refresh cookie must not bring the session back.
    if (this.#owed === 'logout') await this.#settleLogout();
    return this.#refresh('manual');
  };

  /** `fetch` with the session: same signature and result. See {@link createAuthFetch}. */
  readonly authFetch: AuthFetch = createAuthFetch({
    options: () => this.options,
    whenSettled: () => (this.state === 'restoring' ? this.restore() : Promise.resolve()),
    // A 401 to a token that was minted for a 401 and refused again: a refresh does not fix that
    // endpoint, so for a while such 401s are returned as they are instead of rotating again.
    token: (used, refreshed) =>
      used !== undefined && used === this.#futile && this.options.clock() < this.#futileUntil
        ? Promise.resolve(null)
        : this.#token(used, refreshed),
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
    this.#listen('removeEventListener');
    this.#tabs?.close();
    this.dispatchEvent(new Event('dispose'));
  }

  // ---- state ----

  /**
   * The one place the state changes (see {@link TRANSITIONS}): `stored` makes the session
   * authenticated with the stored token's user and starts the proactive timer; every other cause
   * clears memory and the timer. Owed work is recorded by `unreachable` (a restore) and `logout`
   * (until the server confirms it), and settled by any other cause.
   */
  #enter(cause: Cause): void {
    const state = TRANSITIONS[cause];
    clearTimeout(this.#timer);
    this.#owed = cause === 'logout' ? 'logout' : cause === 'unreachable' ? 'restore' : null;
    if (state === 'authenticated') this.#schedule();
    else this.#tokens.clear();
    const user = this.#tokens.user;
    if (state === this.#snapshot.state && user === this.#snapshot.user) return;
    this.#snapshot = Object.freeze({ state, user });
    this.#value = null;
    if (!this.#restoring) this.#resolveReady();
    this.dispatchEvent(new CustomEvent('change', { detail: this.#snapshot }));
  }

  /** Makes every refresh, restore and login in flight obsolete: a logout or login happened. */
  #supersede(): void {
    this.#epoch++;
    this.#refresher.abort(superseded('refresh'));
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

  /** Adds or removes the page listeners: wake-ups re-check the session, `pagehide` aborts a refresh. */
  #listen(method: 'addEventListener' | 'removeEventListener'): void {
    for (const type of ['online', 'pageshow']) globalThis[method]?.(type, this.#onResume);
    globalThis[method]?.('pagehide', this.#onHide);
    globalThis.document?.[method]('visibilitychange', this.#onResume);
  }

  // Arrow function: the same identity is added and removed as a listener.
  #onResume = (event: Event): void => {
    if (this.#disposed || (event.type === 'visibilitychange' && globalThis.document?.visibilityState !== 'visible'))
      return;
    if (this.#owed === 'logout') this.#sendLogout().catch(() => {});
    else if (this.#owed === 'restore') void this.restore();
    else this.#freshen('resume');
  };

  // Arrow function: a listener. A refresh must not hold the cross-tab lock while the page sleeps in
  // the back/forward cache: abort it (its callers get a NetworkError; pageshow re-checks).
  #onHide = (): void =>
    this.#refresher.abort(new NetworkError('refresh: the page was hidden', { operation: 'refresh' }));

  // ---- the other tabs ----

  // Arrow functions: passed as callbacks.
  #onTabToken = (message: TokenMessage): void => {
    if (this.#disposed) return;
    try {
      this.#tokens.set(
        message.token,
        message.remaining / 1000,
        this.options.clock(),
        'refresh',
        undefined,
        message.lifetime,
      );
    } catch {
      return; // not a token: ignore the message
    }
    this.#requestedAt = message.requestedAt;
    this.#enter('stored');
    this.#step('refresh', 'success', { source: 'tab' });
  };

  #onTabLogout = (): void => {
    if (this.#disposed) return;
    this.#supersede();
    const wasIn = this.state !== 'anonymous';
    this.#enter('logout');
    // The tab that ended the session told the server: nothing is owed here.
    this.#owed = null;
    if (wasIn) this.#step('logout', 'success', { source: 'tab' });
  };

  /** Gives the token just stored to the other tabs (memory to memory, same origin). */
  #handOver(requestedAt: number): void {
    this.#requestedAt = requestedAt;
    this.#tabs?.handOver(this.#held());
  }

  /** The token held, for the other tabs. */
  #held(): Offer {
    const { token, lifetime, remaining } = this.#tokens;
    return { token: token!, remaining: Math.max(0, remaining), lifetime, requestedAt: this.#requestedAt };
  }

  // Arrow function: a callback. What this tab offers a new one: its token, only while it is fresh
  // and no refresh is replacing it.
  #offer = (): Offer | null => (this.#tokens.isFresh() && !this.#refresher.busy ? this.#held() : null);

  /** Where a restore gets its answer: from another tab, or one refresh request; `'tab'` for the former. */
  async #restoreFrom(epoch: number): Promise<'tab' | undefined> {
    // A logout that never reached the server (a closed tab, a navigation) is completed first.
    if (this.#owed === 'logout' || logoutPending(this.#key)) await this.#settleLogout();
    else if (await this.#fromTabs(epoch)) return 'tab';
    // Superseded while asking (a login or logout decided the state): no request any more.
    else if (epoch !== this.#epoch) return;
    await this.#refresh('restore');
  }

  /**
   * Asks the other tabs for their token before the restore goes to the network; `true` once one
   * was adopted (validated like any hand-over; a logout any tab has seen wins over it).
   */
  async #fromTabs(epoch: number): Promise<boolean> {
    const message = await this.#tabs?.ask();
    if (!message || epoch !== this.#epoch) return false;
    this.#onTabToken(message);
    return this.state === 'authenticated';
  }

  // ---- refresh ----

  /**
   * A token fit to send (refreshed first when stale), or — after a 401 answered to `used` — the token
   * to retry with, refreshing unless someone already did. `null` without a session.
   */
  async #token(used?: string, refreshed?: (error?: unknown) => void): Promise<string | null> {
    const tokens = this.#tokens;
    if (this.state !== 'authenticated') return null;
    if (tokens.isFresh() && tokens.token !== used) return tokens.token;
    try {
      await this.#refresh(used ? 'unauthorized' : 'expiry');
      refreshed?.();
    } catch (error) {
      if (error instanceof UnauthenticatedError) return null;
      // The refresh could not reach the server, but a stale token that has not expired still works.
      if (used || !tokens.isUnexpired()) throw error;
      refreshed?.(error);
    }
    return tokens.token;
  }

  /** A refresh (or the one in flight); the state follows its outcome (see {@link Session.#attempt}). */
  async #refresh(reason: RefreshReason): Promise<void> {
    await this.#refresher.run(reason);
  }

  /**
   * One refresh attempt, under the cross-tab lock: only the request and the token store run while
   * it is held; the state changes (and their events) once it is released — unless a logout or
   * login made the attempt obsolete meanwhile (the refresher checks its signal after the lock).
   */
  // Arrow function: handed to the refresher.
  #attempt = async (signal: AbortSignal): Promise<RefreshOutcome> => {
    const before = this.#tokens.token;
    const outcome = await this.#locked(async (): Promise<RefreshOutcome | 'ended'> => {
      // Another tab refreshed while this one waited: its token was handed over, no request.
      if (this.#tokens.token !== before && this.#tokens.isFresh()) return 'handed-over';
      const requestedAt = sharedNow();
      const answer = await this.#send('refresh', undefined, signal);
      signal.throwIfAborted();
      if (answer.status === 401) {
        // The cookie is shared: the session is over in every tab.
        this.#tabs?.logout();
        return 'ended';
      }
      this.#store(answer, 'refresh');
      this.#handOver(requestedAt);
      return 'stored';
    }, signal);
    // A logout or login may land while the lock is being released: checked again after it.
    signal.throwIfAborted();
    if (outcome === 'ended') {
      this.#enter('ended');
      throw new UnauthenticatedError('refresh: 401, the session is over', { status: 401, operation: 'refresh' });
    }
    this.#enter('stored');
    return outcome;
  };

  #locked<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#tabs ? this.#tabs.locked(work, signal) : work();
  }

  // ---- requests ----

  /**
   * Sends the logout request, or joins the one in flight: a login must not overtake it, or the
   * logout's answer — which expires the refresh cookie — could arrive after the login's and wipe
   * the new session's cookie.
   */
  #sendLogout(): Promise<void> {
    return (this.#loggingOut ??= this.#logoutRequest().finally(() => (this.#loggingOut = null)));
  }

  async #logoutRequest(): Promise<void> {
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
    if (this.#owed === 'logout') this.#owed = null;
    markLogout(this.#key, false);
  }

  /** Sends the owed logout before a restore or login; only a network failure stops them. */
  #settleLogout(): Promise<void> {
    return this.#sendLogout().catch((error: unknown) => {
      if (error instanceof NetworkError) throw error;
    });
  }

  /** One request to a session endpoint. Resolves for 2xx and 401; other statuses become typed errors. */
  async #send(operation: 'login' | 'refresh' | 'logout', body?: string, signal?: AbortSignal): Promise<Exchange> {
    if (this.#inert)
      throw new UsageError(`${operation}: there is no browser session on a server; it starts in the browser`);
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
    throw statusError(message, status, answer.headers, operation);
  }

  /** Stores the token of a token response; a malformed one throws ProtocolError and changes nothing. */
  #store(answer: Exchange, operation: 'login' | 'refresh'): User {
    const { accessToken, expiresIn } = parseTokenBody(answer.text, operation);
    return this.#tokens.set(accessToken, expiresIn, answer.receivedAt, operation, serverDate(answer.headers));
  }

  #step(
    kind: Activity['kind'],
    phase: Activity['phase'],
    extra?: Omit<Partial<Activity>, 'error'> & { error?: unknown },
  ): void {
    this.dispatchEvent(new CustomEvent('activity', { detail: Object.freeze({ kind, phase, ...extra }) as Activity }));
  }

  #report(error: AuthError): void {
    this.dispatchEvent(new CustomEvent('error', { detail: Object.freeze({ error }) }));
  }
}

// Typed listeners for the session's events.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- types the class's own listeners
export interface Session {
  addEventListener<K extends keyof SessionEventMap>(
    type: K,
    listener: (event: SessionEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof SessionEventMap>(
    type: K,
    listener: (event: SessionEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Creates a session that is not shared with anyone. Most pages want {@link getSession} instead. */
export function createSession(options: SessionOptions): Session {
  return new Session(options);
}

/** The error of work that a logout or a login made obsolete. */
const superseded = (operation: 'login' | 'refresh') =>
  new UnauthenticatedError(`${operation}: superseded by a logout or login`, { operation });
