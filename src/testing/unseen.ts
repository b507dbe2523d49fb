/**
 * Requests to one URL that the page sent but msw never saw, learned from Resource Timing.
 *
 * Firefox sends `keepalive` requests — the library's logout is one, so that it survives a closing
 * tab — past service workers: they go to the real network, and msw never sees them. Resource Timing
 * lists every request the page made, keepalive ones included. So: every entry for the URL beyond
 * the requests the handler counted is one msw did not see, and `onUnseen` is called once for each.
 *
 * Entries come from the page's buffer, read whenever the server checks (before it answers anything,
 * and in its getters), and from a `PerformanceObserver`, which still gets them once the buffer is
 * full (250 entries by default). An entry exists once the answer has arrived: a request sent while
 * an unseen logout is still in flight can be answered before the kit hears of the logout, as with
 * any server.
 */
export class UnseenRequests {
  readonly #url: string;
  readonly #handled: () => number;
  readonly #onUnseen: () => void;
  #observer: PerformanceObserver | null = null;
  /** `performance.now()` from which requests count. */
  #since = 0;
  /** Entries for the URL since `#since`, by start time: the buffer and the observer give the same ones. */
  readonly #entries = new Set<number>();
  /** Of those, the ones msw did not see (already reported). */
  #unseen = 0;

  /**
   * @param url the absolute URL (origin and path) to watch.
   * @param handled how many requests to it the handler has seen since the last {@link reset}.
   */
  constructor(url: string, handled: () => number, onUnseen: () => void) {
    this.#url = url;
    this.#handled = handled;
    this.#onUnseen = onUnseen;
    this.reset();
    this.connect();
  }

  /** Watches from now on (where Resource Timing exists: not in Node). */
  connect(): void {
    if (this.#observer || typeof PerformanceObserver !== 'function') return;
    if (!PerformanceObserver.supportedEntryTypes?.includes('resource')) return;
    this.#observer = new PerformanceObserver((list) => this.#absorb(list.getEntries()));
    this.#observer.observe({ type: 'resource' });
  }

  disconnect(): void {
    this.#observer?.disconnect();
    this.#observer = null;
  }

  /** Takes in the entries recorded so far and reports requests msw did not see. */
  check(): void {
    if (!this.#observer) return;
    this.#absorb(this.#observer.takeRecords());
    this.#absorb(performance.getEntriesByType('resource'));
  }

  /** Counts from now on (what happened before is accounted for first). */
  reset(): void {
    this.check();
    this.#since = typeof performance === 'undefined' ? 0 : performance.now();
    this.#entries.clear();
    this.#unseen = 0;
  }

  #absorb(entries: PerformanceEntryList): void {
    for (const entry of entries) {
      if (entry.startTime >= this.#since && withoutQuery(entry.name) === this.#url) this.#entries.add(entry.startTime);
    }
    while (this.#entries.size - this.#handled() - this.#unseen > 0) {
      this.#unseen++;
      this.#onUnseen();
    }
  }
}

function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return url;
  }
}
