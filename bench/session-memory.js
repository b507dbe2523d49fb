// @ts-check
/**
 * Memory per live session of one store: `node --expose-gc bench/session-memory.js <store> <count>`
 * (STORE_URL for postgres and redis, DATA_DIR for pglite) opens `count` sessions through the store
 * (a family row or hash each, as a login makes it, with claims the size of the demo's) and prints
 * `{ bytes, sessions, ms }` as JSON: the growth of the V8 heap (memory), of Redis's used_memory
 * (redis), of the families table with its indexes (postgres, pglite).
 */
import { createClient } from 'redis';
import pg from 'pg';
import { createSessions } from '../src/server/refresh-tokens.js';
import { memoryStore } from '../src/server/stores/memory.js';
import { pgliteStore } from '../src/server/stores/pglite.js';
import { postgresStore } from '../src/server/stores/postgres.js';
import { redisStore } from '../src/server/stores/redis.js';

const [kind = 'memory', countArg = '100000'] = process.argv.slice(2);
const count = Number(countArg);
const { STORE_URL = '', DATA_DIR } = process.env;
const gc = /** @type {() => void} */ (globalThis.gc ?? (() => {}));

/** PGlite is one process's: the store and the measurement share one. */
const pglite =
  kind === 'pglite' ? await (await import('@electric-sql/pglite')).PGlite.create(DATA_DIR ?? 'memory://') : undefined;
/** @type {import('../src/server/store.js').Store} */
const store =
  kind === 'postgres'
    ? postgresStore({ connectionString: STORE_URL, max: 16 })
    : kind === 'redis'
      ? redisStore({ url: STORE_URL, prefix: 'mem:' })
      : pglite
        ? pgliteStore({ db: pglite })
        : memoryStore();
await store.init();

/** @type {(() => Promise<number>) | undefined} */
let measure;
/** @type {(() => Promise<void>) | undefined} */
let done;
if (kind === 'redis') {
  const client = createClient({ url: STORE_URL });
  await client.connect();
  measure = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
  done = async () => void client.destroy();
} else if (kind === 'postgres') {
  const client = new pg.Client({ connectionString: STORE_URL });
  await client.connect();
  measure = async () => {
    await client.query('vacuum analyze auth_shell_families');
    return Number((await client.query("select pg_total_relation_size('auth_shell_families') as n")).rows[0].n);
  };
  done = () => client.end();
} else if (pglite) {
  const db = pglite;
  measure = async () => {
    await db.exec('vacuum analyze auth_shell_families');
    const { rows } = await db.query("select pg_total_relation_size('auth_shell_families') as n");
    return Number(/** @type {any} */ (rows[0]).n);
  };
  done = () => db.close();
} else {
  measure = async () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
}

const sessions = createSessions({
  store,
  sessionTtl: 8 * 3600,
  idleTtl: 3600,
  gracePeriod: 5,
  maxSessionsPerUser: 1_000_000,
  now: Date.now,
});
const claims = { user_id: 1, role: 'user', name: 'Alice Example' };
/** Keeps what a server keeps per session in memory: nothing but the store's own data. */
const before = await measure();
const started = performance.now();
const CONCURRENCY = kind === 'memory' ? 1 : 64;
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      await sessions.start(`user-${i % 5000}`, claims);
    }
  }),
);
const ms = performance.now() - started;
const after = await measure();
console.log(JSON.stringify({ bytes: after - before, sessions: count, ms: Math.round(ms) }));
await done?.();
await store.close();
