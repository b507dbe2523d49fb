// @ts-check
/**
 * Failed-login throttling for the reference backend: per account and per client, in memory, with a
 * bounded number of tracked keys. See "Login throttling" in README.md.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';

/**
 * @typedef {object} LoginThrottleOptions
 * @property {number} [maxFailures] failed logins per account within `windowMs` that lock it (default 5)
 * @property {number} [maxClientFailures] failed logins per client, any accounts, that lock it (default 20)
 * @property {number} [windowMs] how long failures add up, from the first one, ms (default 15 min)
 * @property {number} [lockMs] how long a lock lasts, ms (default 15 min)
 * @property {number} [maxKeys] accounts and clients tracked at most; the least recently seen go first (default 10000)
 *
 * @typedef {{ failures: number, windowStart: number, lockedUntil: number }} Entry
 * @typedef {{ login: string, client: string }} Attempt `client`: the client's IP address
 */

export const LOGIN_THROTTLE_DEFAULTS = Object.freeze({
  maxFailures: 5,
  maxClientFailures: 20,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxKeys: 10_000,
});

/**
 * The throttle key of a client address. IPv4 (also IPv4-mapped IPv6) as it is; IPv6 by its /64,
 * since one subscriber usually gets a whole /64 and could otherwise take a fresh address per guess.
 * @param {string} address
 */
export function clientKey(address) {
  const addr = address.replace(/%.*$/, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!isIPv6(addr)) return addr;
  const [head, tail] = addr.toLowerCase().split('::');
  const groups = (/** @type {string} */ part) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  // A dotted IPv4 tail is two groups; it only ever sits in the last 32 bits, so its value is irrelevant here.
  for (const list of [h, t]) if (list.at(-1)?.includes('.')) list.splice(-1, 1, '0', '0');
  const full = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return `${full
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('base64url');

/**
 * @param {LoginThrottleOptions | undefined} options
 * @param {() => number} now clock in ms
 */
export function createLoginThrottle(options, now) {
  for (const name of Object.keys(options ?? {})) {
    if (!Object.hasOwn(LOGIN_THROTTLE_DEFAULTS, name)) throw new TypeError(`loginThrottle: unknown option ${name}`);
  }
  const o = { ...LOGIN_THROTTLE_DEFAULTS, ...options };
  for (const [name, value] of Object.entries(o)) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new RangeError(`loginThrottle.${name} must be an integer > 0, not ${value}`);
  }
  /** Key → entry; Map order is least recently seen first, so eviction takes the oldest. @type {Map<string, Entry>} */
  const entries = new Map();

  /**
   * The account key is a hash of the lower-cased login: bounded in size whatever the body holds, and
   * `Alice` and `alice` share one budget. Unknown logins are counted like known ones, so a lock
   * tells nothing about which accounts exist.
   * @param {Attempt} attempt
   */
  const keysOf = ({ login, client }) => [
    { key: `account:${sha256(login.toLowerCase())}`, limit: o.maxFailures },
    { key: `client:${clientKey(client)}`, limit: o.maxClientFailures },
  ];

  /** The entry of a key, moved to the newest end; dropped (undefined) once its window and lock are over. @param {string} key @param {number} t */
  function touch(key, t) {
    const entry = entries.get(key);
    if (!entry) return undefined;
    entries.delete(key);
    if (entry.lockedUntil <= t && t - entry.windowStart >= o.windowMs) return undefined;
    entries.set(key, entry);
    return entry;
  }

  return {
    options: Object.freeze(o),

    /**
     * Ms until an attempt with this account and client is evaluated again; 0 = now. A locked
     * attempt is answered without checking the password, so the answer is the same for a right
     * and a wrong one. Being asked keeps a lock among the newest keys, so hammering it does not
     * make it the next to be evicted.
     * @param {Attempt} attempt
     */
    retryAfter(attempt) {
      const t = now();
      let wait = 0;
      for (const { key } of keysOf(attempt)) {
        const entry = touch(key, t);
        if (entry && entry.lockedUntil > t) wait = Math.max(wait, entry.lockedUntil - t);
      }
      return wait;
    },

    /**
     * Counts a wrong password against the account and the client. The failure that reaches a
     * limit locks that key for `lockMs`; after the lock the count starts again from zero.
     * @param {Attempt} attempt
     */
    failed(attempt) {
      const t = now();
      for (const { key, limit } of keysOf(attempt)) {
        const entry = touch(key, t) ?? { failures: 0, windowStart: t, lockedUntil: 0 };
        if (++entry.failures >= limit) Object.assign(entry, { failures: 0, windowStart: t, lockedUntil: t + o.lockMs });
        entries.set(key, entry);
      }
      while (entries.size > o.maxKeys) entries.delete(/** @type {string} */ (entries.keys().next().value));
    },

    /**
     * A successful login clears the account's count. Not the client's: a client could otherwise
     * reset its budget by logging into an account of its own between guesses at others.
     * @param {Attempt} attempt
     */
    succeeded(attempt) {
      entries.delete(keysOf(attempt)[0].key);
    },
  };
}
