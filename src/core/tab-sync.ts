/**
 * One session across the tabs of a browser: a Web Lock serializes refreshes per api, and a
 * BroadcastChannel hands new tokens, logins and logouts to the other tabs. Without either API the
 * session degrades to single-tab behaviour (every tab refreshes on its own; the backend's grace
 * window absorbs the overlap), and nothing ever waits without a timeout.
 *
 * Every message is checked field by field before it reaches the session; anything else — another
 * version's message, a bug, a hostile script of the origin — is ignored. Logouts win: a token
 * requested before the last logout this tab knows of is never handed to the session.
 */

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

/** A new tab asks the others for the current token before it restores over the network. */
interface AskMessage {
  readonly v: 1;
  readonly type: 'ask';
  readonly id: string;
}

/** What a tab offers a new one: its current token, if it holds a fresh one. */
export type Offer = Pick<TokenMessage, 'token' | 'remaining' | 'lifetime' | 'requestedAt'>;

/** The session ended (logout, or a refresh answered 401) in another tab. */
export interface LogoutMessage {
  readonly v: 1;
  readonly type: 'logout';
  /** {@link sharedNow} when it ended. */
  readonly at: number;
}

/** A tab took the refresh lock (`held`) or released it (`released`); `id` pairs the two. */
interface LockMessage {
  readonly v: 1;
  readonly type: 'held' | 'released';
  readonly id: string;
}

export type TabMessage = TokenMessage | LogoutMessage;

/** What the other tabs tell the session. */
export interface TabEvents {
  /** A token another tab got (a refresh or a login) after the last logout known here. */
  token(message: TokenMessage): void;
  /** Another tab ended the session (a logout, or a refresh answered 401). */
  logout(): void;
  /** A new tab asks for the current token: the session's fresh token, or `null` (none, or busy). */
  offer(): Offer | null;
}

/** Longest wait for the news of a refresh another tab just finished (its messages in flight). */
const NEWS_TIMEOUT = 1000;
/**
 * Longest wait of a new tab for another tab's token, when other tabs of the api are open: far below
 * a network round trip (an answer takes about a millisecond), and only paid when no open tab holds
 * a fresh token.
 */
export const ASK_TIMEOUT = 50;
/** How far ahead of this tab's clock another tab's time may be before it is taken for junk. */
const ALLOWANCE = 1000;

/**
 * The time every tab of the browser reads alike: the shared monotonic clock of the High Resolution
 * Time standard (`timeOrigin + now()`), in ms since the epoch. Unlike `Date.now()` it does not jump
 * when the wall clock is set, so the order of logins and logouts across tabs cannot be upset by a
 * clock change.
 */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value <= sharedNow() + ALLOWANCE;
const isSpan = (value: unknown): value is number => typeof value === 'number' && value >= 0;
const isId = (value: unknown): value is string => typeof value === 'string' && value.length <= 32;

export class TabSync {
  readonly #name: string;
  readonly #channel: BroadcastChannel | null;
  /** Ends this tab's presence (a shared Web Lock that tells new tabs another one is open). */
  #leave: (() => void) | undefined;
  /** This tab's open `ask`, and how to end its wait. */
  #asking: { id: string; answer: (message: TokenMessage | null) => void } | null = null;
  readonly #lockTimeout: number;
  /** Lock holdings other tabs announced and have not released yet: their news is still on the way. */
  readonly #held = new Set<string>();
  #newsArrived: (() => void) | null = null;
  /** {@link sharedNow} of the last logout done here or heard of. */
  #loggedOutAt = 0;
  /** The same logout's time as its own tab stamped it (this tab's clock may read it a little apart). */
  #logoutStamp = 0;

  constructor(name: string, lockTimeout: number, on: TabEvents) {
    this.#name = name;
    this.#lockTimeout = lockTimeout;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null;
    this.#channel?.addEventListener('message', ({ data }: MessageEvent<Partial<Record<string, unknown>> | null>) => {
      if (typeof data !== 'object' || data === null || data.v !== 1) return;
      const { type, id, at, token, remaining, lifetime, requestedAt, to } = data;
      if (type === 'ask' && isId(id)) {
        const offer = on.offer();
        if (offer) this.handOver(offer, id);
      } else if (type === 'held' && isId(id) && this.#held.size < 64) this.#held.add(id);
      else if (type === 'released' && isId(id)) {
        this.#held.delete(id);
        if (this.#held.size === 0) this.#newsArrived?.();
      } else if (type === 'logout' && isTime(at) && at > this.#loggedOutAt) {
        // It happened before it arrived, whatever the sender's clock says (a clock a little ahead
        // would otherwise make logins started here in the next moment look older than it).
        this.#loggedOutAt = Math.min(at, sharedNow());
        this.#logoutStamp = at;
        on.logout();
      } else if (
        type === 'token' &&
        typeof token === 'string' &&
        isSpan(remaining) &&
        isSpan(lifetime) &&
        isTime(requestedAt)
      ) {
        // A token from a request sent before a logout we know of belongs to the ended session. (A
        // tie, within the clock's resolution — 1 ms in Firefox — is a login right after a logout.)
        if (requestedAt < this.#loggedOutAt) return;
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
   * Asks the other tabs for the current token: the first valid answer (checked like any hand-over),
   * or `null` after {@link ASK_TIMEOUT} ms — at once when no other tab of this api is open.
   */
  async ask(): Promise<TokenMessage | null> {
    const locks = globalThis.navigator?.locks;
    if (!this.#channel || !locks) return null;
    const { held = [], pending = [] } = await locks.query();
    // Every open tab of the api holds (or is being granted) the shared presence lock; one is this tab.
    if ([...held, ...pending].filter((lock) => lock.name === `${this.#name}:tab`).length < 2) return null;
    const id = Math.random().toString(36).slice(2);
    const answer = new Promise<TokenMessage | null>((resolve) => {
      this.#asking = { id, answer: resolve };
      setTimeout(resolve, ASK_TIMEOUT, null);
    });
    this.post({ v: 1, type: 'ask', id });
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
   * heard of — the news of a holding comes after its token, in order, from the same sender.
   */
  async locked<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const locks = globalThis.navigator?.locks;
    if (!locks) return work();
    const wait = AbortSignal.any([signal, AbortSignal.timeout(this.#lockTimeout)]);
    let granted = false;
    try {
      return await locks.request(this.#name, { signal: wait }, async () => {
        granted = true;
        await this.#news();
        const id = Math.random().toString(36).slice(2);
        this.post({ v: 1, type: 'held', id });
        try {
          return await work();
        } finally {
          this.post({ v: 1, type: 'released', id });
        }
      });
    } catch (error) {
      // Only a wait that timed out goes on unlocked: once granted, the work's own failure is the outcome.
      if (granted || signal.aborted || !wait.aborted) throw error;
      return work(); // waited long enough: go on unlocked
    }
  }

  /** Resolves once no other tab's holding is unreleased, or after NEWS_TIMEOUT (a tab that died). */
  #news(): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#newsArrived = null;
        this.#held.clear();
        resolve();
      };
      const timer = setTimeout(done, NEWS_TIMEOUT);
      this.#newsArrived = done;
    });
  }

  /** Tells the other tabs that the session ended here. */
  logout(): void {
    this.post({ v: 1, type: 'logout', at: (this.#logoutStamp = this.#loggedOutAt = sharedNow()) });
  }

  /**
   * Hands a token this tab holds to the others (`to`: only the new tab that asked). Every token held
   * here came after every logout known here, so it is stamped no earlier than that logout's own
   * stamp: the tab that logged out compares with its stamp, and a clock that reads a millisecond
   * apart in each tab (Firefox rounds each document's time) must not make a login that won here look
   * older than that logout there.
   */
  handOver(offer: Offer, to?: string): void {
    this.post({ v: 1, type: 'token', ...offer, requestedAt: Math.max(offer.requestedAt, this.#logoutStamp), to });
  }

  /** Whether a logout happened (here or in another tab) after `time` ({@link sharedNow}). */
  loggedOutSince(time: number): boolean {
    return this.#loggedOutAt > time;
  }

  post(message: TabMessage | LockMessage | AskMessage): void {
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
