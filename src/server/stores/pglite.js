// @ts-check
/**
 * `pgliteStore({ dataDir })`: sessions in PGlite (Postgres compiled to WebAssembly, in this
 * process), in a data directory on disk: they survive a restart with no database server to run.
 * The same SQL as the Postgres store (sql.js). One process per data directory: for several
 * instances, use Postgres or Redis. Uses `@electric-sql/pglite` (an optional peer dependency,
 * loaded on first use).
 */
import { mkdirSync } from 'node:fs';
import { sqlStore } from './sql.js';

/**
 * @param {{ dataDir?: string, db?: any }} [options] no dataDir: in
 *   memory (nothing survives the process); `db`: an open PGlite of yours instead (not closed by close())
 */
export function pgliteStore({ dataDir, db: given } = {}) {
  return sqlStore('pglite', async () => {
    /** @type {import('@electric-sql/pglite').PGlite} */
    let db = given;
    if (!db) {
      const { PGlite } = await import('@electric-sql/pglite');
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      db = await PGlite.create(dataDir ?? 'memory://');
    }
    const pglite = db;
    return {
      query: async (text, params = []) => (await pglite.query(text, params)).rows,
      transaction: (fn) =>
        pglite.transaction((tx) =>
          fn({
            query: async (text, params = []) => (await tx.query(text, params)).rows,
            exec: async (text) => void (await tx.exec(text)),
          }),
        ),
      close: async () => {
        if (!given) await pglite.close();
      },
    };
  });
}
