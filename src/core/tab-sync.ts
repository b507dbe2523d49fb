/**
 * One session across the tabs of a browser: a Web Lock serializes refreshes per api, and a
 * BroadcastChannel hands new tokens, logins and logouts to the other tabs. Without either API the
 * session degrades to single-tab behaviour (every tab refreshes on its own; the backend's grace
 * window absorbs the overlap), and nothing ever waits without a timeout.
 */

/** A token handed to the other tabs: memory to memory, same origin only, never stored. */
export interface TokenMessage {
  readonly v: 1;
  readonly type: 'token';
  readonly token: string;
  /** ms of lifetime left when it was sent, and its whole lifetime (for the leeway). */
  readonly remaining: number;
  readonly lifetime: number;
  /** Wall-clock time (shared by the tabs of one machine) when the request that got it was sent. */
  readonly requestedAt: number;
}

/** The session ended (logout, or a refresh answered 401) in another tab. */
export interface LogoutMessage {
  readonly v: 1;
  readonly type: 'logout';
  readonly at: number;
}

/** A tab took the refresh lock (`held`) or released it (`released`); `id` pairs the two. */
interface LockMessage {
  readonly v: 1;
  readonly type: 'held' | 'released';
  readonly id: string;
}

export type TabMessage = TokenMessage | LogoutMessage;

/** Longest wait for the news of a refresh another tab just finished (its messages in flight). */
const NEWS_TIMEOUT = 1000;

export class TabSync {
  readonly #name: string;
  readonly #channel: BroadcastChannel | null;
  readonly #lockTimeout: number;
  /** Lock holdings other tabs announced and have not released yet: their news is still on the way. */
  readonly #held = new Set<string>();
  #newsArrived: (() => void) | null = null;

  constructor(name: string, lockTimeout: number, receive: (message: TabMessage) => void) {
    this.#name = name;
    this.#lockTimeout = lockTimeout;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : null;
    this.#channel?.addEventListener('message', ({ data }: MessageEvent<TabMessage | LockMessage>) => {
      if (data?.v !== 1) return;
      if (data.type === 'held') this.#held.add(data.id);
      else if (data.type === 'released') {
        this.#held.delete(data.id);
        if (this.#held.size === 0) this.#newsArrived?.();
      } else if (data.type === 'token' || data.type === 'logout') receive(data);
    });
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
    try {
      return await locks.request(this.#name, { signal: wait }, async () => {
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
      if (signal.aborted || !wait.aborted) throw error;
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

  post(message: TabMessage | LockMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel (page going away): the other tabs will find out at their next refresh.
    }
  }

  close(): void {
    this.#channel?.close();
  }
}
