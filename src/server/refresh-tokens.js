// @ts-check
/**
 * Refresh tokens and their families (sessions), on top of a store: rotation on every use, a grace
 * window for the immediately previous token (answered with the same successor), reuse detection
 * that revokes the family, absolute and idle lifetimes.
 *
 * A refresh token is 48 random bytes, base64url (64 characters): the family's `ref` (16 bytes,
 * the same for every token of the family) and a secret (32 bytes, new at every rotation). The store
 * keeps the ref, the SHA-256 of the current and of the previous token, and nothing usable: a token
 * whose ref is known but whose hash is neither is an older token of the family, presented again —
 * reuse — so the family is revoked (RFC 9700 §4.14). Only someone who once held a token of the
 * family knows its ref. The `sid` (the session id clients see) is a separate random value; the ref
 * never leaves the cookie.
 *
 * To answer the grace retry with the same successor without storing it, the successor's secret is
 * kept XOR-sealed with an HMAC of its predecessor: only someone presenting the predecessor opens it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

const REF_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN = /^[A-Za-z0-9_-]{64}$/;

/** @param {string} token */
export const hashToken = (token) => createHash('sha256').update(token).digest('base64url');

/**
 * The family ref of a well-formed refresh token, or undefined.
 * @param {string | undefined} token
 */
export function refOf(token) {
  if (!token || !TOKEN.test(token)) return undefined;
  return Buffer.from(token, 'base64url').subarray(0, REF_BYTES).toString('base64url');
}

/** @param {string} ref @param {Buffer} secret */
const tokenOf = (ref, secret) => Buffer.concat([Buffer.from(ref, 'base64url'), secret]).toString('base64url');

/** @param {string} predecessor @param {Buffer} data 32 bytes */
function xorSeal(predecessor, data) {
  const pad = createHmac('sha256', predecessor).update('auth-shell successor seal').digest();
  return Buffer.from(data.map((b, i) => b ^ pad[i]));
}

/**
 * @typedef {object} SessionOptions
 * @property {import('./store.js').Store} store
 * @property {number} sessionTtl absolute lifetime of a family, s
 * @property {number} idleTtl longest time without a rotation, s
 * @property {number} gracePeriod s
 * @property {number} maxSessionsPerUser
 * @property {() => number} now ms
 *
 * @typedef {{ sid: string, userId: string, claims: Record<string, unknown>, expiresAt: number }} FamilyView
 * @typedef {{ ok: true, kind: 'rotated' | 'grace', token: string, family: FamilyView }
 *   | { ok: false, reason: Exclude<import('./store.js').RotateOutcome, 'rotated' | 'grace'>, family?: FamilyView }} UseResult
 */

/** @param {SessionOptions} o */
export function createSessions({ store, sessionTtl, idleTtl, gracePeriod, maxSessionsPerUser, now }) {
  return {
    /**
     * Starts a family for a login; returns its first token and the families it pushed out.
     * @param {string} userId @param {Record<string, unknown>} claims
     */
    async start(userId, claims) {
      const t = now();
      const ref = randomBytes(REF_BYTES).toString('base64url');
      const token = tokenOf(ref, randomBytes(SECRET_BYTES));
      const family = {
        ref,
        sid: randomBytes(16).toString('base64url'),
        userId,
        claims,
        createdAt: t,
        expiresAt: t + sessionTtl * 1000,
        tokenHash: hashToken(token),
      };
      const evicted = await store.createFamily(family, { now: t, maxPerUser: maxSessionsPerUser, reason: 'evicted' });
      return { token, family: { sid: family.sid, userId, claims, expiresAt: family.expiresAt }, evicted };
    },

    /**
     * Presents a refresh token: rotates it, answers a grace retry, or detects reuse.
     * @param {string | undefined} token
     * @returns {Promise<UseResult>}
     */
    async use(token) {
      const ref = refOf(token);
      if (!token || !ref) return { ok: false, reason: 'unknown' };
      const secret = randomBytes(SECRET_BYTES);
      const next = tokenOf(ref, secret);
      const result = await store.rotate({
        ref,
        presentedHash: hashToken(token),
        nextHash: hashToken(next),
        sealed: xorSeal(token, secret).toString('base64url'),
        now: now(),
        graceMs: gracePeriod * 1000,
        idleMs: idleTtl * 1000,
      });
      const { outcome, family } = result;
      if (outcome === 'rotated' && family) return { ok: true, kind: 'rotated', token: next, family };
      if (outcome === 'grace' && family && result.sealed) {
        const successor = tokenOf(ref, xorSeal(token, Buffer.from(result.sealed, 'base64url')));
        return { ok: true, kind: 'grace', token: successor, family };
      }
      if (outcome === 'rotated' || outcome === 'grace') throw new Error(`store answered ${outcome} without a family`);
      return family ? { ok: false, reason: outcome, family } : { ok: false, reason: outcome };
    },

    /** The family of a token, revoked or not, while the store keeps it. @param {string | undefined} token */
    find(token) {
      const ref = refOf(token);
      return ref ? store.findFamily(ref) : Promise.resolve(null);
    },

    /** Revokes the family of a token (any token of it, even an old one). @param {string | undefined} token @param {string} reason */
    revoke(token, reason) {
      const ref = refOf(token);
      return ref ? store.revokeFamily(ref, reason, now()) : Promise.resolve(null);
    },

    /** @param {string} sid @param {string} reason */
    async revokeSid(sid, reason) {
      const family = await store.findFamilyBySid(sid);
      return family ? store.revokeFamily(family.ref, reason, now()) : null;
    },

    /** @param {string} userId @param {string} reason */
    revokeUser: (userId, reason) => store.revokeUser(userId, reason, now()),

    /** @param {string} sid */
    findBySid: (sid) => store.findFamilyBySid(sid),
  };
}
