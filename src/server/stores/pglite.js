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
 * @param {{ dataDir?: string }} [options] no dataDir: in memory (nothing survives the process)
 */
export function pgliteStore({ dataDir } = {}) {
  return sqlStore('pglite', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir ?? 'memory://');
    return {
      query: async (text, params = []) => (await db.query(text, params)).rows,
      transaction: (fn) =>
        db.transaction((tx) =>
          fn({
            query: async (text, params = []) => (await tx.query(text, params)).rows,
            exec: async (text) => void (await tx.exec(text)),
          }),
        ),
      close: () => db.close(),
    };
  });
}
