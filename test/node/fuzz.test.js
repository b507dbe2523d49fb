// @ts-check
// Property-based fuzzing of the core (src/core/, bundled for Node once per run): sequences of
// logins, logouts, refreshes, restores, authFetch calls, clock jumps, tab messages and disposals
// against a server whose every answer is scripted by fast-check through msw — statuses, headers,
// bodies, network errors and hangs — checking after every step the invariants the README promises.
// Also: every option with valid and invalid values gives a UsageError at once or a working session.
//
// FUZZ_SEED=<n> replays a run (the seed is printed; with FUZZ_PATH=<replayPath> only the failing
// case); FUZZ_TRACE=1 prints each session's activity; FUZZ_RUNS / FUZZ_OPTION_RUNS change the number
// of cases. Retry-After values of 1 to 5 s (which a refresh really waits for) are left to the soak
// (bench/soak.js, fake timers): every other Retry-After is generated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { jwtDecode } from 'jwt-decode';
import { HttpResponse, delay, http } from 'msw';
import { setupServer } from 'msw/node';
import { inCoreTimer, loadCore } from '../../bench/core-node.js';
import { installLocks } from '../../bench/web-locks.js';

const ORIGIN = 'http://auth.test';
const FOREIGN = 'http://elsewhere.test';
/** Mirrors MIN_FRESH (src/core/token-store.ts): a token just received is fresh this long, whatever it says. */
const MIN_FRESH = 5000;
/** Mirrors FUTILE_PAUSE (src/core/fetch.ts): 401s of an endpoint whose retry was refused too do not refresh this long. */
const FUTILE_PAUSE = 30_000;
/** Mirrors tab-sync.ts: another tab's time may be this far ahead before it is junk. */
const ALLOWANCE = 1000;
const STATES = new Set(['restoring', 'authenticated', 'anonymous']);
/** Longest a step may take: the slowest legitimate one (retries, lock and news waits) takes well under 2 s. */
const STUCK = 3000;
const SCOPE = /\berror\s*=\s*"?insufficient_scope\b/i;

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const OPTION_RUNS = Number(process.env.FUZZ_OPTION_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Real-time cap of each property, a guard for slow machines: the runs done are printed. */
const TIME_LIMIT = Number(process.env.FUZZ_TIME_LIMIT ?? 45_000);

/** @typedef {import('../../bench/core-node.js').Core} Core */
/** @typedef {import('../../src/core/index.js').Session} Session */

/** @type {Core} */
let core;
/** Every unhandled rejection of the process, whoever caused it. @type {unknown[]} */
const unhandled = [];
const onUnhandled = (/** @type {unknown} */ reason) => void unhandled.push(reason);
/** The fake server of each live case, by case id. @type {Map<string, FakeServer>} */
const servers = new Map();
const msw = setupServer(
  http.all(/^http:\/\/(auth|elsewhere)\.test\//, async ({ request }) => {
    const url = new URL(request.url);
    const id = url.pathname.split('/')[1];
    const srv = servers.get(id);
    if (!srv) return HttpResponse.error(); // a late request of a finished case
    return srv.handle(url, request);
  }),
);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  core = await loadCore({ markTimers: true });
  msw.listen({ onUnhandledRequest: 'error' });
});
after(() => {
  msw.close();
  process.off('unhandledRejection', onUnhandled);
});

// ---- tokens --------------------------------------------------------------------------------------

const b64 = (/** @type {string} */ text) => Buffer.from(text).toString('base64url');
let minted = 0;
/** A JWT-shaped string, unique by its signature part. @param {string} payload @param {string} [header] */
const jwt = (payload, header = '{"alg":"none","typ":"JWT"}') =>
  `${b64(header)}.${b64(payload)}.sig-${(minted++).toString(36).padStart(6, '0')}`;
const nowS = () => Math.floor(Date.now() / 1000);

/** Claim value specs: `{ rel: n }` is now (s) + n at answer time; `{ lit: v }` is v as it is. */
const claimValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -120, max: 7200 }).map((rel) => ({ rel })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom(0, -1, 1, 1e308, -1e308, 2 ** 53, 1.5, 'NaN', 'Infinity', '1700000000', '', null, true, [], {}),
        fc.double(),
        fc.integer(),
        fc.string({ maxLength: 6 }),
      )
      .map((lit) => ({ lit })),
  },
);
/** @typedef {{ rel: number } | { lit: unknown }} ClaimValue */
const claimsArb = fc.record(
  {
    sub: fc.oneof(fc.constant('1'), fc.string({ maxLength: 8 }), fc.integer()),
    name: fc.constantFrom('Alice', 'Bob', ''),
    role: fc.constantFrom('user', 'admin', 7),
    exp: claimValue,
    iat: claimValue,
  },
  { requiredKeys: ['sub'] },
);
/** @typedef {{ sub: unknown, name?: string, role?: string | number, exp?: ClaimValue, iat?: ClaimValue }} ClaimsSpec */

/** @param {ClaimsSpec} spec */
function claimsOf(spec) {
  /** @type {Record<string, unknown>} */
  const claims = {};
  for (const [key, value] of Object.entries(spec)) {
    claims[key] =
      value && typeof value === 'object' && 'rel' in value
        ? nowS() + Number(value.rel)
        : value && typeof value === 'object' && 'lit' in value
          ? value.lit
          : value;
  }
  return claims;
}

/**
 * What a token field holds: a JWT-shaped string minted at answer time (claims as specified, or a
 * payload that is not a JSON object), or any other JSON value.
 */
const tokenSpec = fc.oneof(
  { weight: 8, arbitrary: claimsArb.map((claims) => ({ t: /** @type {const} */ ('jwt'), claims })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom('42', 'null', '[1,2]', '"x"', 'not json', '{"exp":', '', '{}'),
        fc.string({ maxLength: 12 }),
      )
      .map((payload) => ({ t: /** @type {const} */ ('payload'), payload })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          42,
          0,
          true,
          false,
          null,
          [],
          {},
          ['a.b.c'],
          { token: 'x' },
          '',
          'a.b',
          'a.b.c.d',
          'not-a-jwt',
          '...',
          'a.b.c',
        ),
        fc.string({ maxLength: 20 }),
        fc.double(),
      )
      .map((value) => ({ t: /** @type {const} */ ('value'), value })),
  },
);
/** @typedef {{ t: 'jwt', claims: ClaimsSpec } | { t: 'payload', payload: string } | { t: 'value', value: unknown }} TokenSpec */

/** @param {TokenSpec} spec @returns {unknown} */
function tokenOf(spec) {
  if (spec.t === 'jwt') return jwt(JSON.stringify(claimsOf(spec.claims)));
  if (spec.t === 'payload') return jwt(spec.payload);
  return spec.value;
}

/** `expires_in` as raw JSON text (so `1e400`, which parses to Infinity, is possible); undefined: absent. */
const expiresInArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 7200 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'null',
      '0',
      '-0',
      '-1',
      '0.001',
      '1e-9',
      '1e308',
      '1e400',
      '-1e400',
      '"60"',
      '" 60 "',
      '"1e3"',
      '"abc"',
      '""',
      '"-5"',
      '"Infinity"',
      '"0x10"',
      'true',
      'false',
      '[]',
      '{}',
      '[60]',
      '"NaN"',
    ),
  },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)) },
);

/** A 2xx body of login/refresh. */
const tokenBodyArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ t: fc.constant(/** @type {const} */ ('token')), token: tokenSpec, expiresIn: expiresInArb }),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          '',
          'garbage',
          '<html>',
          '{',
          '[]',
          'null',
          '42',
          '"access_token"',
          '{"expires_in":60}',
          '{"accessToken":"a.b.c"}',
        ),
        fc.string({ maxLength: 30 }),
        fc.json({ maxDepth: 2 }).filter((text) => !text.includes('access_token')),
      )
      .map((text) => ({ t: /** @type {const} */ ('raw'), text })),
  },
);
/** @typedef {{ t: 'token', token: TokenSpec, expiresIn: string | undefined } | { t: 'raw', text: string }} TokenBody */

// ---- answers -------------------------------------------------------------------------------------

const dateArb = fc.constantFrom(.../** @type {const} */ (['none', 'valid', 'garbage', 'minus-day', 'plus-day']));
const retryAfterArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0',
      '6',
      '60',
      '86400',
      '99999999999999999999',
      'soon',
      '-5',
      '1.5',
      '',
      'date-past',
      'date-hour',
      'date-day',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 6, max: 10 ** 9 }).map(String) },
);
const wwwAuthArb = fc.constantFrom(
  undefined,
  undefined,
  'Bearer error="invalid_token"',
  'Bearer realm="api", error="insufficient_scope", scope="admin"',
  'Bearer error=insufficient_scope',
  'Basic realm="x"',
  'garbage',
);
const STATUSES = [200, 204, 400, 401, 403, 404, 408, 429, 500, 502, 503];

/** @param {'login' | 'refresh' | 'logout' | 'api'} route */
function answerArb(route) {
  const statusArb =
    route === 'login' || route === 'refresh'
      ? fc.oneof({ weight: 5, arbitrary: fc.constant(200) }, { weight: 6, arbitrary: fc.constantFrom(...STATUSES) })
      : fc.constantFrom(...STATUSES);
  const bodyArb =
    route === 'login' || route === 'refresh'
      ? tokenBodyArb
      : fc.constantFrom(
          { t: /** @type {const} */ ('raw'), text: '{"ok":true}' },
          { t: /** @type {const} */ ('raw'), text: 'nope' },
        );
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant(/** @type {const} */ ('http')),
        status: statusArb,
        date: dateArb,
        retryAfter: retryAfterArb,
        wwwAuth: wwwAuthArb,
        body: /** @type {fc.Arbitrary<TokenBody>} */ (bodyArb),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: /** @type {const} */ ('error') }) },
    { weight: 1, arbitrary: fc.constant({ kind: /** @type {const} */ ('hang') }) },
  );
}
/**
 * @typedef {{ kind: 'http', status: number, date: 'none' | 'valid' | 'garbage' | 'minus-day' | 'plus-day',
 *   retryAfter: string | undefined, wwwAuth: string | undefined, body: TokenBody } | { kind: 'error' } | { kind: 'hang' }} Answer
 */

const DAY = 86_400_000;
/** @param {Answer & { kind: 'http' }} answer */
function headersOf(answer) {
  /** @type {Record<string, string>} */
  const headers = {};
  const date = {
    valid: Date.now(),
    'minus-day': Date.now() - DAY,
    'plus-day': Date.now() + DAY,
    none: undefined,
    garbage: undefined,
  }[answer.date];
  if (date !== undefined) headers.Date = new Date(date).toUTCString();
  if (answer.date === 'garbage') headers.Date = 'yesterday-ish';
  const ra = answer.retryAfter;
  if (ra === 'date-past') headers['Retry-After'] = new Date(Date.now() - 3_600_000).toUTCString();
  else if (ra === 'date-hour') headers['Retry-After'] = new Date(Date.now() + 3_600_000).toUTCString();
  else if (ra === 'date-day') headers['Retry-After'] = new Date(Date.now() + DAY).toUTCString();
  else if (ra !== undefined) headers['Retry-After'] = ra;
  if (answer.wwwAuth !== undefined) headers['WWW-Authenticate'] = answer.wwwAuth;
  return headers;
}

/**
 * @typedef {{ op: string, method: string, auth: string | null, kind: Answer['kind'], status: number | null,
 *   wwwAuth: string | null, retryAfter: number | undefined, verdict: 'ok' | 'protocol' | 'setup' | null, error?: string, at: number }} Logged
 */

/**
 * What the README's contract makes of a 2xx token body: usable, a SetupError (no access_token where
 * the session looks for it) or a ProtocolError (not JSON, not a decodable JWT with an object
 * payload, a bad expires_in, exp not after iat).
 * @param {string} text @returns {'ok' | 'protocol' | 'setup'}
 */
function verdictOf(text) {
  /** @type {any} */
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return 'protocol';
  }
  if (typeof body !== 'object' || body === null || !('access_token' in body)) return 'setup';
  const token = body.access_token;
  if (typeof token !== 'string' || token.split('.').length !== 3) return 'protocol';
  /** @type {any} */
  let claims;
  try {
    claims = jwtDecode(token);
  } catch {
    return 'protocol';
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return 'protocol';
  const expiresIn = body.expires_in;
  if (expiresIn !== undefined && expiresIn !== null) {
    const seconds = typeof expiresIn === 'string' && expiresIn.trim() !== '' ? Number(expiresIn) : expiresIn;
    return typeof seconds === 'number' && seconds >= 0 ? 'ok' : 'protocol';
  }
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'ok';
  if (typeof iat === 'number' && Number.isFinite(iat) && !(exp > iat)) return 'protocol';
  return 'ok';
}

/** A 429's Retry-After in seconds as the README describes it (seconds, or an HTTP date against the Date header). @param {Record<string, string>} headers */
function retryAfterOf(headers) {
  const header = headers['Retry-After']?.trim() ?? '';
  const date = Date.parse(headers.Date ?? '');
  const seconds = /^\d+$/.test(header)
    ? Number(header)
    : Math.ceil((Date.parse(header) - (Number.isNaN(date) ? Date.now() : date)) / 1000);
  return seconds >= 0 ? seconds : undefined;
}

/**
 * The error code a session endpoint's answer must produce (null: success; 'unauthenticated' for a
 * refresh's 401, 'invalid-credentials' for a login's).
 * @param {Logged} entry
 */
function expectedCode(entry) {
  if (entry.kind === 'error') return 'network';
  if (entry.kind === 'hang') return 'timeout';
  const status = /** @type {number} */ (entry.status);
  if (status === 401)
    return entry.op === 'login' ? 'invalid-credentials' : entry.op === 'refresh' ? 'unauthenticated' : null;
  // Set-up mistakes (see SetupError): no such endpoint, the wrong method, a CSRF/Origin refusal.
  if (status === 404 || status === 405) return 'setup';
  if (status === 403 && (!entry.error || /csrf|origin|host/i.test(entry.error))) return 'setup';
  if (status >= 200 && status < 300)
    return entry.op === 'logout' || entry.verdict === 'ok' ? null : /** @type {'protocol' | 'setup'} */ (entry.verdict);
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'network';
  return 'http';
}
/** The `error` string of a JSON body (at most 64 characters), as the session reads it; else ''. @param {string} text */
function errorFieldOf(text) {
  try {
    const { error } = JSON.parse(text);
    return typeof error === 'string' && error.length <= 64 ? error : '';
  } catch {
    return '';
  }
}

/** Whether a logged answer is a transient failure (the network, a timeout, 5xx, 408, 429). @param {Logged} entry */
const isTransient = (entry) =>
  ['network', 'timeout', 'rate-limited'].includes(/** @type {string} */ (expectedCode(entry)));

/**
 * Refresh requests that failed transiently in a row at the end of `log`: the browser's outage as
 * refresher.ts counts it (any answer that was not transient, to a refresh or a login, ends it; a
 * login's transient failure neither counts nor ends it; logouts and other routes do not count).
 * @param {Logged[]} log
 */
function failureStreak(log) {
  let streak = 0;
  for (const entry of log.filter((r) => r.op === 'refresh' || r.op === 'login')) {
    if (isTransient(entry) && entry.op === 'refresh') streak++;
    else if (!isTransient(entry)) streak = 0;
  }
  return streak;
}

/** Mirrors MAX_RETRY_AFTER (refresher.ts): a longer Retry-After fails a refresh at once. */
const MAX_RETRY_AFTER = 5;

/** The scripted server of one case: queued answers per route, defaults that behave, and a log. */
class FakeServer {
  /** @param {string} id @param {number} timeout the session's, to make a slow API answer outlast it @param {{ t: number }} clock */
  constructor(id, timeout, clock) {
    this.id = id;
    this.timeout = timeout;
    this.clock = clock;
    /** @type {Record<'login' | 'refresh' | 'logout' | 'api', Answer[]>} */
    this.queues = { login: [], refresh: [], logout: [], api: [] };
    /** Every string served as an access_token in a 2xx answer. @type {Set<string>} */
    this.issued = new Set();
    /** Every string posted as a token in a tab message. @type {Set<string>} */
    this.posted = new Set();
    /** @type {Logged[]} */
    this.log = [];
    this.inflight = 0;
  }

  /** @param {string} token */
  known(token) {
    return this.issued.has(token) || this.posted.has(token);
  }

  /** Every token string worth searching for in events and errors. */
  secrets() {
    return [...this.issued, ...this.posted].filter((t) => t.split('.').length === 3 && t.length >= 12);
  }

  /** @param {URL} url @param {Request} request */
  async handle(url, request) {
    const last = url.pathname.split('/').pop() ?? '';
    const op =
      url.origin === FOREIGN ? 'foreign' : last === 'login' || last === 'refresh' || last === 'logout' ? last : 'api';
    const auth = request.headers.get('Authorization');
    const answer = op === 'foreign' ? undefined : this.queues[op].shift();
    /** @type {Logged} */
    const entry = {
      op,
      method: request.method,
      auth,
      kind: answer?.kind ?? 'http',
      status: null,
      wwwAuth: null,
      retryAfter: undefined,
      verdict: null,
      at: this.clock.t,
    };
    this.log.push(entry);
    this.inflight++;
    try {
      if (op === 'foreign') return HttpResponse.json({ ok: true });
      if (!answer) return this.#default(op, auth, entry);
      if (answer.kind === 'error') return HttpResponse.error();
      if (answer.kind === 'hang') {
        // An API call has no timeout of its own (authFetch is fetch): there a hang is a slow answer,
        // and either outcome of a race with the caller's signal is a right one.
        if (op === 'api') {
          await delay(this.timeout + 25);
          return this.#default(op, auth, entry);
        }
        // The session's own requests: no answer at all until the client gives up — its timeout
        // aborts the request. An answer after a fixed delay (it used to come 25 ms after the
        // timeout) raced the session's timer, and on a loaded machine the answer sometimes came
        // first: a refresh that "hung" then succeeded, and the check expecting a timeout failed.
        await aborted(request.signal);
        return HttpResponse.error();
      }
      const headers = headersOf(answer);
      entry.status = answer.status;
      entry.wwwAuth = headers['WWW-Authenticate'] ?? null;
      entry.retryAfter = retryAfterOf(headers);
      const noBody = answer.status === 204;
      let text = answer.body.t === 'raw' ? answer.body.text : '';
      if (answer.body.t === 'token') {
        const token = tokenOf(answer.body.token);
        if (typeof token === 'string' && answer.status >= 200 && answer.status < 300 && !noBody) this.issued.add(token);
        text = `{"access_token":${JSON.stringify(token) ?? 'null'}${answer.body.expiresIn === undefined ? '' : `,"expires_in":${answer.body.expiresIn}`}}`;
      }
      entry.verdict = verdictOf(noBody ? '' : text);
      entry.error = errorFieldOf(text);
      return new HttpResponse(noBody ? null : text, {
        status: answer.status,
        headers: { 'Content-Type': 'application/json', ...headers },
      });
    } finally {
      this.inflight--;
    }
  }

  /** What a server that works answers. @param {string} op @param {string | null} auth @param {Logged} entry */
  #default(op, auth, entry) {
    if (op === 'login' || op === 'refresh') {
      const t = nowS();
      const token = jwt(JSON.stringify({ sub: '1', name: 'Alice', role: 'user', iat: t, exp: t + 60 }));
      this.issued.add(token);
      entry.status = 200;
      entry.verdict = 'ok';
      return HttpResponse.json({ access_token: token, expires_in: 60 });
    }
    if (op === 'logout') {
      entry.status = 204;
      return new HttpResponse(null, { status: 204 });
    }
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    if (bearer !== null && this.known(bearer)) {
      entry.status = 200;
      return HttpResponse.json({ ok: true });
    }
    entry.status = 401;
    entry.wwwAuth = 'Bearer error="invalid_token"';
    return HttpResponse.json(
      { error: 'invalid_token' },
      { status: 401, headers: { 'WWW-Authenticate': entry.wwwAuth } },
    );
  }
}

// ---- tab messages --------------------------------------------------------------------------------

const sharedNow = () => performance.timeOrigin + performance.now();
const timeSpec = fc.constantFrom(
  .../** @type {const} */ ([
    'now',
    'now',
    'past',
    'soon',
    'future',
    'far',
    'zero',
    'nan',
    'inf',
    '-inf',
    'string',
    'missing',
  ]),
);
/** @param {typeof timeSpec extends fc.Arbitrary<infer T> ? T : never} spec */
function timeOf(spec) {
  const now = sharedNow();
  return {
    now,
    past: now - 60_000,
    soon: now + ALLOWANCE / 2,
    future: now + 5 * ALLOWANCE,
    far: 1e20,
    zero: 0,
    nan: NaN,
    inf: Infinity,
    '-inf': -Infinity,
    string: String(now),
    missing: undefined,
  }[spec];
}
const spanSpec = fc.constantFrom(60_000, 60_000, 0, 1, 5_000, -1, NaN, Infinity, 1e308, 1.5, '60000', null);
const tabTokenSpec = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ t: /** @type {const} */ ('issued') }) },
  { weight: 4, arbitrary: tokenSpec },
);
const tabMessageArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant(/** @type {const} */ ('logout')),
      v: fc.constantFrom(1, 1, 1, 2, '1'),
      at: timeSpec,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant(/** @type {const} */ ('token')),
      v: fc.constantFrom(1, 1, 1, 0),
      token: tabTokenSpec,
      remaining: spanSpec,
      lifetime: spanSpec,
      requestedAt: timeSpec,
    }),
  },
  // Lock news, as another tab's refresh sends it: mostly paired, rarely a holder that never releases.
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant(/** @type {const} */ ('lock')),
      released: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      id: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('x'.repeat(40)), fc.integer()),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.anything({ maxDepth: 2 }).map((value) => ({ kind: /** @type {const} */ ('junk'), value })),
  },
);

// ---- the system under test -------------------------------------------------------------------------

let caseCounter = 0;

/**
 * A deep search for any of `secrets` in `value`: strings, own properties, errors' messages, `String()` and causes.
 * @param {unknown} value @param {string[]} secrets @returns {string | null}
 */
function findSecret(value, secrets, seen = new Set(), depth = 0) {
  if (secrets.length === 0 || depth > 6) return null;
  if (typeof value === 'string') return secrets.find((s) => value.includes(s)) ?? null;
  if (typeof value !== 'object' || value === null || seen.has(value)) return null;
  seen.add(value);
  if (value instanceof Error) {
    for (const text of [value.message, String(value), value.stack ?? '']) {
      const hit = findSecret(text, secrets, seen, depth + 1);
      if (hit) return hit;
    }
    const hit = findSecret(value.cause, secrets, seen, depth + 1);
    if (hit) return hit;
  }
  for (const key of Reflect.ownKeys(value)) {
    const hit = findSecret(/** @type {Record<PropertyKey, unknown>} */ (value)[key], secrets, seen, depth + 1);
    if (hit) return hit;
  }
  return null;
}

const describeError = (/** @type {unknown} */ e) =>
  e instanceof Error ? `${e.name}(${/** @type {{ code?: string }} */ (e).code ?? ''}): ${e.message}` : String(e);

/**
 * @typedef {{ reason: string | undefined, at: number, timer: boolean, cmd: number, real: number }} Run
 * @typedef {{ timeout: number, retryDelay: number, refreshRetries: number, leeway: number | undefined,
 *   refreshMethod: string | undefined, logoutMethod: string | undefined, csrfHeader: string | undefined,
 *   tabSync: boolean, lockTimeout: number, locks: boolean, clockStart: number, allowedOrigins: string | undefined }} CaseOptions
 */

/** One session with its fake server, clock, tab channel and the observations the invariants need. */
class Case {
  /** @param {CaseOptions} o */
  constructor(o) {
    this.id = `c${++caseCounter}`;
    this.api = `${ORIGIN}/${this.id}/api`;
    this.o = o;
    this.clock = { t: o.clockStart };
    this.srv = new FakeServer(this.id, o.timeout, this.clock);
    servers.set(this.id, this.srv);
    this.uninstallLocks = o.locks ? installLocks() : () => {};
    /** @type {string[]} */
    this.violations = [];
    /** @type {Run[]} */
    this.runs = [];
    this.ended = 0;
    /** Clock reading of the last token the session stored (login, refresh, a tab's token). @type {number | null} */
    this.lastStore = null;
    /** How many times the state changed to each value. */
    this.changes = { anonymous: 0, authenticated: 0 };
    /** The token whose retry was refused, as the session should have recorded it. @type {{ token: string, until: number } | null} */
    /** Endpoints (origin + path) whose 401s are paused, until when (the fuzz's tokens carry no sid). @type {Map<string, number>} */
    this.futile = new Map();
    /** Length of the server log when a tab's token was last posted (see the refresh command). */
    this.tabTokenAt = -1;
    /** The session's activity, with FUZZ_TRACE: printed when an invariant fails. @type {string[]} */
    this.trace = [];
    this.cmd = 0;
    /** What the current step is ('logout', 'tab', …), where its requests start in the log, and the previous step's. */
    this.step = { kind: '', log: 0, previous: 0 };
    /** Unhandled rejections of earlier cases are theirs. */
    this.unhandledFrom = unhandled.length;
    /** Steps in which the session went authenticated → anonymous, and → authenticated. */
    this.endedIn = new Set();
    this.startedIn = new Set();
    this.disposed = false;
    this.session = core.createSession({
      api: this.api,
      clock: () => this.clock.t,
      timeout: o.timeout,
      retryDelay: o.retryDelay,
      refreshRetries: o.refreshRetries,
      leeway: o.leeway,
      refreshMethod: /** @type {any} */ (o.refreshMethod),
      logoutMethod: /** @type {any} */ (o.logoutMethod),
      csrfHeader: o.csrfHeader,
      tabSync: o.tabSync,
      lockTimeout: o.lockTimeout,
      allowedOrigins: o.allowedOrigins,
    });
    this.channel = new BroadcastChannel(`auth-shell:${this.api}`);
    this.probe = new BroadcastChannel(`auth-shell:${this.api}`);
    this.sentinels = 0;
    /** @type {(() => void) | null} */
    this.onSentinel = null;
    this.probe.onmessage = ({ data }) => {
      if (data?.sentinel === this.sentinels) this.onSentinel?.();
    };
    const s = this.session;
    s.addEventListener('activity', ({ detail }) => {
      this.#scan('activity', detail);
      if (detail.error !== undefined && !core.isAuthError(detail.error))
        this.violate(
          `activity ${detail.kind}/${detail.phase} carries a non-auth error: ${describeError(detail.error)}`,
        );
      if (detail.kind === 'refresh' && detail.phase === 'start') this.#runStarted(detail.reason);
      if (detail.kind === 'refresh' && (detail.phase === 'success' || detail.phase === 'failure')) this.ended++;
      const stored =
        (detail.kind === 'login' && detail.phase === 'success') ||
        (detail.kind === 'refresh' && detail.phase === 'success' && !(detail.source === 'tab' && detail.reason));
      if (stored) this.lastStore = this.clock.t;
    });
    s.addEventListener('error', ({ detail }) => {
      this.#scan('error', detail);
      if (!core.isAuthError(detail.error))
        this.violate(`error event with a non-auth error: ${describeError(detail.error)}`);
    });
    let previous = s.state;
    if (process.env.FUZZ_TRACE)
      s.addEventListener('activity', ({ detail }) =>
        this.trace.push(
          `${performance.now().toFixed(1)} ${detail.kind} ${detail.phase} ${detail.reason ?? ''} ${detail.source ?? ''} ${detail.error?.code ?? ''}`,
        ),
      );
    s.addEventListener('change', ({ detail }) => {
      this.#scan('change', detail);
      if (!STATES.has(detail.state)) this.violate(`change to an unknown state ${String(detail.state)}`);
      if (detail.state !== s.state) this.violate(`change detail ${detail.state} while state is ${s.state}`);
      if (detail.state === 'anonymous' || detail.state === 'authenticated') this.changes[detail.state]++;
      if (previous === 'authenticated' && detail.state === 'anonymous') this.endedIn.add(this.cmd);
      if (previous !== 'authenticated' && detail.state === 'authenticated') this.startedIn.add(this.cmd);
      previous = detail.state;
    });
  }

  /** @param {string} message */
  violate(message) {
    this.violations.push(`[step ${this.cmd}] ${message}`);
  }

  /** @param {string} where @param {unknown} detail */
  #scan(where, detail) {
    const hit = findSecret(detail, this.srv.secrets());
    if (hit) this.violate(`a token appears in a ${where} event: …${hit.slice(-12)}`);
  }

  /** @param {string | undefined} reason */
  #runStarted(reason) {
    const run = { reason, at: this.clock.t, timer: inCoreTimer(), cmd: this.cmd, real: performance.now() };
    this.runs.push(run);
    // The 5 s floor: a refresh for staleness needs a token older than MIN_FRESH on the session's clock.
    if (reason === 'expiry' && this.lastStore !== null && run.at < this.lastStore + MIN_FRESH) {
      this.violate(
        `a refresh for expiry at clock ${run.at}, ${run.at - this.lastStore} ms after the last token arrived (floor ${MIN_FRESH})`,
      );
    }
  }

  /** An error a library call threw: only auth-shell's own, never holding a token. @param {string} call @param {unknown} error */
  checkError(call, error) {
    if (!core.isAuthError(error)) this.violate(`${call} rejected with a non-auth error: ${describeError(error)}`);
    const hit = findSecret(error, this.srv.secrets());
    if (hit) this.violate(`${call}'s error holds a token: …${hit.slice(-12)}`);
  }

  /** Refresh runs started by the caller (not the proactive timer, not the restore) since run index `from`. */
  callRuns(/** @type {number} */ from) {
    return this.runs.slice(from).filter((r) => !r.timer && r.reason !== 'restore');
  }

  /**
   * Posts `message` on the session's channel and waits until the session has had it: a sentinel
   * posted after it reaches the probe (a channel of the same name), and two turns of the event loop
   * later the session's channel has handled what was queued for it in the same delivery. No time
   * limit of its own (it was 200 ms): on a loaded machine a message delivered later would land in
   * the next step, and that step's checks would blame it.
   * @param {unknown} message
   */
  async post(message) {
    this.channel.postMessage(message);
    const n = ++this.sentinels;
    const delivered = new Promise((resolve) => (this.onSentinel = () => resolve(undefined)));
    this.channel.postMessage({ v: 0, sentinel: n });
    await delivered;
    await immediate();
    await immediate();
  }

  /** Invariants that hold after every step. */
  checkStep() {
    const { session, srv, o } = this;
    if (!STATES.has(session.state)) this.violate(`state is ${String(session.state)}`);
    // Only a logout (here or in another tab) or the server's 401 to a refresh ends a session; only a
    // login, a refresh the server granted or another tab's token starts one. (The answer may have
    // come in the step before: a proactive refresh runs on its own.)
    const answered = srv.log.slice(this.step.previous).filter((r) => r.op === 'refresh' && r.kind === 'http');
    if (
      this.endedIn.has(this.cmd) &&
      this.step.kind !== 'logout' &&
      this.step.kind !== 'tab' &&
      !answered.some((r) => r.status === 401)
    ) {
      this.violate(`the session ended in a ${this.step.kind} step without a logout or a 401 to a refresh`);
    }
    const granted = answered.some((r) => /** @type {number} */ (r.status) < 300 && r.verdict === 'ok');
    if (this.startedIn.has(this.cmd) && this.step.kind !== 'login' && this.step.kind !== 'tab' && !granted) {
      this.violate(
        `the session became authenticated in a ${this.step.kind} step without a login, a granted refresh or a tab's token`,
      );
    }
    if (unhandled.length > this.unhandledFrom)
      this.violate(`unhandled rejection: ${unhandled.slice(this.unhandledFrom).map(describeError).join('; ')}`);
    // Every refresh run sends at most refreshRetries + 1 requests.
    const refreshes = srv.log.filter((r) => r.op === 'refresh');
    if (refreshes.length > (o.refreshRetries + 1) * this.runs.length) {
      this.violate(
        `${refreshes.length} refresh requests for ${this.runs.length} refresh runs (at most ${o.refreshRetries + 1} each)`,
      );
    }
    // Per simulated second: the runs started in it, plus one still going, each within its attempts.
    /** @type {Map<number, number>} */
    const perSecond = new Map();
    for (const r of refreshes)
      perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
    for (const [second, count] of perSecond) {
      const started = this.runs.filter((r) => Math.floor(r.at / 1000) === second).length;
      if (count > (o.refreshRetries + 1) * (started + 1))
        this.violate(`${count} refresh requests in simulated second ${second} for ${started} runs started in it`);
      stats.maxRefreshesPerSecond = Math.max(stats.maxRefreshesPerSecond, count);
    }
    if (this.violations.length > 0) {
      if (process.env.FUZZ_TRACE)
        console.log(
          [
            ...this.trace,
            ...this.srv.log.map((r) => `server ${r.op} ${r.kind} ${r.status} ${r.verdict} @${r.at}`),
          ].join('\n'),
        );
      throw new Error(`invariants violated:\n  ${this.violations.join('\n  ')}`);
    }
  }

  /** Disposes the session and waits for its work to settle (bounded: nothing may wait forever). */
  async close() {
    this.cmd++;
    this.step = { kind: 'close', log: this.srv.log.length, previous: this.step.log };
    this.session.dispose();
    const deadline = performance.now() + 5000;
    while ((this.srv.inflight > 0 || this.ended < this.runs.length) && performance.now() < deadline) await sleep(2);
    if (this.srv.inflight > 0 || this.ended < this.runs.length)
      this.violate(`work still pending 5 s after dispose (${this.runs.length - this.ended} refresh runs)`);
    await immediate();
    await immediate();
    this.channel.close();
    this.probe.close();
    servers.delete(this.id);
    this.uninstallLocks();
    stats.requests += this.srv.log.length;
    this.checkStep();
  }
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves once `signal` is aborted. @param {AbortSignal} signal */
const aborted = (signal) =>
  new Promise((resolve) =>
    signal.aborted ? resolve(undefined) : signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  );
const immediate = () => new Promise((resolve) => setImmediate(resolve));
const stats = { cases: 0, steps: 0, requests: 0, maxRefreshesPerSecond: 0, optionCases: 0, usageErrors: 0 };

// ---- commands ------------------------------------------------------------------------------------

/** @typedef {{}} Model */
/** @typedef {fc.AsyncCommand<Model, Case>} Cmd */

/**
 * @param {string} name its kind first: `login(…)`, `tab(…)`
 * @param {(c: Case) => Promise<void>} run
 * @returns {Cmd}
 */
function command(name, run) {
  const kind = name.replace(/\(.*/s, '');
  return {
    check: () => true,
    async run(_model, c) {
      c.cmd++;
      c.step = { kind, log: c.srv.log.length, previous: c.step.log };
      stats.steps++;
      // Nothing may wait forever: every library call settles well within this (see STUCK).
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const stuck = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`invariants violated:\n  [step ${c.cmd}] ${name} did not settle within ${STUCK} ms`)),
          STUCK,
        );
      });
      try {
        await Promise.race([run(c), stuck]);
      } finally {
        clearTimeout(timer);
      }
      c.checkStep();
    },
    toString: () => name,
  };
}

const loginArgs = fc.oneof(
  { weight: 8, arbitrary: fc.constant(/** @type {[unknown, unknown]} */ (['alice', 'alice'])) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      .../** @type {[unknown, unknown][]} */ ([
        ['', 'x'],
        [42, 'x'],
        ['alice', undefined],
        [null, null],
        ['alice', 7],
      ]),
    ),
  },
);

const loginCmd = loginArgs.map(([login, pass]) =>
  command(`login(${JSON.stringify(login)}, ${JSON.stringify(pass)})`, async (c) => {
    const before = c.session.state;
    const usage = !login || typeof login !== 'string' || typeof pass !== 'string' || c.disposed;
    /** @type {string | null} */
    let code = null;
    try {
      const user = await c.session.login(/** @type {string} */ (login), /** @type {string} */ (pass));
      if (usage) c.violate('login with bad arguments or after dispose resolved');
      if (c.session.state !== 'authenticated') c.violate(`login resolved but the state is ${c.session.state}`);
      if (typeof user !== 'object' || user === null || !Object.isFrozen(user) || user !== c.session.user)
        c.violate('login resolved without the session’s frozen user');
    } catch (error) {
      c.checkError('login', error);
      code = /** @type {{ code?: string }} */ (error)?.code ?? 'non-auth';
      if (usage && code !== 'usage')
        c.violate(`login with bad arguments or after dispose: ${describeError(error)}, not a UsageError`);
      // A failed login changes nothing.
      if (c.session.state !== before) c.violate(`a failed login changed the state ${before} → ${c.session.state}`);
    }
    // The outcome is the server's answer, typed as the README says.
    const sent = c.srv.log.slice(c.step.log).filter((r) => r.op === 'login');
    if (!usage) {
      if (sent.length !== 1) c.violate(`login sent ${sent.length} login requests`);
      else if (sent.length === 1 && expectedCode(sent[0]) !== code)
        c.violate(
          `login answered ${sent[0].kind} ${sent[0].status} (${sent[0].verdict}) ended ${code ?? 'resolved'}, not ${expectedCode(sent[0]) ?? 'resolved'}`,
        );
    }
  }),
);

const logoutCmd = fc.constant(
  command('logout()', async (c) => {
    try {
      await c.session.logout();
    } catch (error) {
      c.checkError('logout', error);
    }
    // Memory is cleared first, whatever the server says.
    if (c.session.state !== 'anonymous') c.violate(`after logout the state is ${c.session.state}`);
  }),
);

const refreshCmd = fc.constant(
  command('refresh()', async (c) => {
    const from = c.runs.length;
    const before = c.session.state;
    /** @type {string | null} */
    let code = null;
    try {
      await c.session.refresh();
    } catch (error) {
      c.checkError('refresh', error);
      code = /** @type {{ code?: string }} */ (error)?.code ?? 'non-auth';
    }
    if (c.callRuns(from).length > 1) c.violate(`one refresh() call started ${c.callRuns(from).length} refresh runs`);
    const sent = c.srv.log.slice(c.step.log).filter((r) => r.op === 'refresh');
    const last = sent.at(-1);
    if (last) {
      // The last answer decides, typed; a 401 ends the session, nothing else does.
      if (expectedCode(last) !== code)
        c.violate(
          `refresh's last answer ${last.kind} ${last.status} (${last.verdict}) ended ${code ?? 'resolved'}, not ${expectedCode(last) ?? 'resolved'}`,
        );
      if (code === null && c.session.state !== 'authenticated')
        c.violate(`a refresh that succeeded left the state ${c.session.state}`);
      if (code === 'unauthenticated' && c.session.state !== 'anonymous')
        c.violate(`a refresh answered 401 left the state ${c.session.state}`);
      if (code !== null && code !== 'unauthenticated' && c.session.state !== before)
        c.violate(`a failed refresh (${code}) changed the state ${before} → ${c.session.state}`);
      // Transient failures are retried refreshRetries times, unless a Retry-After (of a 429 or a
      // 5xx) is too long to wait for. From calm: exactly that; in a browser's outage (failures
      // since the last answer that was not transient), at most one attempt once beyond the retries.
      const transient = code === 'network' || code === 'timeout' || code === 'rate-limited';
      const tooLong = transient && (last.retryAfter ?? 0) > MAX_RETRY_AFTER;
      const earlier = c.srv.log.slice(0, c.srv.log.indexOf(sent[0]));
      const streak = failureStreak(earlier);
      // A tab's token may have ended the outage since its last failure: then only the bound holds.
      const calmed = c.tabTokenAt > earlier.findLastIndex((r) => r.op === 'refresh');
      if (transient && !tooLong && streak === 0 && sent.length !== c.o.refreshRetries + 1)
        c.violate(`a refresh failing with ${code} made ${sent.length} attempts, not ${c.o.refreshRetries + 1}`);
      if (sent.length > (streak > c.o.refreshRetries && !calmed ? 1 : c.o.refreshRetries + 1))
        c.violate(`a refresh in an outage of ${streak} failures made ${sent.length} attempts`);
      if (tooLong && sent.filter((r) => (r.retryAfter ?? 0) > MAX_RETRY_AFTER && isTransient(r)).length !== 1)
        c.violate('a long Retry-After did not end the refresh at once');
    }
  }),
);

const restoreCmd = fc.constant(
  command('restore()', async (c) => {
    const before = c.session.state;
    try {
      await c.session.restore();
    } catch (error) {
      c.violate(`restore rejected: ${describeError(error)}`);
    }
    if (c.session.state === 'restoring') c.violate('restore settled but the state is still restoring');
    // From `restoring`: authenticated exactly when the server granted the refresh.
    const last = c.srv.log
      .slice(c.step.log)
      .filter((r) => r.op === 'refresh')
      .at(-1);
    if (before === 'restoring' && last) {
      const granted = expectedCode(last) === null;
      if (granted !== (c.session.state === 'authenticated'))
        c.violate(
          `restore with a last refresh answer ${last.kind} ${last.status} (${last.verdict}) ended ${c.session.state}`,
        );
    }
    const ready = await Promise.race([c.session.ready.then(() => true), immediate().then(() => false)]);
    if (!ready) c.violate('restore settled but ready did not');
  }),
);

const advanceCmd = fc
  .oneof(
    fc.integer({ min: 0, max: 2000 }),
    fc.integer({ min: 4000, max: 6000 }),
    fc.integer({ min: 29_000, max: 31_000 }),
    fc.integer({ min: 40_000, max: 65_000 }),
    fc.constantFrom(3_600_000, 1e9, 1e12),
  )
  .map((ms) =>
    command(`advance(${ms})`, async (c) => {
      c.clock.t += ms;
    }),
  );

const scriptCmd = fc
  .constantFrom(.../** @type {const} */ (['login', 'refresh', 'logout', 'api', 'api', 'refresh']))
  .chain((route) =>
    fc.tuple(
      fc.constant(route),
      fc.oneof(
        { weight: 3, arbitrary: fc.array(answerArb(route), { minLength: 1, maxLength: 4 }) },
        // The same answer several times over: an endpoint that keeps refusing, a server that keeps failing.
        {
          weight: 1,
          arbitrary: fc
            .tuple(answerArb(route), fc.integer({ min: 2, max: 6 }))
            .map(([answer, n]) => Array(n).fill(answer)),
        },
      ),
    ),
  )
  .map(([route, answers]) =>
    command(`script(${route}, ${JSON.stringify(answers)})`, async (c) => {
      c.srv.queues[route].push(...answers);
    }),
  );

const disposeCmd = fc.constant(
  command('dispose()', async (c) => {
    c.session.dispose();
    c.session.dispose(); // idempotent
    c.disposed = true;
  }),
);

const fetchSpec = fc.record({
  target: fc.constantFrom(.../** @type {const} */ (['api', 'api', 'api', 'origin', 'foreign'])),
  input: fc.constantFrom(.../** @type {const} */ (['string', 'url', 'request'])),
  post: fc.boolean(),
  ownAuth: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  signal: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const authFetchCmd = fetchSpec.map((spec) =>
  command(`authFetch(${JSON.stringify(spec)})`, async (c) => {
    const { session, srv } = c;
    const url = { api: `${c.api}/data`, origin: `${ORIGIN}/${c.id}/other?q=1`, foreign: `${FOREIGN}/${c.id}/x` }[
      spec.target
    ];
    /** @type {RequestInit} */
    const init = {};
    if (spec.post)
      Object.assign(init, {
        method: 'POST',
        body: JSON.stringify({ n: 1 }),
        headers: { 'Content-Type': 'application/json' },
      });
    if (spec.ownAuth) init.headers = { ...init.headers, Authorization: 'Bearer mine' };
    if (spec.signal) init.signal = AbortSignal.timeout(c.o.timeout);
    const input = spec.input === 'string' ? url : spec.input === 'url' ? new URL(url) : new Request(url, init);
    const before = {
      state: session.state,
      t: c.clock.t,
      log: srv.log.length,
      runs: c.runs.length,
      inflight: c.ended < c.runs.length,
      anonymous: c.changes.anonymous,
      authenticated: c.changes.authenticated,
    };
    /** @type {Response | undefined} */
    let response;
    /** @type {unknown} */
    let error;
    try {
      response = await (spec.input === 'request' ? session.authFetch(input) : session.authFetch(input, init));
      await response.text().catch(() => {});
    } catch (e) {
      error = e;
    }
    const reqs = srv.log.slice(before.log).filter((r) => r.op === 'api' || r.op === 'foreign');
    const [r1, r2] = reqs;
    const bearer = (/** @type {Logged | undefined} */ r) =>
      r?.auth?.startsWith('Bearer ') && !spec.ownAuth ? r.auth.slice(7) : null;
    const endedDuring = c.changes.anonymous > before.anonymous;

    // Only auth-shell's errors — or fetch's own, when the API request itself failed or the caller's signal aborted it.
    const name = error instanceof Error ? error.name : '';
    const callerAborted = spec.signal && (name === 'TimeoutError' || name === 'AbortError');
    if (error !== undefined && !core.isAuthError(error)) {
      const apiFailed = name === 'TypeError' && reqs.at(-1)?.kind === 'error';
      if (!apiFailed && !callerAborted) c.violate(`authFetch rejected with a non-auth error: ${describeError(error)}`);
    } else if (error !== undefined) c.checkError('authFetch', error);
    if (reqs.length > 2) c.violate(`one authFetch sent ${reqs.length} API requests`);
    for (const r of reqs) {
      if (r.op === 'foreign' && r.auth !== null && !spec.ownAuth) c.violate('the bearer went to a foreign origin');
      const token = bearer(r);
      if (token !== null && !srv.known(token)) c.violate(`a bearer the server never issued: …${token.slice(-12)}`);
      if (spec.ownAuth && r.auth !== 'Bearer mine') c.violate('the caller’s own Authorization header was replaced');
    }
    const callRuns = c.callRuns(before.runs);
    // One refresh per authFetch call at most (its restore aside).
    if (callRuns.length > 1)
      c.violate(`one authFetch started ${callRuns.length} refresh runs (${callRuns.map((r) => r.reason).join(', ')})`);
    if (spec.target === 'foreign' || spec.ownAuth) {
      if (reqs.length > 1) c.violate('a request that is not the session’s to authorize was retried');
      if (callRuns.length > 0) c.violate('a request that is not the session’s to authorize started a refresh');
      return;
    }
    // Authenticated ⇒ the request carries a token the server issued (or the refresh failed, typed).
    if (before.state === 'authenticated') {
      if (!r1) {
        if (!core.isAuthError(error) && !callerAborted)
          c.violate('authenticated, but authFetch sent nothing and gave no auth error');
      } else if (bearer(r1) === null && !endedDuring)
        c.violate('authenticated, but the request went without the bearer');
    }
    // Anonymous (and still so) ⇒ no bearer: a logout cannot leave the old token in use.
    if (before.state === 'anonymous' && c.changes.authenticated === before.authenticated && bearer(r1) !== null) {
      c.violate('anonymous, but the request carried a bearer');
    }
    // The 401 rules.
    const t1 = bearer(r1);
    // A refresh this call already waited for (one it started, or one in flight when it began).
    const refreshedBefore = callRuns.some((r) => r.reason === 'expiry') || before.inflight;
    if (r1 && t1 !== null && r1.status === 401) {
      const scope = SCOPE.test(r1.wwwAuth ?? '');
      const endpoint = new URL(url).origin + new URL(url).pathname;
      const paused = before.t < (c.futile.get(endpoint) ?? -Infinity);
      const unauthorizedRuns = callRuns.filter((r) => r.reason === 'unauthorized').length;
      if (scope || paused) {
        if (r2) c.violate(`a 401 was retried although ${scope ? 'insufficient_scope' : 'the futile pause'} applies`);
        if (unauthorizedRuns > 0)
          c.violate(`a 401 refreshed although ${scope ? 'insufficient_scope' : 'the futile pause'} applies`);
      } else if (
        !r2 &&
        !core.isAuthError(error) &&
        // The caller's own signal ended the call while the refresh for its 401 ran: no retry is right.
        !callerAborted &&
        !endedDuring &&
        session.state === 'authenticated' &&
        !refreshedBefore
      ) {
        c.violate(
          'a 401 was neither retried nor explained (no refresh failure, no end of session, no refresh spent on this call)',
        );
      }
      if (r2 && r2.status === 401 && bearer(r2) !== null) c.futile.set(endpoint, before.t + FUTILE_PAUSE);
    }
  }),
);

/** Whether `message` passes tab-sync.ts's documented checks (anything else must change nothing). */
function acceptable(/** @type {any} */ m) {
  if (typeof m !== 'object' || m === null || m.v !== 1) return false;
  const isTime = (/** @type {unknown} */ v) =>
    typeof v === 'number' && Number.isFinite(v) && v <= sharedNow() + ALLOWANCE;
  const isSpan = (/** @type {unknown} */ v) => typeof v === 'number' && v >= 0;
  if (m.type === 'logout') return isTime(m.at);
  if (m.type === 'token')
    return typeof m.token === 'string' && isSpan(m.remaining) && isSpan(m.lifetime) && isTime(m.requestedAt);
  return false;
}

const tabCmd = tabMessageArb.map((spec) =>
  command(`tab(${JSON.stringify(spec)})`, async (c) => {
    /** @type {unknown} */
    let message;
    if (spec.kind === 'logout') message = { v: spec.v, type: 'logout', at: timeOf(spec.at) };
    else if (spec.kind === 'token') {
      const issued = [...c.srv.issued];
      const token = spec.token.t === 'issued' ? (issued.at(-1) ?? jwt('{"sub":"9"}')) : tokenOf(spec.token);
      if (typeof token === 'string') c.srv.posted.add(token);
      message = {
        v: spec.v,
        type: 'token',
        token,
        remaining: spec.remaining,
        lifetime: spec.lifetime,
        requestedAt: timeOf(spec.requestedAt),
      };
    } else if (spec.kind === 'lock') {
      await c.post({ v: 1, type: 'held', id: spec.id });
      if (spec.released) message = { v: 1, type: 'released', id: spec.id };
    } else message = spec.value;
    const before = { state: c.session.state, user: c.session.user };
    const ok = acceptable(message);
    // An adopted token ends the browser's outage (the model cannot tell adoption from outside).
    if (ok && spec.kind === 'token') c.tabTokenAt = c.srv.log.length;
    if (message !== undefined) await c.post(message);
    if (!ok && (c.session.state !== before.state || c.session.user !== before.user)) {
      c.violate(`a message the channel must ignore changed the session: ${before.state} → ${c.session.state}`);
    }
  }),
);

// ---- properties ----------------------------------------------------------------------------------

const caseOptionsArb = fc.record({
  timeout: fc.integer({ min: 15, max: 50 }),
  retryDelay: fc.constantFrom(0, 1, 3),
  refreshRetries: fc.integer({ min: 0, max: 3 }),
  leeway: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 5, 30), fc.double({ min: 0, max: 120, noNaN: true })),
  refreshMethod: fc.constantFrom(undefined, 'POST', 'GET', 'get'),
  logoutMethod: fc.constantFrom(undefined, 'POST', 'GET'),
  csrfHeader: fc.constantFrom(undefined, '', 'X-CSRF: 1'),
  tabSync: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  lockTimeout: fc.constantFrom(20, 200),
  locks: fc.boolean(),
  clockStart: fc.constantFrom(0, 123_456.5, 1e12, -5e6),
  allowedOrigins: fc.constantFrom(undefined, 'http://third.test'),
});

const commandArbs = [
  loginCmd,
  loginCmd,
  logoutCmd,
  refreshCmd,
  restoreCmd,
  advanceCmd,
  advanceCmd,
  scriptCmd,
  scriptCmd,
  scriptCmd,
  authFetchCmd,
  authFetchCmd,
  authFetchCmd,
  tabCmd,
  tabCmd,
  disposeCmd,
];

test('fuzz: command sequences against scripted servers keep every invariant', { timeout: 180_000 }, async (t) => {
  const started = performance.now();
  const result = await fc.check(
    fc.asyncProperty(
      caseOptionsArb,
      fc.commands(commandArbs, { maxCommands: 20, size: 'medium' }),
      async (options, cmds) => {
        stats.cases++;
        const c = new Case(options);
        /** @type {unknown} */
        let failure;
        try {
          await fc.asyncModelRun(() => ({ model: {}, real: c }), cmds);
        } catch (error) {
          failure = error;
        }
        try {
          await c.close();
        } catch (error) {
          failure ??= error;
        }
        if (failure !== undefined) throw failure;
      },
    ),
    {
      numRuns: RUNS,
      seed: SEED,
      ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
      includeErrorInReport: true,
      interruptAfterTimeLimit: TIME_LIMIT,
      markInterruptAsFailure: false,
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `fuzz: ${result.numRuns} command sequences (${stats.steps} steps, ${stats.requests} requests) in ${seconds} s, seed ${SEED}${result.interrupted ? ' (time limit reached)' : ''}; max refresh requests in one simulated second: ${stats.maxRefreshesPerSecond}`,
  );
  if (result.failed) assert.fail(fc.defaultReportMessage(result) ?? 'property failed');
});

// ---- options -------------------------------------------------------------------------------------

/** Each option's valid and invalid values (`$api`, `$abs`, `$clock` are filled in per case). */
const OPTION_VALUES = {
  api: [
    ['$api', '$api/', '$url'],
    ['', 42, {}, 'not a url', '/relative', null, 'ftp://auth.test/x', Symbol('x')],
  ],
  loginPath: [
    ['login', '/login', '$abs'],
    [42, {}, ['login'], Symbol('x'), '//', 'http://'],
  ],
  refreshPath: [
    ['refresh', '$abs'],
    [7, '//', 'http://[::1', false],
  ],
  logoutPath: [
    ['logout', '$abs'],
    [false, {}, '//'],
  ],
  refreshMethod: [
    ['POST', 'get', 'GET'],
    ['PUT', 42, 'DELETE', ['GET'], Symbol('x')],
  ],
  logoutMethod: [
    ['GET', 'post'],
    ['PATCH', {}, 7],
  ],
  csrfHeader: [
    ['', 'X-A: b', 'X-Requested-With: auth-shell'],
    ['bad', 42, ': v', 'X: ', ['X-A: b'], Symbol('x')],
  ],
  allowedOrigins: [
    [[], ['http://ok.test'], 'http://a.test http://b.test'],
    ['not-origin', 42, [42], 'http://a.test/path', {}, [Symbol('x')]],
  ],
  leeway: [
    [0, 5, 30.5, '5', 1e308],
    [-1, NaN, Infinity, '', 'x', true, [5], {}, Symbol('x'), 10n],
  ],
  timeout: [
    [20, 2000, 10_000, '20'],
    [0.5, 1e-9, 2 ** 31, 2 ** 32, 1e16, 1e300, -1, NaN, '', [], 'x', Symbol('x'), 20n],
  ],
  refreshRetries: [
    [0, 3, 2.7, '2', 1e300],
    [-1, NaN, {}, Symbol('x')],
  ],
  retryDelay: [
    [0, 5, '5'],
    [1e300, -5, NaN, 'x', Symbol('x')],
  ],
  lockTimeout: [
    [0, 100, 10_000],
    [0.5, 2 ** 32, 1e300, -1, NaN, 'x'],
  ],
  clock: [['$clock'], [42, 'now', {}, Symbol('x')]],
  tabSync: [
    [true, false],
    ['no', 0],
  ],
};
/** Mostly valid values (an invalid one in about one option in fifteen), each option present or absent. */
const optionsArb = fc.record(
  /** @type {Record<keyof typeof OPTION_VALUES, fc.Arbitrary<unknown>>} */ (
    Object.fromEntries(
      Object.entries(OPTION_VALUES).map(([key, [valid, invalid]]) => [
        key,
        fc.oneof(
          { weight: 14, arbitrary: fc.constantFrom(...valid) },
          { weight: 1, arbitrary: fc.constantFrom(...invalid) },
        ),
      ]),
    )
  ),
  { requiredKeys: ['api'] },
);

test('fuzz: options give a UsageError at once or a working session', { timeout: 120_000 }, async (t) => {
  const started = performance.now();
  const result = await fc.check(
    fc.asyncProperty(optionsArb, fc.boolean(), async (raw, locks) => {
      stats.optionCases++;
      const c = { id: `o${++caseCounter}`, clock: { t: 1000 } };
      const api = `${ORIGIN}/${c.id}/api`;
      const srv = new FakeServer(c.id, 50, c.clock);
      servers.set(c.id, srv);
      const uninstall = locks ? installLocks() : () => {};
      /** @param {unknown} v @param {string} name @returns {unknown} */
      const fill = (v, name) =>
        v === '$api'
          ? api
          : v === '$api/'
            ? `${api}/`
            : v === '$url'
              ? new URL(api)
              : v === '$abs'
                ? `${api}/${name.replace('Path', '')}`
                : v === '$clock'
                  ? () => c.clock.t
                  : Array.isArray(v)
                    ? v.map((x) => fill(x, name))
                    : v;
      const options = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, fill(v, k)]));
      /** @type {Session | undefined} */
      let session;
      try {
        session = core.createSession(/** @type {any} */ (options));
      } catch (error) {
        stats.usageErrors++;
        if (!core.isAuthError(error, 'usage'))
          throw new Error(`createSession threw ${describeError(error)}, not a UsageError`);
        return;
      } finally {
        if (!session) {
          servers.delete(c.id);
          uninstall();
        }
      }
      // Accepted: the session must work against a server that does.
      const s = session;
      const problems = [];
      try {
        await s.restore();
        if (s.state !== 'authenticated') problems.push(`restore against a working server ended ${s.state}`);
        const user = await s.login('alice', 'alice');
        if (!user || s.state !== 'authenticated') problems.push('login did not authenticate');
        const res = await s.authFetch(`${api}/data`);
        if (res.status !== 200) problems.push(`authFetch answered ${res.status}`);
        await s.logout();
        if (s.state !== 'anonymous') problems.push(`logout left ${s.state}`);
      } catch (error) {
        problems.push(`${core.isAuthError(error) ? 'failed' : 'threw a non-auth error'}: ${describeError(error)}`);
      } finally {
        s.dispose();
        await sleep(0);
        servers.delete(c.id);
        uninstall();
      }
      if (problems.length > 0)
        throw new Error(
          `accepted options ${JSON.stringify(options, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'function' ? 'fn' : v))} give a session that does not work: ${problems.join('; ')}`,
        );
    }),
    {
      numRuns: OPTION_RUNS,
      seed: SEED,
      includeErrorInReport: true,
      interruptAfterTimeLimit: TIME_LIMIT / 3,
      markInterruptAsFailure: false,
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `options: ${result.numRuns} option sets (${stats.optionCases - stats.usageErrors} working sessions, ${stats.usageErrors} UsageErrors) in ${seconds} s, seed ${SEED}`,
  );
  if (result.failed) assert.fail(fc.defaultReportMessage(result) ?? 'property failed');
  assert.equal(unhandled.length, 0, `unhandled rejections during the run: ${unhandled.map(describeError).join('; ')}`);
});
