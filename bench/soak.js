// @ts-check
/**
 * Soak: hours of simulated use in seconds of real time. Several "tabs" (sessions of one api in one
 * process: BroadcastChannel connects them, bench/web-locks.js gives them Web Locks) call authFetch
 * at random intervals against a fake server (msw handlers backed by auth-shell/server's refresh
 * tokens on its memory store, one browser's cookie jar, unsigned JWT-shaped access tokens of 20–60 s), while
 * faults are injected: network errors, 5xx, 429 with a short Retry-After, lost answers (the server
 * rotated, the answer never arrived, the jar keeps the old cookie), and jumps of a tab's clock.
 * Now and then a tab logs out and in again. Time is @sinonjs/fake-timers' (setTimeout, Date,
 * performance): the sessions' own timers, the backoff, the server's clock and the workload all run
 * on it, and the driver only lets it advance once real work (fetches, tab messages) has settled.
 *
 * Reported (`runSoak` returns it; `node bench/soak.js [--json] [--hours n] [--minutes n] [--tabs n]
 * [--seed n]` prints it; `--outage` runs {@link OUTAGE_SCENARIO} instead): unexpected logouts (a tab went anonymous without a logout or a
 * server-side revocation; must be 0), tokens leaked into events or errors (must be 0), refreshes
 * per simulated minute, reuse detections and revoked families at the server (should be 0), and
 * every failed API call with its reason.
 */
import FakeTimers from '@sinonjs/fake-timers';
import { HttpResponse, delay, http } from 'msw';
import { setupServer } from 'msw/node';
import { fileURLToPath } from 'node:url';
import { createSessions } from '../src/server/refresh-tokens.js';
import { memoryStore } from '../src/server/stores/memory.js';
import { loadCore } from './core-node.js';
import { installLocks } from './web-locks.js';

const ORIGIN = 'http://soak.test';
const API = `${ORIGIN}/api`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Tokens in events or errors: anything shaped like a JWT is looked up among the issued ones. */
const JWT_SHAPE = /[\w-]{8,}\.[\w-]{8,}\.[\w-]{4,}/g;

/**
 * @typedef {object} SoakOptions
 * @property {number} [seed]
 * @property {number} [minutes] simulated time (default 8 h)
 * @property {number} [tabs] default 5
 * @property {number} [meanInterval] ms between a tab's authFetch calls, exponential (default 15 s)
 * @property {[number, number]} [lifetime] access-token lifetime range, s (default 20–60)
 * @property {number} [faultRate] share of auth requests (login, refresh, logout) hit by a fault (default 0.06)
 * @property {number} [apiFaultRate] share of API requests answered 503 or not at all (default 0.01)
 * @property {number} [relogEvery] mean ms between logout + login (default 40 min; Infinity: never)
 * @property {number} [clockStepEvery] mean ms between jumps of one tab's clock (default 25 min; Infinity: never)
 * @property {number} [outageEvery] mean ms between outages of the auth server: 10–90 s of 503 to every login, refresh and logout (default 45 min)
 * @property {number[]} [outageAt] scripted outages instead: ms after the start (after the first login) when each begins
 * @property {number} [outageFor] how long each scripted outage lasts, ms (default 40 s)
 * @property {number} [outageRetryAfter] seconds of `Retry-After` on the 503s of an outage (default none)
 * @property {number} [pollEvery] a fixed ms between a tab's authFetch calls, instead of random ones around meanInterval
 * @property {number} [latency] simulated ms every answer takes, at most (default 80)
 * @property {(line: string) => void} [trace] gets a line per server request and per session event, for debugging
 *
 * @typedef {object} SoakReport
 * @property {number} seed
 * @property {number} simulatedHours
 * @property {number} tabs
 * @property {number} realMs
 * @property {Record<string, number>} requests by route
 * @property {Record<string, number>} faults injected, by kind
 * @property {number} clockSteps
 * @property {number} outages
 * @property {{ commanded: number, serverSide: number, unexpected: number, details: string[] }} logouts
 *   transitions of a tab to anonymous: during a logout command, after a server-side revocation, or neither
 * @property {number} missedLogins tabs still anonymous 2 s after a login in another tab (should be 0)
 * @property {number} leaks tokens found in events or errors
 * @property {string[]} leakDetails
 * @property {number} maxRefreshesPerMinute refresh requests at the server in one simulated minute, outages aside
 * @property {number} maxRefreshesPerOutageMinute the same in minutes when the auth server was down
 * @property {{ requests: number, recoveredAfter: number | null }[]} scripted each scripted outage: the refresh
 *   requests the server saw during it (the whole browser's), and ms from its end to the first granted refresh
 * @property {number} renewals refresh requests the server answered (rotated, grace, refused): the rest were lost to faults
 * @property {number} refreshBoundExceeded simulated minutes with more refresh requests than the rules allow (see {@link refreshBound})
 * @property {{ refreshes: number, jumps: number, relogs: number, failures: number, outages: number, down: boolean }[]} minutes per simulated minute
 * @property {{ rotations: number, graceHits: number, reuseDetections: number, revoked: Record<string, number>,
 *   refreshRefusals: Record<string, number> }} server families revoked by reason ('logout' is expected)
 * @property {{ calls: number, ok: number, failed: Record<string, number> }} api authFetch calls and failures by reason
 * @property {string[]} errors harness errors (not findings about the library)
 */

/** A small seeded PRNG (mulberry32). @param {number} seed */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the soak. Installs fake timers, msw, a Web Locks polyfill and a seeded Math.random for its
 * duration and puts everything back before it resolves.
 * @param {SoakOptions} [options]
 * @returns {Promise<SoakReport>}
 */
export async function runSoak(options = {}) {
  const {
    seed = 20_261_130,
    minutes = 480,
    tabs: tabCount = 5,
    meanInterval = 15_000,
    lifetime = [20, 60],
    faultRate = 0.06,
    apiFaultRate = 0.01,
    relogEvery = 40 * MINUTE,
    clockStepEvery = 25 * MINUTE,
    outageEvery = 45 * MINUTE,
    outageAt = [],
    outageFor = 40_000,
    outageRetryAfter,
    pollEvery,
    latency = 80,
    trace,
  } = options;
  const core = await loadCore(); // before the clock is faked: esbuild needs real time
  const random = prng(seed);
  const realStart = performance.now();
  const duration = minutes * MINUTE;

  /** @type {SoakReport} */
  const report = {
    seed,
    simulatedHours: duration / HOUR,
    tabs: tabCount,
    realMs: 0,
    requests: { login: 0, refresh: 0, logout: 0, api: 0 },
    faults: {},
    clockSteps: 0,
    outages: 0,
    logouts: { commanded: 0, serverSide: 0, unexpected: 0, details: [] },
    missedLogins: 0,
    leaks: 0,
    leakDetails: [],
    maxRefreshesPerMinute: 0,
    maxRefreshesPerOutageMinute: 0,
    scripted: outageAt.map(() => ({ requests: 0, recoveredAfter: null })),
    refreshBoundExceeded: 0,
    renewals: 0,
    minutes: [],
    server: { rotations: 0, graceHits: 0, reuseDetections: 0, revoked: {}, refreshRefusals: {} },
    api: { calls: 0, ok: 0, failed: {} },
    errors: [],
  };
  const count = (/** @type {Record<string, number>} */ table, /** @type {string} */ key) =>
    void (table[key] = (table[key] ?? 0) + 1);
  const total = (/** @type {Record<string, number>} */ table) => Object.values(table).reduce((a, b) => a + b, 0);

  const realRandom = Math.random;
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: Date.UTC(2026, 10, 30, 8),
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
  Math.random = random;
  const uninstallLocks = installLocks();
  const disposers = /** @type {(() => void)[]} */ ([]);

  // ---- real work in flight: the driver lets time move only when it has settled -------------------
  let activity = 0;
  let inflight = 0;
  /** Fetches waiting for simulated latency: in flight, but on the fake clock. */
  let sleeping = 0;

  // ---- the server ----------------------------------------------------------------------------------
  const store = createSessions({
    store: memoryStore(),
    sessionTtl: 8 * 3600,
    idleTtl: 3600,
    gracePeriod: 5,
    maxSessionsPerUser: 1000,
    now: () => Date.now(),
  });
  /** @param {string} reason */
  const revokedFor = (reason) => {
    count(report.server.revoked, reason);
    if (reason === 'reuse') report.server.reuseDetections++;
  };
  /** One browser: the refresh cookie every tab sends. */
  const jar = { rt: /** @type {string | null} */ (null) };
  /** @type {Map<string, { exp: number, sid: string }>} */
  const accessTokens = new Map();
  /** When the server last ended a session itself (refresh refused for reuse, revocation, expiry). */
  let serverEndedAt = -Infinity;
  /** What happened in each simulated minute. */
  const minute = () =>
    (report.minutes[Math.floor((Date.now() - start) / MINUTE)] ??= {
      refreshes: 0,
      jumps: 0,
      relogs: 0,
      failures: 0,
      outages: 0,
      down: false,
    });
  let jti = 0;

  const b64 = (/** @type {unknown} */ value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  /** @param {string} sid */
  function accessToken(sid) {
    const iat = Math.floor(Date.now() / 1000);
    const ttl = lifetime[0] + Math.floor(random() * (lifetime[1] - lifetime[0] + 1));
    const token = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: '1', name: 'Alice', sid, iat, exp: iat + ttl, jti: (++jti).toString(36) })}.${(jti * 7919).toString(36).padStart(6, '0')}`;
    accessTokens.set(token, { exp: (iat + ttl) * 1000, sid });
    return { access_token: token, expires_in: ttl };
  }
  const headers = () => ({ Date: new Date().toUTCString(), 'Cache-Control': 'no-store' });

  /** The kinds of fault, taken in turn (so that a short run sees each): lost answers twice as often. */
  const KINDS = /** @type {const} */ (['network', 'lost', '5xx', '429', 'lost']);
  let nextKind = 0;
  /** Until when (simulated ms) every auth request fails with 503: an outage of the auth server. */
  let outageUntil = -Infinity;
  /** When the workload started: scripted outages count from here. */
  let workStart = Infinity;
  /** The scripted outage `Date.now()` is in, and the one that ended last. */
  const scripted = () =>
    outageAt.findIndex((at) => Date.now() >= workStart + at && Date.now() < workStart + at + outageFor);
  const lastEnded = () => outageAt.findLastIndex((at) => Date.now() >= workStart + at + outageFor);
  /** A fault for an auth request, or null. @returns {'network' | '5xx' | 'lost' | '429' | 'outage' | null} */
  function authFault() {
    if (scripted() >= 0) {
      minute().down = true;
      return 'outage';
    }
    if (Date.now() < outageUntil) {
      minute().down = true;
      return 'outage';
    }
    if (random() >= faultRate) return null;
    return KINDS[nextKind++ % KINDS.length];
  }

  /**
   * A route's resolver: counted, answered after some simulated time (so that tabs really overlap).
   * @param {string} route @param {(request: Request) => Response | Promise<Response>} answer
   */
  const handled =
    (route, answer) =>
    async (/** @type {{ request: Request }} */ { request }) => {
      activity++;
      count(report.requests, route);
      trace?.(`${((Date.now() - start) / 1000).toFixed(3)} server ${route}`);
      sleeping++;
      try {
        await delay(Math.floor(random() * latency));
      } finally {
        sleeping--;
      }
      activity++;
      return answer(request);
    };

  /**
   * @param {() => Promise<Response>} ok the answer once the server has done its work
   * @param {() => void} [work] what the browser does with the answer (sets or clears the cookie)
   */
  async function withFault(ok, work = () => {}) {
    const fault = authFault();
    if (fault) count(report.faults, fault);
    if (fault === 'network') return HttpResponse.error();
    if (fault === '5xx') return new HttpResponse('busy', { status: 503, headers: headers() });
    if (fault === 'outage') {
      const retryAfter = outageRetryAfter === undefined ? {} : { 'Retry-After': String(outageRetryAfter) };
      return new HttpResponse('down', { status: 503, headers: { ...headers(), ...retryAfter } });
    }
    if (fault === '429')
      return new HttpResponse('slow down', {
        status: 429,
        headers: { ...headers(), 'Retry-After': String(1 + Math.floor(random() * 5)) },
      });
    const answer = await ok(); // the server did its work (rotated, logged in, revoked)…
    if (fault === 'lost') return HttpResponse.error(); // …and the answer (with its Set-Cookie) never arrived
    work();
    return answer;
  }

  const server = setupServer(
    http.post(
      `${API}/login`,
      handled('login', () => {
        /** @type {{ token: string, family: { sid: string } } | undefined} */
        let created;
        return withFault(
          async () => {
            created = await store.start('1', {});
            return HttpResponse.json(accessToken(created.family.sid), { headers: headers() });
          },
          () => void (jar.rt = /** @type {NonNullable<typeof created>} */ (created).token),
        );
      }),
    ),
    http.post(
      `${API}/refresh`,
      handled('refresh', () => {
        minute().refreshes++;
        const during = scripted();
        if (during >= 0) report.scripted[during].requests++;
        /** @type {string | null} */
        let next = null;
        return withFault(
          async () => {
            const used = await store.use(jar.rt ?? undefined);
            if (!used.ok) {
              if (used.reason === 'reuse') revokedFor('reuse');
              count(report.server.refreshRefusals, used.reason);
              if (used.reason !== 'unknown') serverEndedAt = Date.now();
              return HttpResponse.json({ error: 'invalid_grant' }, { status: 401, headers: headers() });
            }
            if (used.kind === 'rotated') report.server.rotations++;
            else report.server.graceHits++;
            const ended = lastEnded();
            if (ended >= 0 && report.scripted[ended].recoveredAfter === null)
              report.scripted[ended].recoveredAfter = Date.now() - (workStart + outageAt[ended] + outageFor);
            next = used.token;
            return HttpResponse.json(accessToken(used.family.sid), { headers: headers() });
          },
          // A 401 clears the cookie; a token answer sets the next one.
          () => void (jar.rt = next),
        );
      }),
    ),
    http.post(
      `${API}/logout`,
      handled('logout', () =>
        withFault(
          async () => {
            if (await store.revoke(jar.rt ?? undefined, 'logout')) revokedFor('logout');
            return new HttpResponse(null, { status: 204, headers: headers() });
          },
          () => void (jar.rt = null),
        ),
      ),
    ),
    http.get(
      `${API}/data`,
      handled('api', async (request) => {
        const r = random();
        if (r < apiFaultRate) {
          const kind = r < apiFaultRate / 2 ? 'api-network' : 'api-5xx';
          count(report.faults, kind);
          return kind === 'api-network'
            ? HttpResponse.error()
            : new HttpResponse('busy', { status: 503, headers: headers() });
        }
        const bearer = request.headers.get('Authorization')?.replace(/^Bearer /, '') ?? '';
        const known = accessTokens.get(bearer);
        const live = known && known.exp > Date.now() && !(await store.findBySid(known.sid))?.revoked;
        return live
          ? HttpResponse.json({ ok: true }, { headers: headers() })
          : HttpResponse.json({ error: 'invalid_token' }, { status: 401, headers: headers() });
      }),
    ),
  );
  const start = Date.now();
  server.listen({ onUnhandledRequest: 'error' });
  // Count real work in flight, and hand the library buffered responses (their bodies read at once).
  const mswFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    inflight++;
    activity++;
    try {
      const response = await mswFetch(input, init);
      const body = [101, 204, 205, 304].includes(response.status) ? null : await response.arrayBuffer();
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } finally {
      inflight--;
      activity++;
    }
  };
  const monitor = new BroadcastChannel(`auth-shell:${API}`);
  monitor.onmessage = () => void activity++;

  // ---- the tabs --------------------------------------------------------------------------------------
  /** Logout + login in progress: tabs going anonymous now are expected to. */
  let relogging = false;
  let relogCount = 0;
  const offsets = Array.from({ length: tabCount }, () => 0);
  const tabs = offsets.map((_, i) => {
    const session = core.createSession({ api: API, clock: () => performance.now() + offsets[i] });
    let previous = session.state;
    /** @param {string} where @param {unknown} detail */
    const scan = (where, detail) => {
      for (const text of texts(detail)) {
        for (const match of text.match(JWT_SHAPE) ?? []) {
          if (accessTokens.has(match)) {
            report.leaks++;
            if (report.leakDetails.length < 5) report.leakDetails.push(`tab ${i}: ${where}`);
          }
        }
      }
    };
    session.addEventListener('activity', ({ detail }) => {
      activity++;
      scan(`activity ${detail.kind}/${detail.phase}`, detail);
      trace?.(
        `${((Date.now() - start) / 1000).toFixed(3)} tab ${i} ${detail.kind} ${detail.phase} ${detail.reason ?? ''} ${detail.source ?? ''} ${detail.attempt ?? ''} ${detail.error?.code ?? ''}`,
      );
      // A refresh that failed (not one a logout cut short) lets the next trigger try again.
      if (detail.kind === 'refresh' && detail.phase === 'failure' && detail.error?.code !== 'unauthenticated')
        minute().failures++;
    });
    session.addEventListener('error', ({ detail }) => void (activity++, scan('error', detail)));
    session.addEventListener('change', ({ detail }) => {
      activity++;
      scan('change', detail);
      trace?.(
        `${((Date.now() - start) / 1000).toFixed(3)} tab ${i} change ${detail.state}${relogging ? ' (relogging)' : ''}`,
      );
      if (previous === 'authenticated' && detail.state === 'anonymous') {
        if (relogging) report.logouts.commanded++;
        else if (Date.now() - serverEndedAt < MINUTE) report.logouts.serverSide++;
        else {
          report.logouts.unexpected++;
          if (report.logouts.details.length < 10)
            report.logouts.details.push(`tab ${i} at ${((Date.now() - start) / MINUTE).toFixed(2)} min`);
        }
      }
      previous = detail.state;
    });
    return session;
  });

  /** Exponentially distributed wait with the given mean. @param {number} mean */
  const wait = (mean) => Math.max(1, Math.round(-Math.log(1 - random()) * mean));
  const pick = () => tabs[Math.floor(random() * tabs.length)];
  const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let stopped = false;

  /** Logs in in `tab`, as a user would: again every few seconds while faults or an outage get in the way. @param {import('../src/core/index.js').Session} tab */
  async function login(tab) {
    for (let attempt = 0; attempt < 300; attempt++) {
      try {
        await tab.login('alice', 'alice');
        return;
      } catch (error) {
        if (
          !core.isAuthError(error, 'network') &&
          !core.isAuthError(error, 'timeout') &&
          !core.isAuthError(error, 'rate-limited')
        )
          throw error;
        await sleep(3000);
      }
    }
    throw new Error('login: 300 attempts (15 simulated minutes) failed');
  }

  /** One tab's workload: authFetch at random intervals, each outcome counted. @param {number} i */
  async function workload(i) {
    while (!stopped) {
      await sleep(pollEvery ?? wait(meanInterval));
      if (stopped) return;
      const tab = tabs[i];
      const wasIn = tab.state === 'authenticated';
      const relogsBefore = relogCount;
      try {
        const response = await tab.authFetch(`${API}/data`);
        await response.text();
        report.api.calls++;
        const loggingOut = relogging || relogCount !== relogsBefore;
        if (response.ok) report.api.ok++;
        else
          count(
            report.api.failed,
            !wasIn || loggingOut
              ? `${response.status} (tab anonymous${loggingOut ? ', logging in again' : ''})`
              : `${response.status}`,
          );
        if (!response.ok && !wasIn && !loggingOut)
          trace?.(`${((Date.now() - start) / 1000).toFixed(3)} tab ${i} FAILED anonymous ${response.status}`);
      } catch (error) {
        report.api.calls++;
        const code = core.isAuthError(error) ? error.code : error instanceof Error ? error.name : 'unknown';
        scan2(error);
        count(
          report.api.failed,
          core.isAuthError(error) ? `${code}: the refresh it needed failed` : `${code}: the API request failed`,
        );
      }
    }
  }
  /** Errors thrown to callers must not hold a token either. @param {unknown} error */
  const scan2 = (error) => {
    for (const text of texts(error))
      for (const match of text.match(JWT_SHAPE) ?? []) if (accessTokens.has(match)) report.leaks++;
  };

  /** Now and then: log out in one tab (every tab follows), log in again in one. */
  async function relogs() {
    while (!stopped) {
      await sleep(wait(relogEvery));
      if (stopped) return;
      relogging = true;
      trace?.(`${((Date.now() - start) / 1000).toFixed(3)} relog start`);
      relogCount++;
      minute().relogs++;
      try {
        await pick()
          .logout()
          .catch(() => {}); // a lost logout answer is re-sent by the next login
        await login(pick());
        // Every tab hears of it (the messages take a moment): one that does not stays logged out.
        await sleep(2000);
        report.missedLogins += tabs.filter((tab) => tab.state !== 'authenticated').length;
      } catch (error) {
        report.errors.push(`relogin: ${describe(error)}`);
      } finally {
        relogging = false;
        trace?.(`${((Date.now() - start) / 1000).toFixed(3)} relog end`);
      }
    }
  }

  /** Now and then one tab's clock jumps ahead (a suspended laptop, a throttled tab). */
  async function clockSteps() {
    while (!stopped) {
      await sleep(wait(clockStepEvery / tabCount));
      if (stopped) return;
      offsets[Math.floor(random() * tabCount)] += 1000 + Math.floor(random() * 10 * MINUTE);
      report.clockSteps++;
      minute().jumps++;
    }
  }

  /** Now and then the auth server is down for a while (longer than some tokens live). */
  async function outages() {
    while (!stopped) {
      await sleep(wait(outageEvery));
      if (stopped) return;
      outageUntil = Date.now() + 10_000 + Math.floor(random() * 80_000);
      report.outages++;
      minute().outages++;
    }
  }

  /** Lets real work finish: no fetch outside the fake clock, nothing new for a few turns. */
  async function settle() {
    for (let quiet = 0, turns = 0; quiet < 3 && turns < 10_000; turns++) {
      const seen = activity;
      await new Promise((resolve) => setImmediate(resolve));
      quiet = inflight - sleeping === 0 && activity === seen ? quiet + 1 : 0;
    }
  }

  try {
    // Open the tabs (no cookie yet: every restore ends anonymous), then log in in one.
    await drive(Promise.all(tabs.map((tab) => tab.restore())));
    relogging = true;
    await drive(login(tabs[0]).then(() => sleep(1000)));
    relogging = false;
    // The workload runs until `stopped`; whatever is still pending then is dropped with the clock.
    workStart = Date.now();
    // Infinity turns a random event off; scripted outages replace the random ones.
    const events = [
      ...(Number.isFinite(relogEvery) ? [relogs()] : []),
      ...(Number.isFinite(clockStepEvery) ? [clockSteps()] : []),
      ...(outageAt.length === 0 && Number.isFinite(outageEvery) ? [outages()] : []),
    ];
    Promise.all([...tabs.map((_, i) => workload(i)), ...events]).catch((error) =>
      report.errors.push(`workload: ${describe(error)}`),
    );
    while (Date.now() - start < duration) {
      await settle();
      await clock.nextAsync(); // to the next timer: a call, a backoff, a session's proactive refresh, an answer
    }
    stopped = true;
    await settle();
  } finally {
    stopped = true;
    for (const tab of tabs) tab.dispose();
    monitor.close();
    globalThis.fetch = mswFetch;
    server.close();
    for (const dispose of disposers) dispose();
    uninstallLocks();
    Math.random = realRandom;
    clock.uninstall();
  }

  report.minutes = Array.from(
    report.minutes,
    (m) => m ?? { refreshes: 0, jumps: 0, relogs: 0, failures: 0, outages: 0, down: false },
  );
  report.maxRefreshesPerMinute = Math.max(0, ...report.minutes.filter((m) => !m.down).map((m) => m.refreshes));
  report.maxRefreshesPerOutageMinute = Math.max(0, ...report.minutes.filter((m) => m.down).map((m) => m.refreshes));
  report.refreshBoundExceeded = report.minutes.filter(
    (m) => m.refreshes > refreshBound(m, lifetime[0], tabCount),
  ).length;
  report.renewals = report.server.rotations + report.server.graceHits + total(report.server.refreshRefusals);
  report.realMs = Math.round(performance.now() - realStart);
  return report;

  /** Runs `promise` to its end on the fake clock. @template T @param {Promise<T>} promise @returns {Promise<T>} */
  async function drive(promise) {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; !done && i < 100_000; i++) {
      await settle();
      if (!done) await clock.tickAsync(100);
    }
    return promise;
  }
}

/**
 * The outage scenario of the hardening work: one browser with 3 tabs whose app calls its API once a
 * second, tokens of 20 s, and the auth server answering 503 to every refresh for 40 s.
 * @type {SoakOptions}
 */
export const OUTAGE_SCENARIO = Object.freeze({
  tabs: 3,
  minutes: 4,
  pollEvery: 1000,
  lifetime: /** @type {[number, number]} */ ([20, 20]),
  faultRate: 0,
  apiFaultRate: 0,
  relogEvery: Infinity,
  clockStepEvery: Infinity,
  outageAt: [60_000],
  outageFor: 40_000,
});

/** Mirrors the session defaults the soak uses: refreshRetries 3 (4 attempts per refresh). */
const ATTEMPTS = 4;

/**
 * The most refresh requests one simulated minute may see, from the rules. The tabs share one
 * token, so it needs renewing once per lifetime (the shortest one issued; the 5 s floor is below
 * it), plus once for the minute's edge, once per clock jump (that tab's token looks expired), once
 * per logout + login and once after each refresh that failed (the token was not renewed, so the
 * next authFetch or proactive timer tries again). For each renewal every tab may run its own
 * refresh — the lock only serializes them, and a tab whose attempt failed hands the lock to the
 * next one — each of at most `refreshRetries + 1` attempts.
 * @param {{ jumps: number, relogs: number, failures: number }} m @param {number} minLifetime s @param {number} tabs
 */
export function refreshBound(m, minLifetime, tabs) {
  return ATTEMPTS * tabs * (Math.ceil(60 / minLifetime) + 1 + m.jumps + m.relogs + m.failures);
}

/** Every string in a value: strings, own properties, errors' messages, `String()` and causes. @param {unknown} value */
function texts(value, seen = new Set(), depth = 0) {
  /** @type {string[]} */
  const out = [];
  if (typeof value === 'string') out.push(value);
  if (typeof value !== 'object' || value === null || seen.has(value) || depth > 5) return out;
  seen.add(value);
  if (value instanceof Error) out.push(value.message, String(value), ...texts(value.cause, seen, depth + 1));
  for (const key of Reflect.ownKeys(value))
    out.push(...texts(/** @type {Record<PropertyKey, unknown>} */ (value)[key], seen, depth + 1));
  return out;
}

const describe = (/** @type {unknown} */ error) =>
  error instanceof Error ? error.message.split('\n')[0] : String(error);

/** The soak's rows for bench.js's table: PASS/FAIL for what must hold, ok/UNEXPECTED for what should. @param {SoakReport} r */
export function soakRows(r) {
  const fmt = (/** @type {number} */ n) => n.toLocaleString('en-US');
  const list = (/** @type {Record<string, number>} */ table) =>
    Object.entries(table)
      .sort(([, a], [, b]) => b - a)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ') || 'none';
  const total = (/** @type {Record<string, number>} */ table) => Object.values(table).reduce((a, b) => a + b, 0);
  const failed = total(r.api.failed);
  return [
    {
      section: 'soak',
      metric: 'simulated time / tabs / real time',
      value: `${r.simulatedHours.toFixed(1)} h / ${r.tabs} tabs / ${(r.realMs / 1000).toFixed(1)} s (seed ${r.seed})`,
    },
    { section: 'soak', metric: 'requests at the server', value: `${fmt(total(r.requests))} (${list(r.requests)})` },
    {
      section: 'soak',
      metric: 'faults injected (requests)',
      value: `${fmt(total(r.faults))} (${list(r.faults)}); ${r.outages} outages, ${r.clockSteps} clock jumps`,
    },
    {
      section: 'soak',
      metric: 'unexpected logouts',
      value: String(r.logouts.unexpected) + (r.logouts.details.length ? `  (${r.logouts.details.join('; ')})` : ''),
      target: '0',
      result: r.logouts.unexpected === 0 ? 'PASS' : 'FAIL',
    },
    {
      section: 'soak',
      metric: 'tokens leaked into events / errors',
      value: String(r.leaks),
      target: '0',
      result: r.leaks === 0 ? 'PASS' : 'FAIL',
    },
    {
      section: 'soak',
      metric: 'tabs logged out by a command / by the server',
      value: `${r.logouts.commanded} / ${r.logouts.serverSide}`,
    },
    {
      section: 'soak',
      metric: 'tabs still logged out 2 s after a login in another tab',
      value: String(r.missedLogins),
      target: '0',
      result: r.missedLogins === 0 ? 'ok' : 'UNEXPECTED',
    },
    {
      section: 'soak',
      metric: `max refresh requests per simulated minute (one browser, ${r.tabs} tabs)`,
      value: `${r.maxRefreshesPerMinute}, ${r.maxRefreshesPerOutageMinute} in a minute of an auth-server outage  (${r.refreshBoundExceeded} minutes above the bound from the rules)`,
      target: 'within bound',
      result: r.refreshBoundExceeded === 0 ? 'ok' : 'UNEXPECTED',
    },
    {
      section: 'soak',
      metric: 'reuse detections / families revoked other than by logout',
      value: `${r.server.reuseDetections} / ${total(r.server.revoked) - (r.server.revoked.logout ?? 0)}`,
      target: '0 / 0',
      result:
        r.server.reuseDetections === 0 && total(r.server.revoked) === (r.server.revoked.logout ?? 0)
          ? 'ok'
          : 'UNEXPECTED',
    },
    {
      section: 'soak',
      metric: 'rotations / grace hits / refresh refusals',
      value: `${fmt(r.server.rotations)} / ${fmt(r.server.graceHits)} / ${list(r.server.refreshRefusals)}`,
    },
    {
      section: 'soak',
      metric: `authFetch failed (of ${fmt(r.api.calls)})`,
      value: failed === 0 ? '0' : `${fmt(failed)}: ${list(r.api.failed)}`,
    },
    ...(r.errors.length
      ? [{ section: 'soak', metric: 'harness errors', value: r.errors.join('; '), result: 'ERROR' }]
      : []),
  ];
}

// ---- command line ------------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (/** @type {string} */ name) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? Number(process.argv[at + 1]) : undefined;
  };
  const hours = arg('hours');
  const report = await runSoak(
    process.argv.includes('--outage')
      ? { ...OUTAGE_SCENARIO, seed: arg('seed') }
      : {
          minutes: arg('minutes') ?? (hours === undefined ? undefined : hours * 60),
          tabs: arg('tabs'),
          seed: arg('seed'),
        },
  );
  if (process.argv.includes('--json')) console.log(JSON.stringify(report));
  else
    for (const row of soakRows(report))
      console.log(`${row.metric.padEnd(48)} ${row.value}${row.result ? `  [${row.result}]` : ''}`);
}
