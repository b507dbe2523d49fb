// @ts-check
/**
 * Failed-login throttling, counted in the store (so every instance shares the counts): per account,
 * per client address (IPv6 by its /64), and per IPv6 /48 (a budget for a whole network, so that
 * spreading guesses over thousands of /64s does not buy thousands of budgets). Reaching a limit
 * locks that key for `lockMs`; a locked login is answered 429 before the password is looked at.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';

/**
 * @typedef {object} LoginThrottleOptions
 * @property {number} [maxFailures] failed logins per account within `windowMs` that lock it (default 5)
 * @property {number} [maxClientFailures] per client address, any accounts (default 20)
 * @property {number} [maxNetworkFailures] per IPv6 /48, any accounts and /64s (default 100)
 * @property {number} [windowMs] how long failures add up, from the first one, ms (default 15 min)
 * @property {number} [lockMs] how long a lock lasts, ms (default 15 min)
 *
 * @typedef {{ login: string, client: string | undefined }} Attempt `client`: the client's IP address, if known
 */

export const LOGIN_THROTTLE_DEFAULTS = Object.freeze({
  maxFailures: 5,
  maxClientFailures: 20,
  maxNetworkFailures: 100,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
});

/**
 * The eight groups of an IPv6 address (a dotted IPv4 tail as two zero groups: it only ever sits in
 * the last 32 bits, which no key here looks at), or undefined.
 * @param {string} addr
 */
function groupsOf(addr) {
  if (!isIPv6(addr)) return undefined;
  const [head, tail] = addr.toLowerCase().split('::');
  const groups = (/** @type {string | undefined} */ part) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  for (const list of [h, t]) if (list.at(-1)?.includes('.')) list.splice(-1, 1, '0', '0');
  const full = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return full.map((g) => g.replace(/^0+(?=.)/, ''));
}

/** @param {string} address */
const normalise = (address) => address.replace(/%.*$/, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/**
 * The throttle key of a client address. IPv4 (also IPv4-mapped IPv6) as it is; IPv6 by its /64,
 * since one subscriber usually gets a whole /64 and could otherwise take a fresh address per guess.
 * @param {string} address
 */
export function clientKey(address) {
  const addr = normalise(address);
  const groups = groupsOf(addr);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : addr;
}

/**
 * The /48 of an IPv6 client address (a site's whole allocation), or undefined for IPv4.
 * @param {string} address
 */
export function networkKey(address) {
  const groups = groupsOf(normalise(address));
  return groups ? `${groups.slice(0, 3).join(':')}::/48` : undefined;
}

/** @param {string} s */
const sha256 = (s) => createHash('sha256').update(s).digest('base64url');

/**
 * @param {LoginThrottleOptions | undefined} options
 * @param {import('./store.js').Store} store
 * @param {() => number} now ms
 */
export function createLoginThrottle(options, store, now) {
  for (const name of Object.keys(options ?? {})) {
    if (!Object.hasOwn(LOGIN_THROTTLE_DEFAULTS, name)) throw new TypeError(`loginThrottle: unknown option ${name}`);
  }
  const o = { ...LOGIN_THROTTLE_DEFAULTS, ...options };
  for (const [name, value] of Object.entries(o)) {
    if (!(Number.isSafeInteger(value) && value > 0))
      throw new RangeError(`loginThrottle.${name} must be an integer > 0, not ${value}`);
  }

  /**
   * The account key is a hash of the lower-cased login: bounded in size whatever the body holds,
   * and `Alice` and `alice` share one budget. Unknown logins are counted like known ones, so a lock
   * tells nothing about which accounts exist. Without a client address (an adapter that has none)
   * only the account counts: a shared "unknown" client would lock everyone out.
   * @param {Attempt} attempt
   */
  const keysOf = ({ login, client }) => {
    const keys = [{ key: `account:${sha256(login.toLowerCase())}`, limit: o.maxFailures }];
    if (client) {
      keys.push({ key: `client:${clientKey(client)}`, limit: o.maxClientFailures });
      const net = networkKey(client);
      if (net) keys.push({ key: `net:${net}`, limit: o.maxNetworkFailures });
    }
    return keys;
  };

  return {
    options: Object.freeze(o),

    /**
     * Ms until an attempt with this account and client is evaluated again; 0 = now. A locked
     * attempt is answered without checking the password, so a right guess looks like a wrong one.
     * @param {Attempt} attempt
     */
    async retryAfter(attempt) {
      const t = now();
      const until = await store.throttleCheck(
        keysOf(attempt).map((k) => k.key),
        t,
      );
      return until > t ? until - t : 0;
    },

    /**
     * Counts a wrong password against the account, the client and its network. The failure that
     * reaches a limit locks that key for `lockMs`; after the lock the count starts again from zero.
     * @param {Attempt} attempt
     */
    failed(attempt) {
      return store.throttleFail(keysOf(attempt), { now: now(), windowMs: o.windowMs, lockMs: o.lockMs });
    },

    /**
     * A successful login clears the account's count. Not the client's: a client could otherwise
     * reset its budget by logging into an account of its own between guesses at others.
     * @param {Attempt} attempt
     */
    succeeded(attempt) {
      return store.throttleReset(keysOf(attempt)[0].key);
    },
  };
}
