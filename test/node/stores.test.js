// Every session store of auth-shell/server through the one shared suite (test/support/store-suite.mjs):
// memory, PGlite on disk, and real Postgres and Redis servers started here (Debian's binaries, a
// temporary directory, a free port; stopped by pid at the end).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { memoryStore } from '../../src/server/stores/memory.js';
import { pgliteStore } from '../../src/server/stores/pglite.js';
import { postgresStore } from '../../src/server/stores/postgres.js';
import { redisStore } from '../../src/server/stores/redis.js';
import { MIGRATIONS } from '../../src/server/stores/sql.js';
import { startPostgres, startRedis } from '../support/services.mjs';
import { storeSuite } from '../support/store-suite.mjs';

/** @type {Awaited<ReturnType<typeof startPostgres>>} */
let postgres;
/** @type {Awaited<ReturnType<typeof startRedis>>} */
let redis;
const pgliteDir = mkdtempSync(join(tmpdir(), 'auth-shell-pglite-'));
/** One PGlite for the file (it takes seconds to start); each test empties its tables. */
/** @type {PGlite} */
let pglite;

before(async () => {
  [postgres, redis, pglite] = await Promise.all([startPostgres(), startRedis(), PGlite.create(pgliteDir)]);
});

after(async () => {
  await Promise.all([postgres?.stop(), redis?.stop(), pglite?.close()]);
  rmSync(pgliteDir, { recursive: true, force: true });
});

let databases = 0;
/** A new, empty database on the Postgres server: every test has its own. */
async function newDatabase() {
  const name = `t${++databases}`;
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return postgres.url.replace(/\/postgres$/, `/${name}`);
}
/** @type {WeakMap<object, string>} */
const urlOf = new WeakMap();

storeSuite('memory', { fresh: async () => memoryStore() });

storeSuite('PGlite', {
  async fresh() {
    const store = pgliteStore({ db: pglite });
    await store.init();
    await pglite.exec('truncate auth_shell_families, auth_shell_tickets, auth_shell_throttle, auth_shell_keys');
    return store;
  },
  // A real restart: the data directory closed and opened again by a new PGlite.
  async reopen() {
    await pglite.close();
    pglite = await PGlite.create(pgliteDir);
    return pgliteStore({ db: pglite });
  },
});

storeSuite('Postgres', {
  async fresh() {
    const url = await newDatabase();
    const store = postgresStore({ connectionString: url });
    urlOf.set(store, url);
    return store;
  },
  async reopen(store) {
    await postgres.restart();
    return postgresStore({ connectionString: /** @type {string} */ (urlOf.get(store)) });
  },
  outage: { down: () => postgres.down(), up: () => postgres.up() },
});

let prefixes = 0;
storeSuite('Redis', {
  async fresh() {
    const prefix = `t${++prefixes}:`;
    const store = redisStore({ url: redis.url, prefix });
    urlOf.set(store, prefix);
    return store;
  },
  // A real restart: Redis stopped and started again from its append-only file.
  async reopen(store) {
    await redis.restart();
    return redisStore({ url: redis.url, prefix: /** @type {string} */ (urlOf.get(store)) });
  },
  outage: {
    down: () => redis.down(),
    up: () => redis.up(),
    hang: async () => void process.kill(/** @type {number} */ (redis.pid), 'SIGSTOP'),
    resume: async () => void process.kill(/** @type {number} */ (redis.pid), 'SIGCONT'),
  },
  async expiryOf(store, ref) {
    const { stdout } = await promisify(execFile)('redis-cli', [
      '-p',
      String(redis.port),
      'pttl',
      `${urlOf.get(store)}f:${ref}`,
    ]);
    return Number(stdout.trim());
  },
});

describe('SQL migrations', () => {
  test('instances starting together on a new database apply each migration once; starting again changes nothing', async () => {
    const url = await newDatabase();
    const stores = [1, 2, 3].map(() => postgresStore({ connectionString: url }));
    try {
      await Promise.all(stores.map((s) => s.init()));
      await stores[0].init();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query('select version from auth_shell_schema order by version');
        assert.deepEqual(
          rows.map((r) => r.version),
          MIGRATIONS.map((m) => m.version),
        );
        const tables = await client.query(
          "select tablename from pg_tables where tablename like 'auth_shell_%' order by 1",
        );
        assert.deepEqual(
          tables.rows.map((r) => r.tablename),
          ['auth_shell_families', 'auth_shell_keys', 'auth_shell_schema', 'auth_shell_throttle', 'auth_shell_tickets'],
        );
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('refresh tokens are stored as hashes only', async () => {
    const url = await newDatabase();
    const { serverOn } = await import('../support/store-suite.mjs');
    const s = serverOn(postgresStore({ connectionString: url }));
    try {
      const { rt } = await s.login('alice');
      const next = (await s.refresh(rt)).rt;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query('select * from auth_shell_families');
        const dump = JSON.stringify(rows);
        assert.equal(rows.length, 1);
        for (const token of [rt, next]) assert.equal(dump.includes(/** @type {string} */ (token)), false);
      } finally {
        await client.end();
      }
    } finally {
      await s.auth.close();
    }
  });
});
