// @ts-check
/**
 * The one small interface every session store implements (memory, PGlite, Postgres, Redis), and
 * the guard that turns a store failure into a 503.
 *
 * A store keeps refresh-token families (sessions), one-time socket tickets, login-throttle counters
 * and the signing keys. It never sees a refresh token: only `ref` (the family handle the token
 * starts with) and SHA-256 hashes. Every time is passed in (`now`, ms), so every store follows the
 * server's clock, and every operation that must be atomic is one operation here (one SQL function
 * call, one Lua script, one synchronous step in memory).
 *
 * @typedef {object} NewFamily
 * @property {string} ref the family handle: the first 16 bytes of each of its refresh tokens
 * @property {string} sid the opaque session id (the access token's `sid` claim, the sid cookie)
 * @property {string} userId
 * @property {Record<string, unknown>} claims what the access tokens of this family carry
 * @property {number} createdAt ms
 * @property {number} expiresAt ms; absolute, never extended
 * @property {string} tokenHash SHA-256 of the first refresh token
 *
 * @typedef {object} FamilyInfo
 * @property {string} ref
 * @property {string} sid
 * @property {string} userId
 * @property {Record<string, unknown>} claims
 * @property {number} createdAt
 * @property {number} expiresAt
 * @property {number} lastUsedAt ms of the last rotation (idle expiry base)
 * @property {{ at: number, reason: string } | null} revoked
 *
 * @typedef {object} RotateInput
 * @property {string} ref
 * @property {string} presentedHash SHA-256 of the presented refresh token
 * @property {string} nextHash SHA-256 of its successor, made by the caller
 * @property {string} sealed the successor sealed with the presented token (see refresh-tokens.js)
 * @property {number} now
 * @property {number} graceMs how long the token rotated away last is answered with `sealed` again
 * @property {number} idleMs longest time a family may go without a rotation
 *
 * @typedef {'rotated' | 'grace' | 'unknown' | 'revoked' | 'expired' | 'idle' | 'reuse'} RotateOutcome
 *   `reuse`: the family was revoked by this very call (reason `reuse`)
 * @typedef {{ outcome: RotateOutcome, family?: { sid: string, userId: string, claims: Record<string, unknown>, expiresAt: number },
 *   sealed?: string }} RotateResult `sealed` only with `grace`: the successor handed out at the rotation
 *
 * @typedef {{ sid: string, userId: string }} Revoked a family revoked by the call that returns it
 *
 * @typedef {object} TicketData
 * @property {string} userId
 * @property {string | null} sid
 * @property {string | null} jti of the access token that minted it
 * @property {number} exp that token's `exp`, s
 *
 * @typedef {{ kid: string, jwk: Record<string, unknown>, createdAt: number }} StoredKey a private JWK
 *
 * @typedef {object} Store
 * @property {string} kind 'memory' | 'pglite' | 'postgres' | 'redis'
 * @property {() => Promise<void>} init connects and migrates (idempotent; called once per server)
 * @property {() => Promise<void>} close
 * @property {(family: NewFamily, o: { now: number, maxPerUser: number, reason: string }) => Promise<Revoked[]>} createFamily
 *   stores a family, then revokes the user's oldest live families beyond `maxPerUser`; returns those
 * @property {(input: RotateInput) => Promise<RotateResult>} rotate compare-and-set of the presented
 *   token: rotates it, answers the grace retry, or detects reuse (revoking the family)
 * @property {(ref: string) => Promise<FamilyInfo | null>} findFamily
 * @property {(sid: string) => Promise<FamilyInfo | null>} findFamilyBySid
 * @property {(ref: string, reason: string, now: number) => Promise<Revoked | null>} revokeFamily
 *   null when unknown or already revoked
 * @property {(userId: string, reason: string, now: number) => Promise<Revoked[]>} revokeUser its live families
 * @property {(t: { hash: string, minter: string, data: TicketData, expiresAt: number, now: number, max: number }) => Promise<number>} putTicket
 *   0 when stored; else the ms time the minter's soonest outstanding ticket expires (it holds `max`)
 * @property {(hash: string, now: number) => Promise<{ data: TicketData, valid: boolean } | null>} takeTicket
 *   single use: marks it used and tells whether it was valid (unused and unexpired); null when
 *   unknown. A used ticket is kept (and recognised) until it expires
 * @property {(keys: string[], now: number) => Promise<number>} throttleCheck ms time until which any
 *   of the keys is locked; 0 when none is
 * @property {(entries: Array<{ key: string, limit: number }>, o: { now: number, windowMs: number, lockMs: number }) => Promise<void>} throttleFail
 *   counts a failure against each key; the one reaching its limit is locked for lockMs
 * @property {(key: string) => Promise<void>} throttleReset
 * @property {() => Promise<StoredKey[]>} loadKeys oldest first
 * @property {(key: StoredKey, onlyIfNone: boolean) => Promise<void>} addKey with onlyIfNone, adds it
 *   only when the store holds no key yet (atomically: instances starting together agree on one)
 * @property {(kids: string[]) => Promise<void>} deleteKeys
 * @property {(now: number) => Promise<void>} cleanup drops what has expired (families past their
 *   absolute lifetime, tickets, throttle entries); stores with expiring keys may do nothing
 */

import { ServiceUnavailableError } from './errors.js';

/** `init` connects and migrates, which may take longer than a request should wait: its own limit. */
const INIT_TIMEOUT_MS = 30_000;

/**
 * The store behind a guard: an operation that fails or takes longer than `timeoutMs` (`init`: 30 s)
 * rejects with a ServiceUnavailableError (answered 503 + Retry-After), never with anything that
 * could become a 401.
 * @param {Store} store @param {{ timeoutMs: number, retryAfter: number }} o
 * @returns {Store}
 */
export function guardStore(store, { timeoutMs: requestTimeoutMs, retryAfter }) {
  /** @param {string} name @param {(...args: any[]) => Promise<any>} fn */
  const wrap =
    (name, fn) =>
    (/** @type {any[]} */ ...args) => {
      const timeoutMs = name === 'init' ? Math.max(INIT_TIMEOUT_MS, requestTimeoutMs) : requestTimeoutMs;
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new ServiceUnavailableError(`session store: ${name} timed out`, { retryAfter })),
          timeoutMs,
        );
      });
      const call = Promise.resolve()
        .then(() => fn(...args))
        .catch((cause) => {
          throw new ServiceUnavailableError(`session store: ${name} failed`, { cause, retryAfter });
        });
      return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
    };
  /** @type {any} */
  const guarded = { kind: store.kind };
  for (const [name, value] of Object.entries(store)) {
    if (typeof value === 'function') guarded[name] = wrap(name, value.bind(store));
  }
  return guarded;
}
