import { backoff } from './backoff.js';
import { NetworkError, type AuthError } from './errors.js';
import type { Activity, RefreshReason } from './events.js';
import { sharedNow } from './shared-clock.js';
import { MIN_FRESH } from './token-store.js';

/** What a successful attempt ended with: a token stored here, or one handed over by another tab. */
export type RefreshOutcome = 'stored' | 'handed-over';

/**
 * The browser's refresh failures, shared by its tabs: refresh requests that failed in a row, and
 * the browser's shared time before which no tab sends another.
 */
export interface Outage {
  readonly failures: number;
  readonly until: number;
}

/** No failure: refresh at will. */
export const CALM: Outage = Object.freeze({ failures: 0, until: 0 });

/** A server's `Retry-After` up to this many seconds is waited for inside a refresh; a longer one fails it. */
const MAX_RETRY_AFTER = 5;
/** How early a timer may fire by the shared clock. */
const EARLY = 16;
/** The longest wait between attempts in an outage, whatever failed. */
const MAX_OUTAGE_WAIT = 60_000;

/** What the refresher needs from its session. */
export interface RefresherHooks {
  /** One attempt (the request under the cross-tab lock); it stops at `signal`. */
  attempt(signal: AbortSignal): Promise<RefreshOutcome>;
  /** Retries of a run and the base delay of its backoff, and the longest a caller may wait; read at each run. */
  policy(): { retries: number; delay: number; timeout: number };
  /** The activity steps of each run. */
  report(phase: Activity['phase'], extra: Partial<Activity>): void;
  /** The outage changed here: tell the other tabs. */
  tell(outage: Outage): void;
}

/**
 * The session's refresher: one refresh at a time (concurrent callers share it and its outcome; the
 * next call after it settled starts a new one), attempts retried after network failures, and one
 * abort for all of it when a logout or login makes it obsolete.
 *
 * **One backoff per browser.** A blip (a lost answer) is retried at once with a short backoff
 * (`refreshRetries`, `retryDelay`). Beyond those retries the browser is in an outage: every tab
 * learns the next attempt's time through the tab channel, and until then no tab sends a refresh —
 * a caller that needs one waits for that attempt when it is due within the session's `timeout`,
 * and is told at once (a `NetworkError` with `retryAfter`) otherwise. The waits grow from 5 s to
 * 60 s (jittered, so browsers spread out), never shorter than the server's `Retry-After`. The
 * first success anywhere ends the outage. So N tabs of a browser in an outage send what one would.
 */
export class Refresher {
  readonly #on: RefresherHooks;
  #inflight: Promise<RefreshOutcome> | null = null;
  #abort: AbortController | null = null;
  #outage: Outage = CALM;
  /** The whole wait the last failure here set (the activity reports it). */
  #wait = 0;

  constructor(on: RefresherHooks) {
    this.#on = on;
  }

  /** Runs a refresh, or joins the one in flight. Rejects with the last failure or the abort's reason. */
  run(reason: RefreshReason): Promise<RefreshOutcome> {
    if (this.#inflight) return this.#inflight;
    const controller = (this.#abort = new AbortController());
    const run = (this.#inflight = this.#run(reason, controller.signal));
    const settle = () => {
      if (this.#inflight === run) this.#inflight = this.#abort = null;
    };
    run.then(settle, settle);
    return run;
  }

  /** Whether a refresh is in flight. */
  get busy(): boolean {
    return this.#inflight !== null;
  }

  /** The browser's outage as this tab knows it. */
  get outage(): Outage {
    return this.#outage;
  }

  /** Makes the refresh in flight obsolete: its request is cancelled, its callers get `reason`. */
  abort(reason: unknown): void {
    this.#abort?.abort(reason);
  }

  /** Another tab's news: its outage (the later next attempt wins), or a success (`CALM`). */
  heard(outage: Outage): void {
    if (outage === CALM || outage.until > this.#outage.until) this.#outage = outage;
  }

  /**
   * Under the lock, before a request: the error to fail with instead of sending it, when the
   * browser's next attempt is not due yet (another tab failed meanwhile).
   */
  blocked(): NetworkError | null {
    const wait = this.#outage.until - sharedNow();
    // Timers may fire a little early by this clock: the attempt that waited for its time is not blocked by it.
    return wait > EARLY
      ? new NetworkError(
          `refresh: the server could not be reached; the next attempt is in ${Math.ceil(wait / 1000)} s`,
          {
            operation: 'refresh',
            retryAfter: Math.ceil(wait / 1000),
          },
        )
      : null;
  }

  /**
   * Under the lock, after a request failed at network level (or 5xx/408/429): the browser's next
   * attempt — a quick retry while they last (`refreshRetries`, from `retryDelay`), then the outage's
   * waits from 5 s to 60 s; never sooner than the server's `Retry-After`.
   */
  failed(error: NetworkError): void {
    const failures = this.#outage.failures + 1;
    const { retries, delay } = this.#on.policy();
    const wait = Math.max(
      failures <= retries ? backoff(failures - 1, delay) : backoff(failures - retries - 1, MIN_FRESH, MAX_OUTAGE_WAIT),
      (error.retryAfter ?? 0) * 1000,
    );
    this.#outage = { failures, until: sharedNow() + wait };
    this.#wait = wait;
    this.#on.tell(this.#outage);
  }

  /** A token arrived (here, or from another tab): the outage, if any, is over. */
  calm(tell: boolean): void {
    if (this.#outage === CALM) return;
    this.#outage = CALM;
    if (tell) this.#on.tell(CALM);
  }

  async #run(reason: RefreshReason, signal: AbortSignal): Promise<RefreshOutcome> {
    const { retries, timeout } = this.#on.policy();
    this.#report('start', { reason });
    // In an outage: wait for the browser's next attempt when it is near, else fail at once.
    const due = this.#outage.until - sharedNow();
    if (due > EARLY) {
      const error = this.blocked()!;
      if (due > timeout) return this.#fail(reason, error);
      this.#report('backoff', { reason, attempt: 0, delay: due, error });
      await sleep(due, signal).catch((abort: unknown) => this.#fail(reason, abort));
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.#on.attempt(signal);
        this.#report('success', outcome === 'handed-over' ? { reason, source: 'tab' } : { reason });
        return outcome;
      } catch (error) {
        // Retried after the browser's next quick attempt is due (see `failed`); beyond the quick
        // retries, or after a Retry-After too long to keep callers waiting, the run fails.
        const { failures, until } = this.#outage;
        const wait = until - sharedNow();
        if (
          !(error instanceof NetworkError) ||
          signal.aborted ||
          attempt >= retries ||
          failures > retries ||
          wait > MAX_RETRY_AFTER * 1000
        ) {
          return this.#fail(reason, error);
        }
        this.#report('backoff', { reason, attempt: attempt + 1, delay: this.#wait, error: error as AuthError });
        await sleep(wait, signal);
      }
    }
  }

  #fail(reason: RefreshReason, error: unknown): never {
    this.#report('failure', { reason, error: error as AuthError });
    throw error;
  }

  #report(phase: Activity['phase'], extra: Partial<Activity>): void {
    this.#on.report(phase, extra);
  }
}

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
