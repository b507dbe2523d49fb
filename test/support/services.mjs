// Real Postgres and Redis servers for the node tests and the bench: each in a temporary directory,
// on a free port of 127.0.0.1, started from Debian's binaries (`postgresql`, `redis-server`; .ci/run
// installs them when missing), ready when the server says so, stopped by its pid.
//
//   const pg = await startPostgres();   // pg.url, await pg.restart(), await pg.stop()
//   const redis = await startRedis();   // redis.url, await redis.restart() (keeps its AOF), await redis.stop()
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Resolves when `pid` no longer runs (polled every 20 ms; a process has no exit event for a stranger).
 * @param {number} pid @param {string} what
 */
async function gone(pid, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`${what} (pid ${pid}) did not stop`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Debian's Postgres binaries: PG_BIN, or the newest /usr/lib/postgresql/<n>/bin. */
function postgresBin() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('Postgres is not installed (apt-get install postgresql; .ci/run does it)');
  return join(root, newest, 'bin');
}

export const hasPostgres = () => {
  try {
    return existsSync(join(postgresBin(), 'initdb'));
  } catch {
    return false;
  }
};
export const hasRedis = () => existsSync(process.env.REDIS_SERVER ?? '/usr/bin/redis-server');

/**
 * Starts a Postgres cluster of its own. initdb refuses root, so as root every command runs as the
 * `postgres` user the Debian package creates (owner of the directory).
 * @param {{ durable?: boolean }} [o] durable: keep fsync and synchronous commits on (the bench);
 *   tests turn them off, they restart the server only cleanly
 */
export async function startPostgres({ durable = false } = {}) {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'auth-shell-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const quote = (/** @type {string} */ s) => `'${String(s).replaceAll("'", "'\\''")}'`;
  /** Runs a Postgres binary (as `postgres` when we are root). */
  const pg = (/** @type {string} */ name, /** @type {string[]} */ args) =>
    root
      ? run('su', ['postgres', '-s', '/bin/sh', '-c', [join(bin, name), ...args].map(quote).join(' ')])
      : run(join(bin, name), args);
  await pg('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--locale=C',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const start = () => pg('pg_ctl', ['-D', data, '-o', settings, '-w', '-t', '60', '-l', join(dir, 'log'), 'start']);
  await start();
  const pid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let current = pid();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    get pid() {
      return current;
    },
    /** Fast shutdown (SIGINT: sessions ended, a clean checkpoint), then the same server again. */
    async restart() {
      await this.down();
      await start();
      current = pid();
    },
    /** Fast shutdown, by pid; the data stays. */
    async down() {
      process.kill(current, 'SIGINT');
      await gone(current, 'postgres');
    },
    async up() {
      await start();
      current = pid();
    },
    async stop() {
      try {
        process.kill(current, 'SIGINT');
        await gone(current, 'postgres');
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a Redis of its own with an append-only file fsynced on every write, so a restart keeps
 * every acknowledged write. Ready when it prints so.
 */
export async function startRedis() {
  const binary = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
  if (!existsSync(binary)) throw new Error('Redis is not installed (apt-get install redis-server; .ci/run does it)');
  const dir = mkdtempSync(join(tmpdir(), 'auth-shell-redis-'));
  const port = await freePort();
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  const start = () =>
    new Promise((resolve, reject) => {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
      ];
      const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const onData = (/** @type {Buffer} */ chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          proc.stdout.off('data', onData);
          proc.stdout.resume();
          resolve(undefined);
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.resume();
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
      child = proc;
    });
  await start();
  const stopChild = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM'); // a clean shutdown: the AOF is complete
    await exited;
  };
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    /** Stops it (SIGTERM, by pid) and starts it again on the same port and data. */
    async restart() {
      await stopChild();
      await start();
    },
    async down() {
      await stopChild();
    },
    async up() {
      await start();
    },
    async stop() {
      process.off('exit', onExit);
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
