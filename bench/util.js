// @ts-check
/** Small helpers shared by the bench's scenarios. */

/**
 * Rejects when `promise` has not settled after `ms`.
 * @template T @param {Promise<T>} promise @param {number} ms @returns {Promise<T>}
 */
export function withTimeout(promise, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  );
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() => clearTimeout(timer));
}

/** The first line of an error, for a table row. @param {unknown} err */
export function describe(err) {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}
