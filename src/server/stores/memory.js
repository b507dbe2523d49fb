// @ts-check
/**
 * `memoryStore()`: sessions in this process's memory. For tests and single-process demos: a restart
 * ends every session, and a second instance sees none of the first one's. Every operation is one
 * synchronous step, so it is atomic by construction.
 *
 * Throttle entries are bounded (`maxThrottleKeys`): counting entries are forgotten least recently
 * seen first, locked ones never (forgetting a lock would hand a guesser a fresh budget). When
 * `maxThrottleKeys` locked entries fill the table, a login whose keys are not tracked is answered as
 * locked until the soonest lock ends: failing closed beats counting nothing.
 */

/**
 * @typedef {import('../store.js').Store} Store
 * @typedef {import('../store.js').FamilyInfo & { currentHash: string, previousHash: string | null,
 *   previousUsedAt: number, sealed: string | null, seq: number }} Family
 * @typedef {{ failures: number, windowStart: number, lockedUntil: number, expiresAt: number }} ThrottleEntry
 *   `expiresAt`: when both its window and its lock are over
 */

/**
 * @param {{ maxThrottleKeys?: number }} [options]
 * @returns {Store}
 */
export function memoryStore({ maxThrottleKeys = 100_000 } = {}) {
  if (!(Number.isSafeInteger(maxThrottleKeys) && maxThrottleKeys > 0))
    throw new RangeError(`maxThrottleKeys must be an integer > 0, not ${maxThrottleKeys}`);
  /** @type {Map<string, Family>} */
  const families = new Map();
  /** @type {Map<string, Family>} */
  const bySid = new Map();
  /** userId → refs, oldest first. @type {Map<string, Set<string>>} */
  const byUser = new Map();
  /** @type {Map<string, { minter: string, data: import('../store.js').TicketData, expiresAt: number, used: boolean }>} */
  const tickets = new Map();
  /** @type {Map<string, Set<string>>} */
  const byMinter = new Map();
  /** Counting throttle entries, least recently seen first. @type {Map<string, ThrottleEntry>} */
  const counting = new Map();
  /** Locked throttle entries: never evicted. @type {Map<string, ThrottleEntry>} */
  const locked = new Map();
  /** While the locked table is full: until when untracked keys count as locked. */
  let saturatedUntil = 0;
  /** @type {import('../store.js').StoredKey[]} */
  let keys = [];
  let seq = 0;

  /** @param {Family} f @returns {import('../store.js').FamilyInfo} */
  const view = (f) => ({
    ref: f.ref,
    sid: f.sid,
    userId: f.userId,
    claims: structuredClone(f.claims),
    createdAt: f.createdAt,
    expiresAt: f.expiresAt,
    lastUsedAt: f.lastUsedAt,
    revoked: f.revoked && { ...f.revoked },
  });
  /** @param {Family} f */
  const brief = (f) => ({ sid: f.sid, userId: f.userId, claims: structuredClone(f.claims), expiresAt: f.expiresAt });

  /** @param {Family} f */
  function drop(f) {
    families.delete(f.ref);
    bySid.delete(f.sid);
    const own = byUser.get(f.userId);
    own?.delete(f.ref);
    if (own?.size === 0) byUser.delete(f.userId);
  }

  /** @param {string} userId @param {number} now */
  const liveOf = (userId, now) =>
    [...(byUser.get(userId) ?? [])]
      .map((ref) => /** @type {Family} */ (families.get(ref)))
      .filter((f) => !f.revoked && f.expiresAt > now);

  /** @param {Family} f @param {string} reason @param {number} now */
  function revoke(f, reason, now) {
    if (f.revoked) return null;
    f.revoked = { at: now, reason };
    return { sid: f.sid, userId: f.userId };
  }

  /** @param {string} hash */
  function dropTicket(hash) {
    const ticket = tickets.get(hash);
    if (!ticket) return;
    tickets.delete(hash);
    const minted = byMinter.get(ticket.minter);
    minted?.delete(hash);
    if (minted?.size === 0) byMinter.delete(ticket.minter);
  }

  /** @param {ThrottleEntry} e @param {number} now */
  const throttleOver = (e, now) => e.expiresAt <= now;

  /** The live entry of a key (moved to the newest end if counting), or undefined. @param {string} key @param {number} now */
  function throttleEntry(key, now) {
    const held = locked.get(key);
    if (held) {
      if (held.lockedUntil > now) return held;
      locked.delete(key);
      if (throttleOver(held, now)) return undefined;
      counting.set(key, held);
      return held;
    }
    const entry = counting.get(key);
    if (!entry) return undefined;
    counting.delete(key);
    if (throttleOver(entry, now)) return undefined;
    counting.set(key, entry);
    return entry;
  }

  /** @param {number} now */
  function sweepLocked(now) {
    for (const [key, entry] of locked) if (entry.lockedUntil <= now) locked.delete(key);
  }

  return {
    kind: 'memory',
    async init() {},
    async close() {},

    async createFamily(family, { now, maxPerUser, reason }) {
      if (families.has(family.ref) || bySid.has(family.sid)) throw new Error('duplicate family');
      /** @type {Family} */
      const f = {
        ref: family.ref,
        sid: family.sid,
        userId: family.userId,
        claims: structuredClone(family.claims),
        createdAt: family.createdAt,
        expiresAt: family.expiresAt,
        lastUsedAt: family.createdAt,
        revoked: null,
        currentHash: family.tokenHash,
        previousHash: null,
        previousUsedAt: 0,
        sealed: null,
        seq: ++seq,
      };
      families.set(f.ref, f);
      bySid.set(f.sid, f);
      byUser.set(f.userId, (byUser.get(f.userId) ?? new Set()).add(f.ref));
      const live = liveOf(f.userId, now);
      /** @type {import('../store.js').Revoked[]} */
      const evicted = [];
      for (const old of live.slice(0, Math.max(0, live.length - maxPerUser))) {
        const r = revoke(old, reason, now);
        if (r) evicted.push(r);
      }
      return evicted;
    },

    async rotate({ ref, presentedHash, nextHash, sealed, now, graceMs, idleMs }) {
      const f = families.get(ref);
      if (!f) return { outcome: 'unknown' };
      const family = brief(f);
      if (f.revoked) return { outcome: 'revoked', family };
      if (now >= f.expiresAt) return { outcome: 'expired', family };
      if (now - f.lastUsedAt > idleMs) return { outcome: 'idle', family };
      if (presentedHash === f.currentHash) {
        Object.assign(f, {
          previousHash: presentedHash,
          previousUsedAt: now,
          sealed,
          currentHash: nextHash,
          lastUsedAt: now,
        });
        return { outcome: 'rotated', family };
      }
      if (presentedHash === f.previousHash && f.sealed && now - f.previousUsedAt <= graceMs) {
        return { outcome: 'grace', family, sealed: f.sealed };
      }
      revoke(f, 'reuse', now);
      return { outcome: 'reuse', family };
    },

    async findFamily(ref) {
      const f = families.get(ref);
      return f ? view(f) : null;
    },

    async findFamilyBySid(sid) {
      const f = bySid.get(sid);
      return f ? view(f) : null;
    },

    async revokeFamily(ref, reason, now) {
      const f = families.get(ref);
      return f ? revoke(f, reason, now) : null;
    },

    async revokeUser(userId, reason, now) {
      /** @type {import('../store.js').Revoked[]} */
      const out = [];
      for (const f of liveOf(userId, now)) {
        const r = revoke(f, reason, now);
        if (r) out.push(r);
      }
      return out;
    },

    async putTicket({ hash, minter, data, expiresAt, now, max }) {
      const minted = byMinter.get(minter) ?? new Set();
      const outstanding = [...minted]
        .map((h) => tickets.get(h))
        .filter((t) => t !== undefined && !t.used && t.expiresAt > now)
        .map((t) => /** @type {{ expiresAt: number }} */ (t).expiresAt);
      if (outstanding.length >= max) return Math.min(...outstanding);
      tickets.set(hash, { minter, data: { ...data }, expiresAt, used: false });
      byMinter.set(minter, minted.add(hash));
      return 0;
    },

    async takeTicket(hash, now) {
      const ticket = tickets.get(hash);
      if (!ticket) return null;
      const valid = !ticket.used && ticket.expiresAt > now;
      ticket.used = true;
      return { data: { ...ticket.data }, valid };
    },

    async throttleCheck(keyList, now) {
      let until = 0;
      for (const key of keyList) {
        const entry = throttleEntry(key, now);
        if (entry && entry.lockedUntil > now) until = Math.max(until, entry.lockedUntil);
        else if (!entry && saturatedUntil > now) until = Math.max(until, saturatedUntil);
      }
      return until;
    },

    async throttleFail(entries, { now, windowMs, lockMs }) {
      for (const { key, limit } of entries) {
        let entry = throttleEntry(key, now);
        if (!entry) {
          if (counting.size + locked.size >= maxThrottleKeys) {
            const oldest = counting.keys().next();
            if (!oldest.done) counting.delete(oldest.value);
            else sweepLocked(now);
          }
          if (counting.size + locked.size >= maxThrottleKeys) {
            // Every tracked key is locked: this failure cannot be counted, so untracked keys count
            // as locked until the soonest lock ends.
            const soonest = Math.min(...[...locked.values()].map((e) => e.lockedUntil));
            saturatedUntil = Math.max(saturatedUntil, soonest);
            continue;
          }
          entry = { failures: 0, windowStart: now, lockedUntil: 0, expiresAt: 0 };
          counting.set(key, entry);
        }
        if (++entry.failures >= limit) {
          Object.assign(entry, { failures: 0, windowStart: now, lockedUntil: now + lockMs });
          counting.delete(key);
          locked.set(key, entry);
        }
        entry.expiresAt = Math.max(entry.windowStart + windowMs, entry.lockedUntil);
      }
    },

    async throttleReset(key) {
      counting.delete(key);
      locked.delete(key);
    },

    async loadKeys() {
      return keys.map((k) => ({ ...k, jwk: { ...k.jwk } }));
    },

    async addKey(key, onlyIfNone) {
      if (onlyIfNone && keys.length > 0) return;
      keys = [...keys, { ...key, jwk: { ...key.jwk } }].sort((a, b) => a.createdAt - b.createdAt);
    },

    async deleteKeys(kids) {
      keys = keys.filter((k) => !kids.includes(k.kid));
    },

    async cleanup(now) {
      for (const f of [...families.values()]) if (f.expiresAt <= now) drop(f);
      for (const [hash, t] of [...tickets]) if (t.expiresAt <= now) dropTicket(hash);
      for (const [key, e] of [...counting]) if (throttleOver(e, now)) counting.delete(key);
      sweepLocked(now);
      if (saturatedUntil <= now) saturatedUntil = 0;
    },
  };
}
