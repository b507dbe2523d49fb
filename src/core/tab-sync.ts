/**
 * One session across the tabs of a browser: a Web Lock serializes refreshes, logins and logouts per
 * api, and a BroadcastChannel hands new tokens, logins and logouts to the other tabs. Without
 * either API the session degrades to single-tab behaviour (every tab refreshes on its own; the
 * backend's grace window absorbs the overlap), and nothing ever waits without a timeout.
 *
 * This module only carries messages: every one is checked field by field before it reaches the
 * session, and anything else — another version's message, a bug, a hostile script of the origin —
 * is ignored. Which token is adopted and which session a logout ends is the session machine's
 * decision (see machine.ts).
 */

import { CALM, type Outage } from './refresher.js';
import { sharedNow } from './shared-clock.js';

/** A token handed to the other tabs: memory to memory, same origin only, never stored. */
export interface TokenMessage {
  readonly v: 1;
  readonly type: 'token';
  readonly token: string;
  /** ms of lifetime left when it was sent, and its whole lifetime (for the leeway). */
  readonly remaining: number;
  readonly lifetime: number;
  /** {@link sharedNow} when the request that got it was sent. */
  readonly requestedAt: number;
  /** The `ask` it answers (a new tab's); absent for a hand-over to every tab. */
  readonly to?: string;
}

/** A new tab asks the others for the token of session `sid` — the one the session-id cookie names. */
interface AskMessage {
  readonly v: 1;
  readonly type: 'ask';
  readonly id: string;
  readonly sid: string;
}

/** What a tab offers a new one: its current token, if it holds a fresh one of the session asked for. */
export type Offer = Pick<TokenMessage, 'token' | 'remaining' | 'lifetime' | 'requestedAt'>;

/** Session `sid` ended (logout, or a refresh answered 401) in another tab; no `sid`: a session without one. */
interface LogoutMessage {
  readonly v: 1;
  readonly type: 'logout';
  /** {@link sharedNow} when it ended. */
  readonly at: number;
  readonly sid?: string;
}

/**
 * A tab took the refresh lock or sent a logout (`held`) and is done (`released`); `id` pairs the
 * two. `wait`: ms the others may wait for the `released` (a logout's answer), else a moment.
 */
interface NewsMessage {
  readonly v: 1;
  readonly type: 'held' | 'released';
  readonly id: string;
  readonly wait?: number;
}

/** The browser's refresh outage as the sending tab knows it (see refresher.ts); `failures: 0` ends it. */
interface OutageMessage extends Outage {
  readonly v: 1;
  readonly type: 'outage';
}

type TabMessage = TokenMessage | AskMessage | LogoutMessage | NewsMessage | OutageMessage;

/** What the other tabs tell the session. */
export interface TabEvents {
  /** A token another tab got (a refresh or a login). */
  token(message: TokenMessage): void;
  /** Another tab ended session `sid` (`null`: one without a sid) at shared time `at`. */
  logout(sid: string | null, at: number): void;
  /** A new tab asks for the token of session `sid`: this tab's fresh token of it, or `null`. */
  offer(sid: string): Offer | null;
  /** Another tab's view of the browser's refresh outage. */
  outage(outage: Outage): void;
}

/** Longest wait for the news of a refresh another tab just finished (its messages in flight). */
const NEWS_TIMEOUT = 1000;
/** Longest wait for another tab's logout answer, whatever it announced. */
const MAX_NEWS_WAIT = 30_000;
/**
 * Longest wait of a new tab for another tab's token, when other tabs of the api are open: far below
 * a network round trip (an answer takes about a millisecond), and only paid when no open tab holds
 * a fresh token.
 */
export const ASK_TIMEOUT = 50;
/** How far ahead of this tab's clock another tab's time may be before it is taken for junk. */
const ALLOWANCE = 1000;
/** The furthest next attempt another tab can announce: no message can stop refreshes for longer. */
const MAX_OUTAGE = 5 * 60_000;

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value <= sharedNow() + ALLOWANCE;
const isSpan = (value: unknown): value is number => typeof value === 'number' && value >= 0;
const isId = (value: unknown): value is string => typeof value === 'string' && value.length <= 32;
const isSid = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;
const newId = () => Math.random().toString(36).slice(2);

export class TabSync {
  readonly #name: string;
  readonly #channel: BroadcastChannel | null;
  /** Ends this tab's presence (a shared Web Lock that tells new tabs another one is open). */
  #leave: (() => void) | undefined;
  /** This tab's open `ask`, and how to end its wait. */
  #asking: { id: string; answer: (message: TokenMessage | null) => void } | null = null;
  readonly #lockTimeout: number;
  /** Holdings other tabs announced and have not released yet (their news is on the way), with deadlines. */
  readonly #held = new Map<string, number>();
  #newsArrived: (() => void) | null = null;
  /** The last logout's time as its own tab stamped it (see {@link handOver}). */
  #logoutStamp = 0;

  constructor(name: string, lockTimeout: number, on: TabEvents) {
    this.#name = name;
    this.#lockTimeout = lockTimeout;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null;
    this.#channel?.addEventListener('message', ({ data }: MessageEvent<Partial<Record<string, unknown>> | null>) => {
      if (typeof data !== 'object' || data === null || data.v !== 1) return;
      const { type, id, at, sid, token, remaining, lifetime, requestedAt, to, wait, failures, until } = data;
      if (type === 'ask' && isId(id) && isSid(sid)) {
        const offer = on.offer(sid);
        if (offer) this.handOver(offer, id);
      } else if (type === 'held' && isId(id) && this.#held.size < 64) {
        this.#held.set(id, performance.now() + (isSpan(wait) ? Math.min(wait, MAX_NEWS_WAIT) : NEWS_TIMEOUT));
      } else if (type === 'released' && isId(id)) {
        this.#held.delete(id);
        if (this.#held.size === 0) this.#newsArrived?.();
      } else if (type === 'logout' && isTime(at) && (sid === undefined || isSid(sid))) {
        this.#logoutStamp = Math.max(this.#logoutStamp, at);
        // It happened before it arrived, whatever the sender's clock says (a clock a little ahead
        // would otherwise make logins started here in the next moment look older than it).
        on.logout(sid ?? null, Math.min(at, sharedNow()));
      } else if (type === 'outage' && Number.isInteger(failures) && isSpan(failures) && isSpan(until)) {
        on.outage(failures === 0 ? CALM : { failures, until: Math.min(until, sharedNow() + MAX_OUTAGE) });
      } else if (
        type === 'token' &&
        typeof token === 'string' &&
        isSpan(remaining) &&
        isSpan(lifetime) &&
        isTime(requestedAt)
      ) {
        const message: TokenMessage = { v: 1, type, token, remaining, lifetime, requestedAt };
        // An answer to an ask goes to the tab that asked (the others hold that token already).
        if (to === undefined) on.token(message);
        else if (to === this.#asking?.id) this.#asking.answer(message);
      }
    });
    // Present while this session lives: a shared lock, held until close().
    globalThis.navigator?.locks?.request(
      `${name}:tab`,
      { mode: 'shared' },
      () => new Promise<void>((leave) => (this.#leave = leave)),
    );
  }

  /**
   * Asks the other tabs for the token of session `sid` (the session-id cookie's): the first valid
   * answer (the session checks it like any hand-over), or `null` after {@link ASK_TIMEOUT} ms — at
   * once when no other tab of this api is open.
   */
  async ask(sid: string): Promise<TokenMessage | null> {
    const locks = globalThis.navigator?.locks;
    if (!this.#channel || !locks) return null;
    const { held = [], pending = [] } = await locks.query();
    // Every open tab of the api holds (or is being granted) the shared presence lock; one is this tab.
    if ([...held, ...pending].filter((lock) => lock.name === `${this.#name}:tab`).length < 2) return null;
    const id = newId();
    const answer = new Promise<TokenMessage | null>((resolve) => {
      this.#asking = { id, answer: resolve };
      setTimeout(resolve, ASK_TIMEOUT, null);
    });
    this.post({ v: 1, type: 'ask', id, sid });
    const message = await answer;
    this.#asking = null;
    return message;
  }

  /**
   * Runs `work` holding this api's exclusive lock across tabs. The wait is bounded: after
   * `lockTimeout` ms (a tab stuck elsewhere) the work runs without the lock rather than hang.
   * `signal` aborts the wait and, through `work`, the work itself, which releases the lock.
   * Only the session's own request runs inside: no user callback is ever called with the lock held.
   *
   * Messages and lock grants travel on different paths, so a tab can be granted the lock before the
   * token its predecessor posted has arrived. Holders announce `held` and `released` around their
   * work, and a tab that was granted the lock first waits for the `released` of every holding it
   * heard of — the news of a holding comes after its token, in order, from the same sender. A
   * logout sent at once (see {@link announce}) is waited for the same way.
   */
  async locked<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const locks = globalThis.navigator?.locks;
    if (!locks) return work();
    const timeout = AbortSignal.timeout(this.#lockTimeout);
    const wait = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let granted = false;
    try {
      return await locks.request(this.#name, { signal: wait }, async () => {
        granted = true;
        await this.#news();
        const done = this.announce();
        try {
          return await work();
        } finally {
          done();
        }
      });
    } catch (error) {
      // Only a wait that timed out goes on unlocked: once granted, the work's own failure is the outcome.
      if (granted || signal?.aborted || !wait.aborted) throw error;
      return work(); // waited long enough: go on unlocked
    }
  }

  /**
   * Tells the other tabs that this tab has work in flight whose outcome they must wait for before
   * taking the lock (up to `wait` ms, else a moment); call the function returned when it is done.
   */
  announce(wait?: number): () => void {
    const id = newId();
    this.post({ v: 1, type: 'held', id, wait });
    return () => this.post({ v: 1, type: 'released', id });
  }

  /** Whether another tab announced work (a refresh, a login, a logout) that has not finished. */
  get busy(): boolean {
    return this.#held.size > 0;
  }

  /** Resolves once no other tab's holding is unreleased, or at the latest deadline (a tab that died). */
  #news(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#newsArrived = null;
        this.#held.clear();
        resolve();
      };
      const timer = setTimeout(done, Math.max(...this.#held.values()) - performance.now());
      this.#newsArrived = done;
    });
  }

  /** Tells the other tabs that session `sid` (`null`: one without a sid) ended here at shared time `at`. */
  logout(sid: string | null, at: number): void {
    this.#logoutStamp = at;
    this.post({ v: 1, type: 'logout', at, ...(sid === null ? {} : { sid }) });
  }

  /**
   * Hands a token this tab holds to the others (`to`: only the new tab that asked). Every token held
   * here came after every logout known here, so it is stamped no earlier than that logout's own
   * stamp: a tab that logged out compares tokens without a sid with its stamp, and a clock that
   * reads a millisecond apart in each tab (Firefox rounds each document's time) must not make a
   * login that won here look older than that logout there.
   */
  handOver(offer: Offer, to?: string): void {
    this.post({ v: 1, type: 'token', ...offer, requestedAt: Math.max(offer.requestedAt, this.#logoutStamp), to });
  }

  /** Tells the other tabs of the browser's refresh outage (or its end). */
  outage({ failures, until }: Outage): void {
    this.post({ v: 1, type: 'outage', failures, until });
  }

  post(message: TabMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel (page going away): the other tabs will find out at their next refresh.
    }
  }

  close(): void {
    this.#channel?.close();
    this.#leave?.();
  }
}
