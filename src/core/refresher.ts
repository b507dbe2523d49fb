import { backoff } from './backoff.js';
import { NetworkError, RateLimitError, type AuthError } from './errors.js';
import type { Activity, RefreshReason } from './events.js';

/** What a successful attempt ended with: a token stored here, or one handed over by another tab. */
export type RefreshOutcome = 'stored' | 'handed-over';

/** A server's `Retry-After` up to this many seconds is waited for inside a refresh; a longer one fails it. */
const MAX_RETRY_AFTER = 5;

/**
 * The session's refresher: one refresh at a time (concurrent callers share it and its outcome; the
 * next call after it settled starts a new one), attempts retried after network failures with
 * exponential backoff, and one abort for all of it when a logout or login makes it obsolete.
 */
export class Refresher {
  readonly #attempt: (signal: AbortSignal) => Promise<RefreshOutcome>;
  readonly #policy: () => { retries: number; delay: number };
  readonly #report: (phase: Activity['phase'], extra: Partial<Activity>) => void;
  #inflight: Promise<RefreshOutcome> | null = null;
  #abort: AbortController | null = null;

  /**
   * @param attempt one attempt (the request under the cross-tab lock); it stops at `signal`.
   * @param policy how often to retry and the base delay of the backoff, read at each refresh.
   * @param report the activity steps of each refresh.
   */
  constructor(
    attempt: (signal: AbortSignal) => Promise<RefreshOutcome>,
    policy: () => { retries: number; delay: number },
    report: (phase: Activity['phase'], extra: Partial<Activity>) => void,
  ) {
    this.#attempt = attempt;
    this.#policy = policy;
    this.#report = report;
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

  /** Makes the refresh in flight obsolete: its request is cancelled, its callers get `reason`. */
  abort(reason: unknown): void {
    this.#abort?.abort(reason);
  }

  async #run(reason: RefreshReason, signal: AbortSignal): Promise<RefreshOutcome> {
    const { retries, delay: base } = this.#policy();
    this.#report('start', { reason });
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.#attempt(signal);
        this.#report('success', outcome === 'handed-over' ? { reason, source: 'tab' } : { reason });
        return outcome;
      } catch (error) {
        // The jittered backoff; never sooner than a 429's Retry-After, and a long Retry-After fails
        // the refresh instead of keeping its callers waiting.
        const retryAfter = (error instanceof RateLimitError && error.retryAfter) || 0;
        if (!(error instanceof NetworkError) || signal.aborted || attempt >= retries || retryAfter > MAX_RETRY_AFTER) {
          this.#report('failure', { reason, error: error as AuthError });
          throw error;
        }
        const delay = Math.max(backoff(attempt, base), retryAfter * 1000);
        this.#report('backoff', { reason, attempt: attempt + 1, delay, error: error as AuthError });
        await sleep(delay, signal);
      }
    }
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
