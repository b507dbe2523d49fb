// @ts-check
/**
 * Load figures of auth-shell/server per store, for `npm run bench` (reported, never enforced):
 *
 * - refresh with rotation, sustained: autocannon with 32 connections, each one session whose
 *   cookie it follows (every answer rotates it), for a few seconds: requests per second, p50/p99
 *   latency, and the server process's CPU share, hence refreshes per second per core of the server;
 * - refresh at a fixed 1,000/s: p50/p99 at that rate (the goal: p99 ≤ 25 ms);
 * - logins per second with scrypt at OWASP's cost (N = 2^17, r = 8, p = 1);
 * - memory per 100,000 live sessions: V8 heap (memory), used_memory (Redis), table and indexes
 *   (Postgres, PGlite); the slow ones measured with fewer sessions and scaled, as the row says.
 *
 * The server runs in a process of its own (bench/load-server.js); Postgres (fsync and synchronous
 * commit on) and Redis (append-only file, fsync on every write) are started for the run in
 * temporary directories (test/support/services.mjs) and stopped at the end. The machine's cores
 * also run the store and the load generator: "per core" divides by the server process's own CPU.
 */
import { execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { hasPostgres, hasRedis, startPostgres, startRedis } from '../test/support/services.mjs';
import { describe } from './util.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 3);
const CONNECTIONS = 32;
const RATE = 1000;
const LOGINS = 16;
/** Sessions the memory measurement opens per store, and what the figure is scaled to. */
const MEMORY_SESSIONS = { memory: 100_000, redis: 100_000, postgres: 20_000, pglite: 2_000 };
const PER = 100_000;

/**
 * @typedef {'memory' | 'pglite' | 'postgres' | 'redis'} StoreKind
 * @typedef {{ section: string, metric: string, value: string, target?: string, result?: string }} Row
 * @typedef {{ rps: number, p50: number, p99: number, errors: number, non2xx: number, cpuShare: number }} Run
 */

const fmt = (/** @type {number} */ n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Starts bench/load-server.js on a store; resolves its port and a CPU probe. @param {Record<string, string>} env */
async function startServer(env) {
  const child = fork(join(root, 'bench/load-server.js'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [message] = await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => Promise.reject(new Error(`load server exited (${code})`))),
  ]);
  return {
    port: /** @type {number} */ (message.port),
    /** CPU time of the server process so far, µs. */
    async cpu() {
      child.send('cpu');
      const [reply] = await once(child, 'message');
      return /** @type {number} */ (reply.cpu);
    },
    async stop() {
      child.disconnect();
      await exited;
    },
  };
}

/**
 * Runs autocannon while measuring the server's CPU share.
 * @param {Awaited<ReturnType<typeof startServer>>} server @param {Record<string, unknown>} options
 * @returns {Promise<Run>}
 */
async function load(server, options) {
  const cpu0 = await server.cpu();
  const t0 = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    ...('amount' in options ? {} : { duration: SECONDS }),
    ...options,
  });
  const wall = (performance.now() - t0) * 1000;
  const cpu1 = await server.cpu();
  return {
    rps: result.requests.total / Math.max(result.duration, 0.001),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuShare: (cpu1 - cpu0) / wall,
  };
}

const XRW = { 'x-requested-with': 'auth-shell-bench' };

let opened = 0;

/**
 * Opens `n` sessions (cheap logins) and returns their refresh cookies.
 * @param {number} port @param {number} n
 */
async function openSessions(port, n) {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...XRW },
        body: JSON.stringify({ login: `fast-${(opened += 1)}-${i}`, pass: 'fast' }),
      });
      if (res.status !== 200) throw new Error(`login for the refresh runs: ${res.status}`);
      return /** @type {string} */ (res.headers.getSetCookie()[0].split(';')[0]);
    }),
  );
}

/**
 * autocannon requests that refresh, each following one session's rotating cookie: a request takes a
 * session from `jar` and its answer puts it back with the new cookie (autocannon's context lives for
 * one request; a connection has one request in flight, so the jar never runs dry).
 * @param {string[]} jar
 */
function refreshRequests(jar) {
  return [
    {
      method: 'POST',
      path: '/api/refresh',
      headers: XRW,
      setupRequest(/** @type {any} */ req, /** @type {any} */ context) {
        context.cookie = jar.pop();
        return { ...req, headers: { ...req.headers, cookie: context.cookie } };
      },
      onResponse(
        /** @type {number} */ status,
        /** @type {any} */ _body,
        /** @type {any} */ context,
        /** @type {any} */ headers,
      ) {
        const rt = [headers['set-cookie']].flat().find((c) => typeof c === 'string' && c.startsWith('rt='));
        if (status === 200 && rt) jar.push(rt.split(';')[0]);
        else if (status !== 401 && context.cookie) jar.push(context.cookie); // 503 and such: the session stays
      },
    },
  ];
}

/** @param {StoreKind} kind @param {Record<string, string>} env */
async function measureMemory(kind, env) {
  const count = MEMORY_SESSIONS[kind];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', 'bench/session-memory.js', kind, String(count)],
    {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 180_000,
    },
  );
  const { bytes, sessions } = JSON.parse(stdout);
  return { bytesPer100k: (bytes / sessions) * PER, sessions };
}

/**
 * Every store's figures, as bench rows (errors become rows too; nothing throws).
 * @returns {Promise<{ rows: Row[], report: Record<string, unknown>, errors: string[] }>}
 */
export async function serverLoadRows() {
  /** @type {Row[]} */
  const rows = [];
  /** @type {Record<string, unknown>} */
  const report = {};
  /** @type {string[]} */
  const errors = [];
  /** @type {Awaited<ReturnType<typeof startPostgres>> | undefined} */
  let postgres;
  /** @type {Awaited<ReturnType<typeof startRedis>> | undefined} */
  let redis;
  const pgliteDir = mkdtempSync(join(tmpdir(), 'auth-shell-bench-pglite-'));
  try {
    [postgres, redis] = await Promise.all([
      hasPostgres() ? startPostgres({ durable: true }) : undefined,
      hasRedis() ? startRedis() : undefined,
    ]);
    /** @type {Array<[StoreKind, Record<string, string> | undefined]>} */
    const stores = [
      ['memory', {}],
      ['pglite', { DATA_DIR: pgliteDir }],
      ['postgres', postgres && { STORE_URL: postgres.url }],
      ['redis', redis && { STORE_URL: redis.url }],
    ];
    for (const [kind, env] of stores) {
      const section = `server: ${kind}`;
      if (!env) {
        rows.push({
          section,
          metric: 'store',
          value: `not installed (${kind === 'postgres' ? 'postgresql' : 'redis-server'})`,
        });
        continue;
      }
      /** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
      let server;
      try {
        server = await startServer({ STORE: kind, ...env });
        // Fresh sessions for every run, three per connection: autocannon prepares a connection's
        // next request before it sends it, and a request cut off at the end keeps its session.
        const sessions = () => openSessions(server?.port ?? 0, 3 * CONNECTIONS);
        await load(server, { requests: refreshRequests(await sessions()), duration: 1 }); // warm-up (JIT, pools, caches)
        const max = await load(server, { requests: refreshRequests(await sessions()) });
        const paced = await load(server, { requests: refreshRequests(await sessions()), overallRate: RATE });
        // A fixed number of logins, timed until the last one is answered: a duration-bound run can
        // end before a single scrypt derivation does on a busy machine.
        const logins = await load(server, {
          connections: 4,
          amount: LOGINS,
          timeout: 60,
          requests: [
            {
              method: 'POST',
              path: '/api/login',
              headers: { 'content-type': 'application/json', ...XRW },
              setupRequest: (/** @type {any} */ req) => ({
                ...req,
                body: JSON.stringify({ login: `user-${Math.floor(Math.random() * 1e9)}`, pass: 'bench-password' }),
              }),
            },
          ],
        });
        const memory = await measureMemory(kind, env);
        report[kind] = { sustained: max, atRate: paced, logins, memory };
        const perCore = max.rps / Math.max(max.cpuShare, 0.01);
        const failures = (/** @type {Run} */ r) =>
          r.errors + r.non2xx > 0 ? `; ${r.non2xx} non-2xx, ${r.errors} errors` : '';
        rows.push(
          {
            section,
            metric: `refresh with rotation, sustained (${CONNECTIONS} connections, ${SECONDS} s)`,
            value: `${fmt(max.rps)}/s, p50 ${max.p50} ms, p99 ${max.p99} ms; server CPU ${fmt(max.cpuShare * 100)} % → ${fmt(perCore)}/s per core${failures(max)}`,
            target: kind === 'postgres' || kind === 'redis' ? '>= 1,000/s per core' : '',
            result: kind === 'postgres' || kind === 'redis' ? (perCore >= 1000 ? 'meets' : 'below goal') : '',
          },
          {
            section,
            metric: `refresh with rotation at ${fmt(RATE)}/s (${SECONDS} s)`,
            value: `${fmt(paced.rps)}/s, p50 ${paced.p50} ms, p99 ${paced.p99} ms; server CPU ${fmt(paced.cpuShare * 100)} %${failures(paced)}`,
            target: kind === 'postgres' || kind === 'redis' ? 'p99 <= 25 ms' : '',
            result:
              kind === 'postgres' || kind === 'redis'
                ? paced.p99 <= 25 && paced.rps >= RATE * 0.95
                  ? 'meets'
                  : 'above goal'
                : '',
          },
          {
            section,
            metric: `logins, scrypt N=2^17 r=8 p=1 (${LOGINS} logins, 4 connections)`,
            value: `${fmt(logins.rps, 1)}/s, p50 ${logins.p50} ms, p99 ${logins.p99} ms; server CPU ${fmt(logins.cpuShare * 100)} %${failures(logins)}`,
          },
          {
            section,
            metric: `memory per ${fmt(PER)} live sessions`,
            value: `${fmt(memory.bytesPer100k / 2 ** 20, 1)} MiB${memory.sessions === PER ? '' : ` (measured with ${fmt(memory.sessions)}, scaled)`}`,
          },
        );
      } catch (err) {
        errors.push(`server load (${kind}): ${describe(err)}`);
        rows.push({ section, metric: 'load run', value: 'ERROR' });
      } finally {
        await server?.stop().catch(() => {});
      }
    }
  } catch (err) {
    errors.push(`server load: ${describe(err)}`);
    rows.push({ section: 'server', metric: 'set-up', value: 'ERROR' });
  } finally {
    await postgres?.stop().catch(() => {});
    await redis?.stop().catch(() => {});
    rmSync(pgliteDir, { recursive: true, force: true });
  }
  return { rows, report, errors };
}

// `node bench/server-load.js [--json]`: only these figures.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, report, errors } = await serverLoadRows();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ ...report, errors }, null, 2));
  else for (const r of rows) console.log([r.section, r.metric, r.value, r.target ?? '', r.result ?? ''].join(' | '));
  for (const e of errors) console.error(`error: ${e}`);
}
