import { Courier } from './courier.js';
import { logSteps } from './debug.js';
import { DEV } from './dev.js';
import {
  AuthError,
  CodeRequiredError,
  InvalidCredentialsError,
  NetworkError,
  UnauthenticatedError,
  UsageError,
} from './errors.js';
import type {
  Activity,
  RefreshReason,
  SessionEventMap,
  SessionSnapshot,
  SessionState,
  TypedEventTarget,
} from './events.js';
import { createAuthFetch, type AuthFetch } from './fetch.js';
import { Freshness } from './freshness.js';
import { errorOf, parseTokenBody, request, serverDate, setup, type Endpoint, type Exchange } from './http.js';
import { initial, transition, type Effect, type SessionEvent, type SessionRecord } from './machine.js';
import { apiKey, resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { Refresher, type RefreshOutcome } from './refresher.js';
import { markSidSeen, readSid, sidSeen } from './sid.js';
import { CONNECT, socketHook } from './socket-hook.js';
import { sharedNow } from './shared-clock.js';
import { TabSync, type Offer, type TokenMessage } from './tab-sync.js';
import { TokenStore, parseToken, type ParsedToken, type User } from './token-store.js';

/** The fields of a login body, sent as JSON: `{ email, password }`, `{ username, password, otp }`. */
export type LoginFields = Readonly<Record<string, string | number | boolean>>;

/**
 * `login(login, pass, extra?)` posts `{ [loginFields[0]]: login, [loginFields[1]]: pass, ...extra }`
 * (by default `{ login, pass }`); `login(fields)` posts `fields` as they are.
 */
export interface Login {
  (login: string, pass: string, extra?: LoginFields): Promise<User>;
  (fields: LoginFields): Promise<User>;
}

/** The session API as one value: what `session.value` gives and the context value builds on. */
export interface SessionValue extends SessionSnapshot {
  /** Settles (never rejects) once the restore on load has settled: what a route loader awaits. */
  readonly ready: Promise<void>;
  /**
   * Logs in; resolves with the user. Rejects with a typed error, e.g. `invalid-credentials`, or
   * `code-required` when the server asks for a one-time code (log in again with it in `extra`).
   */
  readonly login: Login;
  /** Clears the session in memory at once, then tells the server. */
  readonly logout: () => Promise<void>;
  /** `fetch` with the bearer token for allowed origins, refresh on staleness and one retry on 401. */
  readonly authFetch: AuthFetch;
}

/**
 * Sets the options of a session a lookup made (see {@link getSession}), before anything happened;
 * for the registry only. Does nothing to a session whose options are final.
 */
export let configure: (session: Session, options: SessionOptions) => void;

/**
 * One browser session against one auth API: the states `restoring → authenticated | anonymous`,
 * login, logout, a single-flight refresh, proactive refresh and `authFetch`.
 *
 * This class is the wiring: its rules are the pure machine of machine.ts (every state change is a
 * `transition`), and what the machine decides is carried out by small modules — the token store,
 * the refresher, freshness (the proactive timer and the page's wake-ups), the logout courier, the
 * tab link and the socket hook.
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
export class Session extends (EventTarget as new () => TypedEventTarget<SessionEventMap>) {
  #options!: ResolvedOptions;
  /** Where the bearer may go: private, so no script can add to it (`options.bearerOrigins` is a copy). */
  #origins!: ReadonlySet<string>;
  #record: SessionRecord<User> = initial();
  #snapshot: SessionSnapshot = Object.freeze({ state: 'restoring', user: null });
  #value: SessionValue | null = null;
  #resolveReady!: () => void;
  readonly #ready = new Promise<void>((resolve) => (this.#resolveReady = resolve));
  #restoring: Promise<void> | null = null;
  #tokens!: TokenStore;
  #refresher!: Refresher;
  #fresh!: Freshness;
  #courier!: Courier;
  /** The other tabs: a lock around refresh, login and logout; tokens and logouts handed over. `null` with `tabSync: false`. */
  #tabs!: TabSync | null;
  /** A session on a server (see {@link getSession}): it stays `restoring`, and does nothing on its own. */
  readonly #inert: boolean;
  /** Settles once the options are final; `null` once they are. */
  #configured: Promise<void> | null = null;
  #configure: ((options: SessionOptions) => void) | null = null;

  static {
    configure = (session, options) => session.#configure?.(options);
  }

  /**
   * @param inert for {@link getSession} on a server only: a session that never restores, opens no
   *   channel, sets no timer and adds no listener — nothing that could keep a process alive.
   * @param provisional for {@link getSession} only: a session a lookup made, whose options a
   *   declaration may still set (see `configure`); its calls wait for that.
   */
  constructor(options: SessionOptions, inert = false, provisional = false) {
    super();
    this.#inert = inert;
    this.#setup(resolveOptions(options));
    if (provisional) {
      this.#configured = new Promise<void>(
        (done) =>
          (this.#configure = (final) => {
            this.#setup(resolveOptions(final));
            this.#configured = this.#configure = null;
            done();
          }),
      );
    }
    // On a server the state is the browser's to decide: settled, and left `restoring`.
    if (inert) this.#resolveReady();
    // Its functions cannot be swapped (a script that replaced `login` would be handed passwords).
    for (const name of ['login', 'logout', 'refresh', 'restore', 'authFetch', 'subscribe', CONNECT] as const)
      Object.defineProperty(this, name, { writable: false, configurable: false });
  }

  /** The validated options, defaults filled in; frozen (see `ResolvedOptions`). */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** Builds what the options decide (again, for a provisional session configured by a declaration). */
  #setup(options: ResolvedOptions): void {
    this.#tabs?.close();
    this.#fresh?.listen('removeEventListener');
    this.#options = options;
    this.#origins = options.bearerOrigins;
    const inert = this.#inert;
    const key = apiKey(options.api);
    const tokens = (this.#tokens = new TokenStore(options.clock, options.leeway));
    const refresher = (this.#refresher = new Refresher({
      attempt: this.#attempt,
      policy: () => ({ retries: options.refreshRetries, delay: options.retryDelay, timeout: options.timeout }),
      report: (phase, extra) => this.#step('refresh', phase, extra),
      tell: (outage) => this.#tabs?.outage(outage),
    }));
    if (options.debug) logSteps(this, options.api.href);
    const tabs = (this.#tabs =
      options.tabSync && !inert
        ? new TabSync(`auth-shell:${key}`, options.lockTimeout, {
            token: this.#adopt,
            logout: (sid, at) => {
              const before = this.#record.state;
              this.#dispatch({ type: 'told', sid, at });
              if (before !== this.#record.state) this.#step('logout', 'success', { source: 'tab' });
            },
            offer: this.#offer,
            outage: (outage) => refresher.heard(outage),
          })
        : null);
    this.#fresh = new Freshness(tokens, options.clock, {
      authenticated: () => this.#record.state === 'authenticated',
      due: () => refresher.outage.until - sharedNow(),
      refresh: (reason) => this.#refresh(reason),
      wake: () => this.#dispatch({ type: 'wake' }),
      // A refresh must not hold the cross-tab lock while the page sleeps in the back/forward cache:
      // abort it (its callers get a NetworkError; pageshow re-checks).
      hide: () => this.#refresher.abort(new NetworkError('refresh: the page was hidden', { operation: 'refresh' })),
      report: (error) => this.#report(error),
    });
    this.#courier = new Courier(key, options.sidCookie, options.timeout, tabs, {
      gen: () => this.#record.gen,
      send: () => this.#send('logout'),
      heard: (gen) => this.#dispatch({ type: 'heard', gen }),
      lost: (gen, sid) => this.#dispatch({ type: 'lost', gen, sid }),
      step: (phase, extra) => this.#step('logout', phase, extra),
    });
    if (!inert) this.#fresh.listen('addEventListener');
  }

  /** The socket hook (see socket-hook.ts): connections to allowed origins, never the token. */
  readonly [CONNECT] = socketHook(
    (origin) => this.#origins.has(origin),
    async (used) => (await this.#settled(), this.#token(used)),
  );

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
   * Restores the session: from another tab of this browser that holds a fresh token of the session
   * the session-id cookie names (memory to memory, no request), else with one refresh request (the
   * HttpOnly cookie decides). Idempotent: while a restore runs, or once the state is decided, it
   * returns the same settlement. After a restore that failed at network level it tries again.
   * Never rejects: failures end `anonymous` with an `error` event.
   */
  restore = (): Promise<void> => {
    if (this.#inert) return this.#ready;
    if (this.#configured) return this.#configured.then(this.restore);
    if (!this.#restoring) {
      // The session hint: the backend sets the session-id cookie with the refresh cookie, and there is
      // none — no session to ask for (and no red 401 in the console of a first visit).
      const { sessionHint, sidCookie, api } = this.#options;
      const absent =
        !!sidCookie &&
        (sessionHint ?? sidSeen(apiKey(api))) &&
        this.#cookie() === '' &&
        this.#record.owed !== 'logout' &&
        !this.#courier.owes();
      if (this.#dispatch({ type: 'restore', absent }) && absent) {
        this.#step('restore', 'start');
        this.#step('restore', 'success', { source: 'hint' });
      }
    }
    return this.#restoring ?? Promise.resolve();
  };

  /**
   * Logs in with `POST {api}/login` and a JSON body `{login, pass}`. Resolves with the user; the
   * token stays inside the session. Rejects with {@link InvalidCredentialsError} on 401, a
   * {@link NetworkError} / `TimeoutError` / `RateLimitError` when the server cannot be reached or
   * throttles, a `ProtocolError` for a malformed answer. A failed login changes nothing.
   */
  login: Login = async (login: string | LoginFields, pass?: string, extra?: LoginFields): Promise<User> => {
    const object = (value: unknown): value is LoginFields =>
      typeof value === 'object' && value !== null && !Array.isArray(value);
    if (
      object(login)
        ? Object.keys(login).length === 0
        : !login || typeof login !== 'string' || typeof pass !== 'string' || (extra !== undefined && !object(extra))
    ) {
      throw new UsageError(
        DEV
          ? 'login expects (login, pass) — a non-empty login and a password string, and optionally an object of more fields — or one object of fields'
          : 'login: bad arguments',
      );
    }
    if (this.#record.disposed)
      throw new UsageError(DEV ? 'this session was disposed; get a new one from getSession()' : 'login: disposed');
    if (this.#configured) await this.#configured;
    const gen = this.#record.gen;
    this.#step('login', 'start');
    try {
      // The previous session's logout, if still owed, goes first: its refresh token must not outlive it.
      if (this.#record.owed === 'logout' || this.#courier.owes()) await this.#courier.settle().catch(() => {});
      // Under the lock: no refresh or logout of another tab runs meanwhile, and one announced
      // before has had its answer (see TabSync.locked).
      const parsed = await this.#locked(async () => {
        const requestedAt = sharedNow();
        const [id, secret] = this.#options.loginFields;
        const body = typeof login === 'object' ? login : { [id]: login, [secret]: pass!, ...extra };
        const answer = await this.#send('login', JSON.stringify(body));
        if (answer.status === 401) {
          // The server wants a second factor: the same credentials again, with the code.
          if (/^(otp|mfa|totp|code)_required$/.test(errorOf(answer.text)))
            throw new CodeRequiredError(
              this.#options.codeField,
              `${answer.where}: the server asks for a one-time code`,
              {
                status: 401,
              },
            );
          throw new InvalidCredentialsError(undefined, { status: 401 });
        }
        const parsed = this.#parse(answer, 'login', requestedAt);
        // To the other tabs before the lock is released — unless a logout here made it obsolete.
        if (gen === this.#record.gen) this.#tabs?.handOver(offerOf(parsed));
        return parsed;
      });
      if (!this.#dispatch(this.#stored(parsed, gen, true), parsed)) {
        // A logout here made it obsolete; its answer set a new refresh cookie all the same.
        if (this.#record.owed === 'logout') this.#courier.again();
        throw superseded('login');
      }
      this.#cookieCame(parsed);
      this.#step('login', 'success');
      return this.#tokens.user!;
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
    if (this.#configured) await this.#configured;
    this.#dispatch({ type: 'logout', at: sharedNow(), cookie: this.#cookie() });
    await this.#courier.send();
  };

  /**
   * Gets a new access token with the refresh cookie. Single-flight: concurrent callers share one
   * request and its outcome; once it has settled the next call starts a new one. A network failure,
   * timeout or 5xx is retried with a bounded backoff and never ends the session; a 401 does.
   */
  refresh = async (): Promise<void> => {
    if (this.#configured) await this.#configured;
    // An owed logout first: its refresh cookie must not bring the session back.
    if (this.#record.owed === 'logout') await this.#courier.settle();
    await this.#refresh('manual');
  };

  /** `fetch` with the session: same signature and result. See {@link createAuthFetch}. */
  readonly authFetch: AuthFetch = createAuthFetch({
    options: () => this.#options,
    allowed: (origin) => this.#origins.has(origin),
    whenSettled: () => this.#settled(),
    token: (used, refreshed) => this.#token(used, refreshed),
    retried: (url) => this.#step('retry', 'start', { url }),
    sid: () => this.#record.sid,
  });

  /**
   * Removes the session's listeners and timers. Pending work still settles, but the session will
   * not refresh on its own again. {@link getSession} forgets it, so the next provider starts afresh.
   */
  dispose(): void {
    this.#dispatch({ type: 'dispose' });
  }

  // ---- the machine ----

  /**
   * Feeds `event` to the machine and carries out its effects; `parsed` is the token that came with
   * it. Returns whether the machine took the event (`false`: ignored, e.g. stale).
   */
  #dispatch(event: SessionEvent<User>, parsed?: ParsedToken): boolean {
    const { record, effects, ignored } = transition(this.#record, event);
    this.#record = record;
    for (const effect of effects) this.#do(effect, parsed);
    return !ignored;
  }

  #do(effect: Effect, parsed?: ParsedToken): void {
    if (typeof effect === 'object') {
      if ('post' in effect) this.#tabs?.logout(effect.post, effect.at);
      else if ('send' in effect) void this.#courier.send(effect.send).catch(() => {});
      else this.#courier.mark(effect.mark);
      return;
    }
    switch (effect) {
      case 'keep':
        return void this.#tokens.set(parsed!);
      case 'clear':
        return this.#tokens.clear();
      case 'abort':
        return this.#refresher.abort(superseded('refresh'));
      case 'schedule':
        return this.#fresh.schedule();
      case 'unschedule':
        return this.#fresh.stop();
      case 'resend':
        return void this.#courier.send().catch(() => {});
      case 'restore':
        return this.#runRestore();
      case 'freshen':
        return this.#fresh.freshen('resume');
      case 'change': {
        this.#snapshot = Object.freeze({ state: this.#record.state, user: this.#record.user });
        this.#value = null;
        if (!this.#restoring) this.#resolveReady();
        return void this.dispatchEvent(new CustomEvent('change', { detail: this.#snapshot }));
      }
      case 'close':
        this.#fresh.listen('removeEventListener');
        this.#tabs?.close();
        return void this.dispatchEvent(new Event('dispose'));
      default:
        throw new Error(`auth-shell: unknown effect ${effect satisfies never}`);
    }
  }

  /** The machine's event for a token this tab got under generation `gen`. */
  #stored(parsed: ParsedToken, gen: number, login = false): SessionEvent<User> {
    const { sid, requestedAt } = parsed;
    return { type: 'stored', gen, login, user: this.#tokens.userOf(parsed), sid, cookie: this.#cookie(), requestedAt };
  }

  /**
   * After a login: the session-id cookie its answer set should be readable now. Remembered (it
   * turns the session hint on); when a backend known to set it did not, the cookies did not stick
   * — a set-up mistake said once (SameSite, Secure, Domain, Path).
   */
  #cookieCame(parsed: ParsedToken): void {
    const options = this.#options;
    const key = apiKey(options.api);
    const expected = options.sessionHint ?? sidSeen(key);
    const seen = this.#cookie() !== '';
    markSidSeen(key, seen);
    if (!seen && expected && parsed.sid !== null && options.sidCookie) {
      this.#report(setup('cookie', { where: `login: POST ${options.loginUrl} answered 200`, status: 200 }, 'login'));
    }
  }

  /** The session-id cookie now (`''`: none or unreadable). */
  #cookie(): string {
    return readSid(this.#options.sidCookie);
  }

  /** Resolves once the state is decided — after acting on a session-id cookie that names another session. */
  #settled(): Promise<void> {
    if (this.#configured) return this.#configured.then(() => this.#settled());
    this.#dispatch({ type: 'cookie', cookie: this.#cookie() });
    return this.#record.state === 'restoring' ? this.restore() : Promise.resolve();
  }

  // ---- restore ----

  #runRestore(): void {
    if (this.#restoring) return;
    const gen = this.#record.gen;
    this.#step('restore', 'start');
    this.#restoring = this.#restoreFrom(gen)
      .then(
        (source) => this.#step('restore', 'success', source ? { source } : undefined),
        (error: AuthError) => {
          // A 401 is an answer (no session), not a failure.
          if (error instanceof UnauthenticatedError) return this.#step('restore', 'success');
          // Could not ask the server: show login, but ask again once the network is back.
          if (this.#dispatch({ type: 'failed', gen, network: error instanceof NetworkError })) this.#report(error);
          this.#step('restore', 'failure', { error });
        },
      )
      .finally(() => {
        this.#restoring = null;
        this.#resolveReady();
      });
  }

  /** Where a restore gets its answer: from another tab, or one refresh request; `'tab'` for the former. */
  async #restoreFrom(gen: number): Promise<'tab' | undefined> {
    // A logout that never reached the server (a closed tab, a navigation) is completed first.
    if (this.#record.owed === 'logout' || this.#courier.owes()) await this.#courier.settle();
    else if (await this.#fromTabs(gen)) return 'tab';
    // Superseded while asking (a login or logout decided the state): no request any more.
    else if (gen !== this.#record.gen) return;
    await this.#refresh('restore');
  }

  /**
   * Asks the other tabs for the token of the session the session-id cookie names, before the
   * restore goes to the network; `true` once one was adopted. Without a readable cookie nobody is
   * asked: nothing would tell which session the browser holds.
   */
  async #fromTabs(gen: number): Promise<boolean> {
    const cookie = this.#cookie();
    const message = cookie ? await this.#tabs?.ask(cookie) : null;
    if (!message || gen !== this.#record.gen) return false;
    this.#adopt(message);
    return this.#record.state === 'authenticated';
  }

  // ---- the other tabs ----

  // Arrow functions: passed as callbacks.
  #adopt = (message: TokenMessage): void => {
    let parsed: ParsedToken;
    try {
      const { token, remaining, lifetime, requestedAt } = message;
      parsed = parseToken(token, remaining / 1000, this.#options.clock(), 'refresh', undefined, lifetime, requestedAt);
    } catch {
      return; // not a token: ignore the message
    }
    const { sid, requestedAt } = parsed;
    const user = this.#tokens.userOf(parsed);
    if (this.#dispatch({ type: 'adopt', user, sid, cookie: this.#cookie(), requestedAt }, parsed)) {
      // Another tab got a token: the outage, if there was one, is over.
      this.#refresher.calm(false);
      this.#step('refresh', 'success', { source: 'tab' });
    }
  };

  /** The token held, for the other tabs. */
  #held(): Offer {
    const { token, lifetime, remaining, requestedAt } = this.#tokens;
    return { token: token!, remaining: Math.max(0, remaining), lifetime, requestedAt };
  }

  // What this tab offers a new one: its token, only while it is fresh, no refresh is replacing it,
  // and it belongs to the session that both the asker and this tab read in the session-id cookie.
  #offer = (sid: string): Offer | null =>
    this.#tokens.isFresh() && !this.#refresher.busy && this.#record.sid === sid && this.#cookie() === sid
      ? this.#held()
      : null;

  #locked<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#tabs ? this.#tabs.locked(work, signal) : work();
  }

  // ---- refresh ----

  /**
   * A token fit to send (refreshed first when stale), or — after a 401 answered to `used` — the token
   * to retry with, refreshing unless someone already did. `null` without a session.
   */
  async #token(used?: string, refreshed?: (error?: unknown) => void): Promise<string | null> {
    const tokens = this.#tokens;
    if (this.#record.state !== 'authenticated') return null;
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
   * One refresh attempt, under the cross-tab lock: only the request runs while it is held (and the
   * news the other tabs need: the new token, or the end of the session); the machine takes the
   * outcome once it is released — and ignores it if a logout or login made the attempt obsolete.
   */
  // Arrow function: handed to the refresher.
  #attempt = async (signal: AbortSignal): Promise<RefreshOutcome> => {
    const before = this.#tokens.token;
    const gen = this.#record.gen;
    const outcome = await this.#locked(async (): Promise<ParsedToken | 'handed-over' | 'ended'> => {
      // Another tab refreshed while this one waited: its token was handed over, no request.
      if (this.#tokens.token !== before && this.#tokens.isFresh()) return 'handed-over';
      // In an outage another tab may have failed meanwhile: no request before the browser's next attempt.
      const blocked = this.#refresher.blocked();
      if (blocked) throw blocked;
      const requestedAt = sharedNow();
      const cookie = this.#cookie();
      const answer = await this.#send('refresh', undefined, signal);
      signal.throwIfAborted();
      if (answer.status === 401) {
        // The session-id cookie came, the refresh cookie did not (its Path, SameSite…): say so.
        if (cookie && /no refresh cookie/.test(answer.text)) this.#report(setup('cookie', answer, 'refresh'));
        // The cookie is shared: the session is over in every tab.
        this.#tabs?.logout(cookie || this.#record.sid, sharedNow());
        return 'ended';
      }
      const parsed = this.#parse(answer, 'refresh', requestedAt);
      this.#tabs?.handOver(offerOf(parsed));
      return parsed;
    }, signal);
    // A logout or login may land while the lock is being released: checked again after it.
    signal.throwIfAborted();
    if (outcome === 'handed-over') return outcome;
    if (outcome === 'ended') {
      this.#dispatch({ type: 'ended', gen });
      throw new UnauthenticatedError('refresh: 401, the session is over', { status: 401, operation: 'refresh' });
    }
    if (!this.#dispatch(this.#stored(outcome, gen), outcome) || this.#record.state !== 'authenticated') {
      throw superseded('refresh');
    }
    return 'stored';
  };

  // ---- requests ----

  /** One request to a session endpoint (see `request` in http.ts); none from an inert session. */
  #send(operation: Endpoint, body?: string, signal?: AbortSignal): Promise<Exchange> {
    if (this.#inert)
      throw new UsageError(`${operation}: no browser session on a server${DEV ? '; it starts in the browser' : ''}`);
    // The browser's outage (see refresher.ts): a refresh that failed at network level is one more
    // failure — told to the other tabs before the lock is released, so the next holder waits for
    // the next attempt; any answer from the server, to a login or a refresh, ends it.
    return request(this.#options, operation, body, signal).then(
      (answer) => {
        if (operation !== 'logout') this.#refresher.calm(true);
        return answer;
      },
      (error: unknown) => {
        if (operation === 'refresh' && error instanceof NetworkError && !signal?.aborted) this.#refresher.failed(error);
        else if (
          operation !== 'logout' &&
          !(error instanceof NetworkError) &&
          (error as AuthError).status !== undefined
        )
          this.#refresher.calm(true);
        throw error;
      },
    );
  }

  /** The token of a token response; a malformed one throws ProtocolError and changes nothing. */
  #parse(answer: Exchange, operation: 'login' | 'refresh', requestedAt: number): ParsedToken {
    const { accessToken, expiresIn } = parseTokenBody(answer, operation, this.#options);
    return parseToken(
      accessToken,
      expiresIn,
      answer.receivedAt,
      operation,
      serverDate(answer.headers),
      undefined,
      requestedAt,
    );
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

/** Creates a session that is not shared with anyone. Most pages want {@link getSession} instead. */
export function createSession(options: SessionOptions): Session {
  return new Session(options);
}

/** What the other tabs are given of a token just received. */
const offerOf = ({ token, remaining, lifetime, requestedAt }: ParsedToken): Offer => ({
  token,
  remaining,
  lifetime,
  requestedAt,
});

/** The error of work that a logout or a login made obsolete. */
const superseded = (operation: 'login' | 'refresh') =>
  new UnauthenticatedError(`${operation}: superseded by a logout or login`, { operation });
