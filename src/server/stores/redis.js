// @ts-check
/**
 * `redisStore({ url })`: sessions in Redis, for many instances. Uses the official `redis` client
 * (an optional peer dependency, loaded on first use). Every operation that must be atomic is one
 * Lua script (EVALSHA, reloaded after a Redis restart); every key expires by itself (families at
 * their absolute lifetime, tickets and throttle entries when they are over), so there is nothing
 * to clean up and no cron to write. Commands fail at once while Redis is unreachable (no offline
 * queue): the server answers 503 and the client tries again. For durability across a Redis restart,
 * run Redis with its append-only file (`appendonly yes`).
 *
 * Keys (under `prefix`, default `auth-shell:`): `f:<ref>` a family (hash), `s:<sid>` → ref,
 * `u:<userId>` the user's families (sorted set, by creation), `seq`, `t:<hash>` a ticket,
 * `tm:<minter>` a minter's unused tickets (sorted set, by expiry), `th:<key>` a throttle entry (hash),
 * `keys` the signing keys (hash). Multi-key scripts touch keys they compute, so use one Redis (or a
 * primary with replicas), not Redis Cluster.
 */
import { createHash } from 'node:crypto';

const CREATE = `
local now = tonumber(ARGV[9])
local ttl = tonumber(ARGV[7]) - now
if ttl < 1 then ttl = 1 end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'sid', ARGV[3], 'uid', ARGV[4], 'claims', ARGV[5], 'created', ARGV[6],
  'exp', ARGV[7], 'last', ARGV[6], 'cur', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[3], seq, ARGV[2])
local refs = redis.call('ZREVRANGE', KEYS[3], 0, -1)
local live, evicted, keep = 0, {}, ttl
for _, ref in ipairs(refs) do
  local key = ARGV[1] .. 'f:' .. ref
  local f = redis.call('HMGET', key, 'sid', 'uid', 'exp', 'rev')
  if not f[1] then
    redis.call('ZREM', KEYS[3], ref)
  else
    local left = tonumber(f[3]) - now
    if left > keep then keep = left end
    if not f[4] and left > 0 then
      live = live + 1
      if live > tonumber(ARGV[10]) then
        redis.call('HSET', key, 'rev', ARGV[9], 'reason', ARGV[11])
        table.insert(evicted, f[1])
        table.insert(evicted, f[2])
      end
    end
  end
end
redis.call('PEXPIRE', KEYS[3], keep)
return evicted
`;

const ROTATE = `
local f = redis.call('HMGET', KEYS[1], 'sid', 'uid', 'claims', 'exp', 'last', 'cur', 'prev', 'prevAt', 'sealed', 'rev')
if not f[1] then return {'unknown'} end
local now = tonumber(ARGV[4])
local function answer(outcome, sealed) return {outcome, f[1], f[2], f[3], f[4], sealed or ''} end
if f[10] then return answer('revoked') end
if now >= tonumber(f[4]) then return answer('expired') end
if now - tonumber(f[5]) > tonumber(ARGV[6]) then return answer('idle') end
if ARGV[1] == f[6] then
  redis.call('HSET', KEYS[1], 'prev', ARGV[1], 'prevAt', ARGV[4], 'sealed', ARGV[3], 'cur', ARGV[2], 'last', ARGV[4])
  return answer('rotated')
end
if f[7] and ARGV[1] == f[7] and f[9] and now - tonumber(f[8]) <= tonumber(ARGV[5]) then
  return answer('grace', f[9])
end
redis.call('HSET', KEYS[1], 'rev', ARGV[4], 'reason', 'reuse')
return answer('reuse')
`;

const REVOKE = `
local f = redis.call('HMGET', KEYS[1], 'sid', 'uid', 'rev')
if not f[1] or f[3] then return {} end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'reason', ARGV[1])
return {f[1], f[2]}
`;

const REVOKE_USER = `
local now = tonumber(ARGV[3])
local out = {}
for _, ref in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. 'f:' .. ref
  local f = redis.call('HMGET', key, 'sid', 'uid', 'exp', 'rev')
  if not f[1] then
    redis.call('ZREM', KEYS[1], ref)
  elseif not f[4] and tonumber(f[3]) > now then
    redis.call('HSET', key, 'rev', ARGV[3], 'reason', ARGV[2])
    table.insert(out, f[1])
    table.insert(out, f[2])
  end
end
return out
`;

const PUT_TICKET = `
local now = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return first[2]
end
local ttl = tonumber(ARGV[3]) - now
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return '0'
`;

const TAKE_TICKET = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local t = cjson.decode(v)
if t.used then return {v, '1'} end
t.used = true
redis.call('SET', KEYS[1], cjson.encode(t), 'KEEPTTL')
redis.call('ZREM', ARGV[1] .. 'tm:' .. t.minter, ARGV[2])
return {v, '0'}
`;

const THROTTLE_CHECK = `
local now = tonumber(ARGV[1])
local u = 0
for _, key in ipairs(KEYS) do
  local l = tonumber(redis.call('HGET', key, 'locked') or '0')
  if l > now and l > u then u = l end
end
return tostring(u)
`;

const THROTTLE_FAIL = `
local now, window, lock = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local e = redis.call('HMGET', key, 'failures', 'start', 'locked', 'exp')
  local f, ws, lu = 0, now, 0
  if e[4] and tonumber(e[4]) > now then
    f, ws, lu = tonumber(e[1]), tonumber(e[2]), tonumber(e[3])
  end
  f = f + 1
  if f >= tonumber(ARGV[3 + i]) then
    f, ws, lu = 0, now, now + lock
  end
  local exp = math.max(ws + window, lu)
  redis.call('HSET', key, 'failures', f, 'start', string.format('%d', ws), 'locked', string.format('%d', lu),
    'exp', string.format('%d', exp))
  redis.call('PEXPIRE', key, exp - now)
end
return 0
`;

const ADD_KEY = `
if ARGV[3] == '1' and redis.call('HLEN', KEYS[1]) > 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** @param {string} script */
const sha1 = (script) => createHash('sha1').update(script).digest('hex');

/**
 * @typedef {object} RedisStoreOptions
 * @property {string} [url] e.g. `redis://127.0.0.1:6379`
 * @property {any} [client] an existing node-redis client instead (connected by you, not closed by close())
 * @property {string} [prefix] of every key (default `auth-shell:`)
 * @property {number} [connectTimeout] ms (default 3000)
 */

/**
 * @param {RedisStoreOptions} options
 * @returns {import('../store.js').Store}
 */
export function redisStore(options) {
  const { url, client: given, prefix = 'auth-shell:', connectTimeout = 3000 } = options ?? {};
  if (!given && !url) throw new TypeError('redisStore needs a url or a client');
  /** @type {any} */
  let client = given;
  /** @type {Promise<void> | undefined} */
  let connecting;

  async function connect() {
    if (client) return;
    const { createClient } = await import('redis');
    const c = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout, reconnectStrategy: (/** @type {number} */ n) => Math.min(50 * 2 ** n, 1000) },
    });
    // Connection errors are reported here while the client reconnects by itself; commands sent in
    // the meantime fail at once (503) instead of waiting in a queue.
    c.on('error', () => {});
    client = c;
    await c.connect();
  }

  /** @param {string[]} args */
  const send = (args) => /** @type {Promise<any>} */ (client.sendCommand(args));

  /**
   * Runs a script by its SHA, loading it when Redis does not know it (first use, or after a restart).
   * @param {string} script @param {string[]} keys @param {Array<string | number>} args
   */
  async function run(script, keys, args) {
    if (!client) await (connecting ??= connect());
    const rest = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await send(['EVALSHA', sha1(script), ...rest]);
    } catch (error) {
      if (!String(/** @type {Error} */ (error)?.message).startsWith('NOSCRIPT')) throw error;
      return send(['EVAL', script, ...rest]);
    }
  }

  /** @param {string} ref */
  const fam = (ref) => `${prefix}f:${ref}`;

  /** @param {string} ref @param {string[] | Record<string, string>} raw @returns {import('../store.js').FamilyInfo | null} */
  function familyOf(ref, raw) {
    /** @type {Record<string, string>} */
    const h = {};
    if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) h[raw[i]] = raw[i + 1];
    else Object.assign(h, raw);
    if (!h.sid) return null;
    return {
      ref,
      sid: h.sid,
      userId: h.uid,
      claims: JSON.parse(h.claims),
      createdAt: Number(h.created),
      expiresAt: Number(h.exp),
      lastUsedAt: Number(h.last),
      revoked: h.rev ? { at: Number(h.rev), reason: h.reason } : null,
    };
  }

  /** @param {string[]} flat @returns {import('../store.js').Revoked[]} */
  const pairs = (flat) => {
    const out = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ sid: flat[i], userId: flat[i + 1] });
    return out;
  };

  return {
    kind: 'redis',
    async init() {
      await (connecting ??= connect());
    },

    async close() {
      const c = client;
      client = undefined;
      connecting = undefined;
      if (!c || given) return;
      // Immediate: nothing is left to flush (every command is awaited), and a graceful quit would
      // wait for a Redis that may be down.
      if (typeof c.destroy === 'function') c.destroy();
      else await c.disconnect();
    },

    async createFamily(f, { now, maxPerUser, reason }) {
      const evicted = await run(
        CREATE,
        [fam(f.ref), `${prefix}s:${f.sid}`, `${prefix}u:${f.userId}`, `${prefix}seq`],
        [
          prefix,
          f.ref,
          f.sid,
          f.userId,
          JSON.stringify(f.claims),
          f.createdAt,
          f.expiresAt,
          f.tokenHash,
          now,
          maxPerUser,
          reason,
        ],
      );
      return pairs(evicted);
    },

    async rotate({ ref, presentedHash, nextHash, sealed, now, graceMs, idleMs }) {
      const r = await run(ROTATE, [fam(ref)], [presentedHash, nextHash, sealed, now, graceMs, idleMs]);
      const outcome = /** @type {import('../store.js').RotateOutcome} */ (r[0]);
      if (outcome === 'unknown') return { outcome };
      const family = { sid: r[1], userId: r[2], claims: JSON.parse(r[3]), expiresAt: Number(r[4]) };
      return r[5] ? { outcome, family, sealed: r[5] } : { outcome, family };
    },

    async findFamily(ref) {
      if (!client) await (connecting ??= connect());
      return familyOf(ref, await send(['HGETALL', fam(ref)]));
    },

    async findFamilyBySid(sid) {
      if (!client) await (connecting ??= connect());
      const ref = await send(['GET', `${prefix}s:${sid}`]);
      return ref ? familyOf(ref, await send(['HGETALL', fam(ref)])) : null;
    },

    async revokeFamily(ref, reason, now) {
      const r = await run(REVOKE, [fam(ref)], [reason, now]);
      return r.length ? { sid: r[0], userId: r[1] } : null;
    },

    async revokeUser(userId, reason, now) {
      return pairs(await run(REVOKE_USER, [`${prefix}u:${userId}`], [prefix, reason, now]));
    },

    async putTicket({ hash, minter, data, expiresAt, now, max }) {
      const value = JSON.stringify({ minter, data, expiresAt });
      const soonest = await run(
        PUT_TICKET,
        [`${prefix}t:${hash}`, `${prefix}tm:${minter}`],
        [hash, value, expiresAt, now, max],
      );
      return Number(soonest);
    },

    async takeTicket(hash, now) {
      const taken = await run(TAKE_TICKET, [`${prefix}t:${hash}`], [prefix, hash]);
      if (!taken) return null;
      const ticket = JSON.parse(taken[0]);
      return { data: ticket.data, valid: taken[1] === '0' && ticket.expiresAt > now };
    },

    async throttleCheck(keys, now) {
      return Number(
        await run(
          THROTTLE_CHECK,
          keys.map((k) => `${prefix}th:${k}`),
          [now],
        ),
      );
    },

    async throttleFail(entries, { now, windowMs, lockMs }) {
      await run(
        THROTTLE_FAIL,
        entries.map((e) => `${prefix}th:${e.key}`),
        [now, windowMs, lockMs, ...entries.map((e) => e.limit)],
      );
    },

    async throttleReset(key) {
      if (!client) await (connecting ??= connect());
      await send(['DEL', `${prefix}th:${key}`]);
    },

    async loadKeys() {
      if (!client) await (connecting ??= connect());
      const raw = await send(['HGETALL', `${prefix}keys`]);
      const entries = Array.isArray(raw)
        ? Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]])
        : Object.entries(raw);
      return entries
        .map(([kid, value]) => ({ kid, ...JSON.parse(value) }))
        .sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1));
    },

    async addKey(key, onlyIfNone) {
      const value = JSON.stringify({ jwk: key.jwk, createdAt: key.createdAt });
      await run(ADD_KEY, [`${prefix}keys`], [key.kid, value, onlyIfNone ? '1' : '0']);
    },

    async deleteKeys(kids) {
      if (kids.length === 0) return;
      if (!client) await (connecting ??= connect());
      await send(['HDEL', `${prefix}keys`, ...kids]);
    },

    async cleanup() {
      // Every key expires by itself.
    },
  };
}
