// @ts-check
/**
 * Refresh-token families with rotation, a grace window for the immediately previous token, reuse
 * detection, absolute and idle lifetimes. In-memory; only SHA-256 hashes of tokens are stored.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * @typedef {object} Family
 * @property {string} id internal handle, never sent to clients
 * @property {string} sid opaque random session id, sent to clients as the access token's `sid` claim
 * @property {number} userId
 * @property {number} createdAt ms
 * @property {number} expiresAt ms; absolute, never extended by rotation
 * @property {number} lastUsedAt ms; issue time of the current token (idle expiry base)
 * @property {string} currentHash
 * @property {string | null} previousHash the token rotated away most recently
 * @property {{ at: number, reason: string } | null} revoked
 *
 * @typedef {object} TokenRecord
 * @property {Family} family
 * @property {number | null} usedAt ms of its rotation
 * @property {Buffer | null} sealedSuccessor successor token, XOR-sealed with a key only this token derives
 *
 * @typedef {'unknown' | 'revoked' | 'expired' | 'idle' | 'reuse'} FailReason
 * @typedef {{ ok: true, kind: 'rotated' | 'grace', token: string, family: Family }
 *   | { ok: false, reason: FailReason, family?: Family }} UseResult
 * @typedef {(family: Family, reason: string) => void} RevokeListener
 */

/** @param {string} token */
const hashToken = (token) => createHash('sha256').update(token).digest('base64url');

/**
 * The successor is stored sealed with a pad derived from its predecessor, so the server can hand
 * the same successor back during the grace window without keeping any usable token in memory.
 * @param {string} predecessor
 * @param {Buffer} data 32 bytes
 */
function xorSeal(predecessor, data) {
  const pad = createHmac('sha256', predecessor).update('auth-shell successor seal').digest();
  return Buffer.from(data.map((b, i) => b ^ pad[i]));
}

/**
 * @param {{ refreshTtl: number, idleTtl: number, graceMs: number, now: () => number }} opts
 *   lifetimes in seconds, graceMs in ms
 */
export function createRefreshStore({ refreshTtl, idleTtl, graceMs, now }) {
  /** @type {Map<string, TokenRecord>} */
  const tokens = new Map();
  /** @type {Map<string, Family>} */
  const families = new Map();
  /** @type {Map<string, Family>} */
  const bySid = new Map();
  /** userId → that user's families, oldest first (insertion order). @type {Map<number, Set<Family>>} */
  const byUser = new Map();
  /** @type {Set<RevokeListener>} */
  const listeners = new Set();
  let lastSweep = now();

  /** @param {Family} family */
  function issue(family) {
    const raw = randomBytes(32);
    const token = raw.toString('base64url');
    const hash = hashToken(token);
    tokens.set(hash, { family, usedAt: null, sealedSuccessor: null });
    family.currentHash = hash;
    family.lastUsedAt = now();
    return { token, raw };
  }

  /** Drops families past their absolute lifetime (at most once a minute). */
  function sweep() {
    const t = now();
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    for (const [hash, rec] of tokens) if (rec.family.expiresAt <= t) tokens.delete(hash);
    for (const [id, fam] of families) {
      if (fam.expiresAt > t) continue;
      families.delete(id);
      bySid.delete(fam.sid);
      const own = byUser.get(fam.userId);
      own?.delete(fam);
      if (own?.size === 0) byUser.delete(fam.userId);
    }
  }

  /** @param {Family} family @param {string} reason */
  function revokeFamily(family, reason) {
    if (family.revoked) return false;
    family.revoked = { at: now(), reason };
    for (const listener of listeners) listener(family, reason);
    return true;
  }

  /** @param {string | undefined} token */
  function findFamily(token) {
    return token ? tokens.get(hashToken(token))?.family : undefined;
  }

  return {
    /** Starts a new family for a login. @param {number} userId */
    createFamily(userId) {
      sweep();
      const t = now();
      /** @type {Family} */
      const family = {
        id: randomBytes(12).toString('base64url'),
        sid: randomBytes(16).toString('base64url'),
        userId,
        createdAt: t,
        expiresAt: t + refreshTtl * 1000,
        lastUsedAt: t,
        currentHash: '',
        previousHash: null,
        revoked: null,
      };
      families.set(family.id, family);
      bySid.set(family.sid, family);
      byUser.set(userId, (byUser.get(userId) ?? new Set()).add(family));
      return { token: issue(family).token, family };
    },

    /**
     * Presents a refresh token: rotates it, answers a grace retry, or detects reuse.
     * @param {string | undefined} token
     * @returns {UseResult}
     */
    use(token) {
      const hash = token ? hashToken(token) : '';
      const rec = tokens.get(hash);
      if (!token || !rec) return { ok: false, reason: 'unknown' };
      const { family } = rec;
      const t = now();
      if (family.revoked) return { ok: false, reason: 'revoked', family };
      if (t >= family.expiresAt) return { ok: false, reason: 'expired', family };
      if (t - family.lastUsedAt > idleTtl * 1000) return { ok: false, reason: 'idle', family };

      if (hash === family.currentHash) {
        const next = issue(family);
        rec.usedAt = t;
        rec.sealedSuccessor = xorSeal(token, next.raw);
        family.previousHash = hash;
        return { ok: true, kind: 'rotated', token: next.token, family };
      }
      if (hash === family.previousHash && rec.usedAt !== null && rec.sealedSuccessor && t - rec.usedAt <= graceMs) {
        const successor = xorSeal(token, rec.sealedSuccessor).toString('base64url');
        return { ok: true, kind: 'grace', token: successor, family };
      }
      revokeFamily(family, 'reuse');
      return { ok: false, reason: 'reuse', family };
    },

    findFamily,
    revokeFamily,

    /** The family of a session id (`sid` claim), revoked or not, until it is swept. @param {string} sid */
    findFamilyBySid: (sid) => bySid.get(sid),

    /** Revokes the family of a token, if any. @param {string | undefined} token @param {string} reason */
    revokeByToken(token, reason) {
      const family = findFamily(token);
      return family ? revokeFamily(family, reason) : false;
    },

    /** Live (unrevoked, unexpired) families of a user, oldest first. @param {number} userId */
    familiesOfUser(userId) {
      const t = now();
      return [...(byUser.get(userId) ?? [])].filter((f) => !f.revoked && f.expiresAt > t);
    },

    /**
     * Revokes the oldest live families of a user until at most `max` are left; returns how many.
     * @param {number} userId @param {number} max @param {string} reason
     */
    limitUser(userId, max, reason) {
      const live = this.familiesOfUser(userId);
      let n = 0;
      for (const f of live.slice(0, Math.max(0, live.length - max))) if (revokeFamily(f, reason)) n++;
      return n;
    },

    /** Revokes every family of a user (e.g. password change). @param {number} userId @param {string} reason */
    revokeUser(userId, reason) {
      let n = 0;
      for (const f of this.familiesOfUser(userId)) if (revokeFamily(f, reason)) n++;
      return n;
    },

    /** @param {RevokeListener} listener @returns {() => void} unsubscribe */
    onFamilyRevoked(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
