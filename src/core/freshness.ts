import { UnauthenticatedError, type AuthError } from './errors.js';
import type { RefreshReason } from './events.js';
import { MIN_FRESH, type TokenStore } from './token-store.js';
import type { Clock } from './token-store.js';

/** Longest pause between proactive refreshes that keep failing (they back off from MIN_FRESH). */
const MAX_PROACTIVE_BACKOFF = 60_000;
const MAX_TIMEOUT = 2 ** 31 - 1;

/** What freshness needs from its session. */
export interface FreshnessHooks {
  /** Whether the session is authenticated now (a refresh is only started then). */
  authenticated(): boolean;
  /** ms until the browser's next refresh attempt in an outage (≤ 0: none). */
  due(): number;
  refresh(reason: RefreshReason): Promise<unknown>;
  /** The page woke up (online, pageshow, shown again). */
  wake(): void;
  /** The page is being hidden (it may sleep in the back/forward cache). */
  hide(): void;
  /** A proactive refresh failed (not with a 401: that ended the session). */
  report(error: AuthError): void;
}

/**
 * Keeps the token fresh while the session is authenticated: a proactive refresh when it turns
 * stale, backing off (5 s, 10 s, … 60 s) while refreshes fail — never a storm, never giving up —
 * and the page's wake-ups. Timers are only hints: they are throttled in background tabs and stop
 * while the machine sleeps, so `online`, `pageshow` and the page becoming visible re-check, and
 * `authFetch` checks before every request.
 */
export class Freshness {
  readonly #tokens: TokenStore;
  readonly #clock: Clock;
  readonly #on: FreshnessHooks;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Proactive refreshes that failed in a row: the next one waits longer. */
  #failures = 0;

  constructor(tokens: TokenStore, clock: Clock, on: FreshnessHooks) {
    this.#tokens = tokens;
    this.#clock = clock;
    this.#on = on;
  }

  /**
   * (Re)starts the timer for when the token turns stale, or `due` ms from now. Rounded up, because
   * timers may fire a fraction of a millisecond early; a timer that still finds the token fresh
   * schedules itself again.
   */
  schedule(due = this.#tokens.staleAt - this.#clock()): void {
    this.stop();
    if (due < Infinity) {
      this.#timer = setTimeout(() => this.freshen('expiry'), Math.min(Math.max(0, Math.ceil(due) + 1), MAX_TIMEOUT));
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /** Refreshes now if the token is stale (and the session authenticated). */
  freshen(reason: RefreshReason): void {
    if (!this.#on.authenticated()) return;
    if (this.#tokens.isFresh()) return void (reason === 'expiry' && this.schedule());
    this.#on.refresh(reason).then(
      () => (this.#failures = 0),
      (error: AuthError) => {
        if (error instanceof UnauthenticatedError) return;
        this.#on.report(error);
        // Try again later, each failure waiting twice as long.
        if (this.#on.authenticated()) this.schedule(Math.min(MIN_FRESH * 2 ** this.#failures++, MAX_PROACTIVE_BACKOFF));
      },
    );
  }

  /** Adds or removes the page listeners. */
  listen(method: 'addEventListener' | 'removeEventListener'): void {
    for (const type of ['online', 'pageshow']) globalThis[method]?.(type, this.#onWake);
    globalThis[method]?.('pagehide', this.#onHide);
    globalThis.document?.[method]('visibilitychange', this.#onWake);
  }

  // Arrow functions: the same identities are added and removed as listeners.
  #onWake = (event: Event): void => {
    if (event.type !== 'visibilitychange' || globalThis.document?.visibilityState === 'visible') this.#on.wake();
  };

  #onHide = (): void => this.#on.hide();
}
