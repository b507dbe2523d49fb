/**
 * The bench page: bundled in memory by bench/bench.js and driven from Node through playwright
 * (`window.bench.*`). Request counts are taken server-side by bench/server.js.
 */
import { createSession, type Activity, type Session } from '../src/core/index.js';

const API = '/api';
const USER = { login: 'alice', pass: 'alice' };

/** Client-side view of one session's activity: refresh starts and authFetch retries. */
function watch(session: Session): { refreshes: number; retries: number } {
  const seen = { refreshes: 0, retries: 0 };
  session.addEventListener('activity', (event) => {
    const activity: Activity = event.detail;
    if (activity.kind === 'refresh' && activity.phase === 'start') seen.refreshes++;
    if (activity.kind === 'retry') seen.retries++;
  });
  return seen;
}

// ---- concurrency: 100 authFetch calls on an expired token share one refresh ----

let offset = 0;
let burstSession: Session | null = null;
let burstSeen = { refreshes: 0, retries: 0 };

/** Logs in with a manual clock, then moves the clock 10 minutes on: the token is expired. */
async function prepareBurst(): Promise<void> {
  offset = 0;
  burstSession?.dispose();
  burstSession = createSession({ api: API, clock: () => performance.now() + offset });
  await burstSession.login(USER.login, USER.pass);
  burstSeen = watch(burstSession);
  offset += 10 * 60_000;
}

async function burst(n: number) {
  const session = burstSession;
  if (!session) throw new Error('prepareBurst() first');
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, async () => {
      const res = await session.authFetch(`${API}/me`);
      await res.text();
      return res.status;
    }),
  );
  const statuses: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 'fulfilled' ? String(o.value) : `rejected: ${(o.reason as Error)?.name}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  session.dispose();
  burstSession = null;
  return { ok: statuses['200'] ?? 0, statuses, clientRefreshes: burstSeen.refreshes, clientRetries: burstSeen.retries };
}

// ---- overhead: plain fetch with a hand-set Authorization header vs authFetch ----

async function expectOk(res: Response, what: string): Promise<void> {
  await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}`);
}

async function overhead(opts: { warmup: number; blocks: number; perBlock: number }) {
  // A token for plain fetch from its own login; `credentials: 'omit'` keeps its refresh cookie out
  // of the jar, so the session's cookie is the only one and both loops send the same headers.
  const login = await fetch(`${API}/login`, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'bench' },
    body: JSON.stringify(USER),
  });
  if (!login.ok) throw new Error(`plain login: HTTP ${login.status}`);
  const token = ((await login.json()) as { access_token: string }).access_token;
  const headers = { Authorization: `Bearer ${token}` };

  // Default clock; the backend grants 60 s, so the token stays fresh for ~45 s (leeway ≤ ¼ lifetime).
  const session = createSession({ api: API });
  await session.login(USER.login, USER.pass);
  const seen = watch(session);

  const plain = async () => expectOk(await fetch(`${API}/me`, { headers }), 'fetch');
  const auth = async () => expectOk(await session.authFetch(`${API}/me`), 'authFetch');
  const run = async (once: () => Promise<void>, n: number): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < n; i++) await once();
    return performance.now() - start;
  };

  await run(plain, opts.warmup);
  await run(auth, opts.warmup);

  const started = performance.now();
  const fetchBlocks: number[] = [];
  const authBlocks: number[] = [];
  for (let b = 0; b < opts.blocks; b++) {
    // Alternate which loop goes first, so drift (GC, JIT, server warm-up) hits both alike.
    if (b % 2 === 0) {
      fetchBlocks.push(await run(plain, opts.perBlock));
      authBlocks.push(await run(auth, opts.perBlock));
    } else {
      authBlocks.push(await run(auth, opts.perBlock));
      fetchBlocks.push(await run(plain, opts.perBlock));
    }
  }
  const elapsed = performance.now() - started;
  session.dispose();
  return { fetchBlocks, authBlocks, elapsed, clientRefreshes: seen.refreshes, clientRetries: seen.retries };
}

const bench = { prepareBurst, burst, overhead };

declare global {
  interface Window {
    bench: typeof bench;
  }
}

window.bench = bench;
