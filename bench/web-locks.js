// @ts-check
/**
 * A small in-process Web Locks API for Node, which has no `navigator.locks` (20) or only behind a
 * flag: exclusive locks, granted per name in request order, `request(name, { signal }, callback)`.
 * Several sessions of one process ("tabs") then serialize their refreshes as tabs of a browser do.
 *
 * As in the standard: the callback gets a lock object and the request settles with what it returns
 * (awaited); the lock is released when that settles. A `signal` aborted while the request waits
 * removes it from the queue and rejects with the signal's reason; once granted, aborting changes
 * nothing. `ifAvailable`, `steal` and shared mode are not needed here and not provided.
 */

/**
 * @typedef {{ name: string, mode: 'exclusive' }} Lock
 * @typedef {{ grant: () => void }} Waiter
 * @typedef {{
 *   request<T>(name: string, options: { signal?: AbortSignal } | ((lock: Lock) => T | PromiseLike<T>), callback?: (lock: Lock) => T | PromiseLike<T>): Promise<T>,
 *   query(): Promise<{ held: Lock[], pending: Lock[] }>,
 * }} LockManager
 */

/** @returns {LockManager} */
export function createLockManager() {
  /** Per name: whether it is held, and the waiters in order. @type {Map<string, { held: boolean, queue: Waiter[] }>} */
  const names = new Map();

  /** @param {string} name */
  const release = (name) => {
    const entry = names.get(name);
    if (!entry) return;
    const next = entry.queue.shift();
    if (next) next.grant();
    else names.delete(name);
  };

  return {
    request(name, options, callback) {
      const cb = typeof options === 'function' ? options : callback;
      const signal = typeof options === 'function' ? undefined : options?.signal;
      if (typeof cb !== 'function')
        return Promise.reject(new TypeError('navigator.locks.request: a callback is required'));
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        let entry = names.get(name);
        if (!entry) names.set(name, (entry = { held: false, queue: [] }));
        const onAbort = () => {
          const queue = /** @type {Waiter[]} */ (names.get(name)?.queue);
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(signal?.reason);
        };
        /** @type {Waiter} */
        const waiter = {
          grant() {
            signal?.removeEventListener('abort', onAbort);
            const held = /** @type {{ held: boolean }} */ (names.get(name));
            held.held = true;
            Promise.resolve()
              .then(() => cb({ name, mode: 'exclusive' }))
              .then(resolve, reject)
              .finally(() => {
                held.held = false;
                release(name);
              });
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        if (entry.held || entry.queue.length > 0) entry.queue.push(waiter);
        else waiter.grant();
      });
    },
    async query() {
      /** @type {Lock[]} */
      const held = [];
      /** @type {Lock[]} */
      const pending = [];
      for (const [name, entry] of names) {
        if (entry.held) held.push({ name, mode: 'exclusive' });
        for (const _ of entry.queue) pending.push({ name, mode: 'exclusive' });
      }
      return { held, pending };
    },
  };
}

/**
 * Puts `locks` on `globalThis.navigator` (created if missing). Returns the function that puts back
 * what was there.
 * @param {LockManager} [locks]
 */
export function installLocks(locks = createLockManager()) {
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const base = /** @type {object | undefined} */ (globalThis.navigator);
  const navigator = Object.create(base ?? null, { locks: { value: locks, configurable: true, enumerable: true } });
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
  return () => {
    if (previous) Object.defineProperty(globalThis, 'navigator', previous);
    else delete (/** @type {{ navigator?: unknown }} */ (globalThis).navigator);
  };
}
