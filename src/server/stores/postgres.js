// @ts-check
/**
 * `postgresStore({ connectionString })`: sessions in Postgres, for many instances behind a load
 * balancer. Uses `pg` (an optional peer dependency, loaded on first use). The schema is created
 * and migrated on start (idempotent, see sql.js); expired rows are deleted by the server's own
 * cleanup timer, so there is no cron to write.
 */
import { sqlStore } from './sql.js';

/**
 * @typedef {object} PostgresStoreOptions
 * @property {string} [connectionString] e.g. `postgres://user:pass@host:5432/db`
 * @property {any} [pool] an existing `pg.Pool` instead (not ended by close())
 * @property {number} [max] pool size (default 10)
 * @property {number} [connectionTimeoutMillis] default 3000: a store that cannot be reached fails fast (503)
 */

/** @param {PostgresStoreOptions} options */
export function postgresStore(options) {
  const { connectionString, pool: given, max = 10, connectionTimeoutMillis = 3000 } = options ?? {};
  if (!given && !connectionString) throw new TypeError('postgresStore needs a connectionString or a pool');
  return sqlStore('postgres', async () => {
    /** @type {import('pg').Pool} */
    let pool;
    if (given) {
      pool = given;
    } else {
      const { default: pg } = await import('pg');
      pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis, idleTimeoutMillis: 30_000 });
      // An idle connection that the server ends (a restart, a failover) is reported here and
      // dropped by the pool; the next query opens a new one.
      pool.on('error', () => {});
    }
    return {
      async query(text, values = [], name) {
        const result = await pool.query(name ? { name, text, values } : { text, values });
        return result.rows;
      },
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const out = await fn({
            query: async (text, values = []) => (await client.query(text, values)).rows,
            exec: async (text) => void (await client.query(text)),
          });
          await client.query('commit');
          return out;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      close: async () => {
        if (!given) await pool.end();
      },
    };
  });
}
