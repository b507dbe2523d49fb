// The one suite every session store of auth-shell/server passes (memory, PGlite, Postgres, Redis):
// atomic rotation (compare-and-set of the presented token), the grace window answered with the
// same successor, reuse detection revoking the family, lifetimes, per-user limits, one-time
// tickets, throttle counters, keys shared by every instance on the store, restarts and outages.
// It drives createAuthServer() through handle() with Web Requests and a clock of its own; the
// store is real in every case (test/node/stores.test.js starts Postgres and Redis).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createAuthServer } from '../../src/server/auth-server.js';

const ORIGIN = 'http://localhost:8000';
const HEADERS = { host: 'localhost:8000', origin: ORIGIN, 'x-requested-with': 'auth-shell' };

/**
 * @typedef {import('../../src/server/store.js').Store} Store
 * @typedef {object} StoreEnv
 * @property {() => Promise<Store>} fresh a store with no data, isolated from the other tests
 * @property {(store: Store) => Promise<Store>} [reopen] after store.close(): a new store object on the same data
 * @property {{ down: () => Promise<void>, up: () => Promise<void>, hang?: () => Promise<void>, resume?: () => Promise<void> }} [outage]
 *   makes the store's server unreachable (down: stopped; hang: stopped answering) and back
 * @property {(store: Store, ref: string) => Promise<'gone' | number>} [expiryOf] how a family leaves the
 *   store: gone after cleanup(), or its key's remaining ms (stores whose keys expire by themselves)
 */

/** A user table of the suite: login = password; ids are strings. */
const USERS = new Map(['alice', 'bob', 'carol', 'dave'].map((login, i) => [login, { id: `u${i + 1}-${login}` }]));

/**
 * A server on `store` with a clock of its own (`clock.t`), and a small cookie-handling client.
 * @param {Store} store @param {Partial<import('../../src/server/auth-server.js').AuthServerOptions>} [options]
 */
export function serverOn(store, options = {}) {
  const clock = { t: Date.now() };
  /** @type {Array<[string, string, string]>} */
  const revoked = [];
  const auth = createAuthServer({
    store,
    now: () => clock.t,
    log: () => {},
    cleanupInterval: 0,
    verifyPassword: (login, pass) => (login === pass ? (USERS.get(login) ?? null) : null),
    claims: (user) => ({ name: `user ${user.id}` }),
    ...options,
  });
  auth.onSessionRevoked((sid, userId, reason) => revoked.push([sid, userId, reason]));

  /** @param {string} path @param {{ method?: string, headers?: Record<string, string>, body?: string, client?: string }} [o] */
  async function call(path, { method = 'POST', headers = {}, body, client = '127.0.0.1' } = {}) {
    const response = await auth.handle(
      new Request(`${ORIGIN}/api${path}`, { method, headers: { ...HEADERS, ...headers }, body }),
      { clientAddress: client },
    );
    const text = await response.text();
    const cookies = response.headers.getSetCookie();
    const rt = cookies.find((c) => /^(__Secure-|__Host-)?rt=/.test(c));
    const sid = cookies.find((c) => c.startsWith('auth-shell-sid='));
    return {
      status: response.status,
      headers: response.headers,
      body: text && response.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text,
      cookies,
      /** The refresh token set, '' when cleared, undefined when not set. */
      rt: rt && rt.slice(rt.indexOf('=') + 1, rt.indexOf(';')),
      sidCookie: sid,
    };
  }

  return {
    auth,
    clock,
    revoked,
    call,
    /** @param {string} login @param {string} [pass] @param {string} [client] */
    async login(login, pass = login, client = '127.0.0.1') {
      return call('/login', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, pass }),
        client,
      });
    },
    /** @param {string | undefined} rt */
    refresh: (rt) => call('/refresh', { headers: rt === undefined ? {} : { cookie: `rt=${rt}` } }),
    /** @param {string | undefined} rt */
    logout: (rt) => call('/logout', { headers: rt === undefined ? {} : { cookie: `rt=${rt}` } }),
    /** @param {string} at */
    ticket: (at) => call('/ws-ticket', { headers: { authorization: `Bearer ${at}` } }),
  };
}

/**
 * Repeats a request while it is answered 503, as auth-shell's client does (a bounded number of times).
 * @template {{ status: number }} T @param {() => Promise<T>} request @returns {Promise<T>}
 */
export async function until503Ends(request) {
  for (let attempt = 0; ; attempt++) {
    const r = await request();
    if (r.status !== 503 || attempt === 100) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** @param {string} name @param {StoreEnv} env */
export function storeSuite(name, env) {
  describe(`${name} store`, () => {
    /** @param {(s: ReturnType<typeof serverOn>, store: Store) => Promise<void>} body @param {object} [options] */
    const withServer = async (body, options) => {
      const store = await env.fresh();
      const s = serverOn(store, options);
      try {
        await body(s, store);
      } finally {
        await s.auth.close();
      }
    };

    test('login: a new session, its refresh cookie and sid cookie; the token carries sub and sid, signed EdDSA', () =>
      withServer(async (s) => {
        const a = await s.login('alice');
        assert.equal(a.status, 200);
        assert.match(/** @type {string} */ (a.rt), /^[A-Za-z0-9_-]{64}$/);
        const claims = decodeJwt(a.body.access_token);
        assert.equal(claims.sub, 'u1-alice');
        assert.equal(claims.name, 'user u1-alice');
        assert.match(String(claims.sid), /^[A-Za-z0-9_-]{22}$/);
        assert.equal(a.sidCookie, `auth-shell-sid=${claims.sid}; SameSite=Strict; Path=/; Max-Age=28800`);
        assert.equal(decodeProtectedHeader(a.body.access_token).alg, 'EdDSA');
        const b = await s.login('alice');
        assert.notEqual(decodeJwt(b.body.access_token).sid, claims.sid, 'every login is a new session');
        assert.deepEqual(await s.auth.verifyToken(a.body.access_token), claims);
      }));

    test('rotation: every refresh rotates the token and keeps the sid; the old one is reuse', () =>
      withServer(async (s) => {
        const { rt: rt0, body } = await s.login('alice');
        const sid = decodeJwt(body.access_token).sid;
        let rt = rt0;
        const seen = new Set([rt0]);
        for (let i = 0; i < 3; i++) {
          const r = await s.refresh(rt);
          assert.equal(r.status, 200);
          assert.equal(decodeJwt(r.body.access_token).sid, sid);
          assert.equal(r.sidCookie, `auth-shell-sid=${sid}; SameSite=Strict; Path=/; Max-Age=28800`);
          assert.ok(r.rt && !seen.has(r.rt));
          seen.add(r.rt);
          rt = r.rt;
        }
        assert.deepEqual([s.auth.stats.rotations, s.auth.stats.graceHits], [3, 0]);
        s.clock.t += 5001;
        const replay = await s.refresh(rt0);
        assert.equal(replay.status, 401);
        assert.deepEqual(replay.body, { error: 'invalid_grant' });
        assert.equal(replay.rt, '');
        assert.equal(replay.sidCookie, 'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0');
        assert.equal((await s.refresh(rt)).status, 401, 'the current token dies with its family');
        assert.equal(s.auth.stats.reuseDetections, 1);
        assert.deepEqual(
          s.revoked.map(([r, u, reason]) => [r, u, reason]),
          [[sid, 'u1-alice', 'reuse']],
        );
      }));

    test('grace: the previous token within the window gets the same successor; after it, reuse', () =>
      withServer(async (s) => {
        const { rt: rt0 } = await s.login('bob');
        const first = await s.refresh(rt0);
        s.clock.t += 5000; // exactly the grace period: still inside
        const again = await s.refresh(rt0);
        assert.equal(again.status, 200);
        assert.equal(again.rt, first.rt);
        assert.notEqual(again.body.access_token, first.body.access_token, 'a fresh access token');
        assert.deepEqual([s.auth.stats.rotations, s.auth.stats.graceHits], [1, 1]);
        const next = await s.refresh(first.rt);
        assert.equal(next.status, 200, 'the family is intact');
        s.clock.t += 1;
        assert.equal((await s.refresh(first.rt)).status, 200, 'the previous token, within its own window');
        s.clock.t += 5001;
        assert.equal((await s.refresh(rt0)).status, 401, 'an older token: reuse');
        assert.equal((await s.refresh(next.rt)).status, 401);
        assert.equal(s.auth.stats.reuseDetections, 1);
      }));

    test('20 concurrent refreshes with one token: exactly one rotation, 19 grace answers with the same successor', () =>
      withServer(async (s) => {
        const { rt } = await s.login('carol');
        const results = await Promise.all(Array.from({ length: 20 }, () => s.refresh(rt)));
        assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
        assert.equal(new Set(results.map((r) => r.rt)).size, 1);
        assert.deepEqual([s.auth.stats.rotations, s.auth.stats.graceHits, s.auth.stats.revokedFamilies], [1, 19, 0]);
        assert.equal((await s.refresh(results[0].rt)).status, 200);
      }));

    test('concurrent refreshes of many sessions: one rotation each, none mistaken for reuse', () =>
      withServer(async (s) => {
        const sessions = await Promise.all(
          Array.from({ length: 8 }, (_, i) => s.login(['alice', 'bob', 'carol', 'dave'][i % 4])),
        );
        let tokens = sessions.map((x) => /** @type {string} */ (x.rt));
        for (let round = 0; round < 5; round++) {
          const answers = await Promise.all(tokens.flatMap((rt) => [s.refresh(rt), s.refresh(rt)]));
          assert.ok(answers.every((a) => a.status === 200));
          tokens = tokens.map((_, i) => /** @type {string} */ (answers[2 * i].rt));
          assert.deepEqual(
            tokens,
            tokens.map((_, i) => answers[2 * i + 1].rt),
          );
        }
        assert.deepEqual([s.auth.stats.rotations, s.auth.stats.graceHits, s.auth.stats.reuseDetections], [40, 40, 0]);
      }));

    test('lifetimes: rotation keeps the absolute lifetime (Max-Age counts down); idle expiry', () =>
      withServer(
        async (s) => {
          let { rt } = await s.login('alice');
          for (let i = 1; i <= 3; i++) {
            s.clock.t += 50 * 60_000;
            const r = await s.refresh(rt);
            assert.equal(r.status, 200);
            assert.match(r.cookies[0], new RegExp(`Max-Age=${4 * 3600 - i * 3000}$`));
            assert.match(/** @type {string} */ (r.sidCookie), new RegExp(`Max-Age=${4 * 3600 - i * 3000}$`));
            rt = r.rt;
          }
          s.clock.t += 4 * 3600_000 - 3 * 50 * 60_000; // the absolute end
          assert.equal((await s.refresh(rt)).status, 401);
          const idle = await s.login('bob');
          s.clock.t += 3600_000;
          const ok = await s.refresh(idle.rt);
          assert.equal(ok.status, 200, 'exactly idleTtl: still fine');
          s.clock.t += 3600_000 + 1;
          assert.equal((await s.refresh(ok.rt)).status, 401, 'idle for longer');
          assert.equal(s.auth.stats.reuseDetections, 0);
        },
        { sessionTtl: 4 * 3600 },
      ));

    test('logout revokes the family (the grace retry too) and clears both cookies; logout-everywhere revokes them all', () =>
      withServer(async (s) => {
        const { rt: rt0 } = await s.login('alice');
        const r1 = await s.refresh(rt0);
        const out = await s.logout(r1.rt);
        assert.equal(out.status, 204);
        assert.equal(out.rt, '');
        assert.equal(out.sidCookie, 'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0');
        assert.equal((await s.refresh(r1.rt)).status, 401);
        assert.equal((await s.refresh(rt0)).status, 401, 'no grace after a logout');
        assert.deepEqual(
          s.revoked.map(([, , reason]) => reason),
          ['logout'],
        );
        const a = await s.login('bob');
        const b = await s.login('bob');
        const other = await s.login('carol');
        const everywhere = await s.call('/logout-everywhere', {
          headers: { authorization: `Bearer ${a.body.access_token}` },
        });
        assert.equal(everywhere.status, 204);
        assert.equal(everywhere.sidCookie, 'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0');
        assert.equal((await s.refresh(a.rt)).status, 401);
        assert.equal((await s.refresh(b.rt)).status, 401);
        assert.equal((await s.refresh(other.rt)).status, 200);
        assert.equal(s.auth.stats.revokedFamilies, 3);
        assert.equal(await s.auth.revokeUser('u3-carol'), 1);
        assert.equal(await s.auth.revokeUser('u3-carol'), 0);
      }));

    test("a login beyond maxSessionsPerUser revokes the user's oldest live session (rotation does not make one younger)", () =>
      withServer(
        async (s) => {
          const a = await s.login('alice');
          const b = await s.login('alice');
          const bob = await s.login('bob');
          const a1 = await s.refresh(a.rt);
          const c = await s.login('alice');
          assert.deepEqual(s.revoked, [[decodeJwt(a.body.access_token).sid, 'u1-alice', 'evicted']]);
          assert.equal((await s.refresh(a1.rt)).status, 401);
          for (const x of [b, c, bob]) assert.equal((await s.refresh(x.rt)).status, 200);
          assert.equal(s.auth.stats.reuseDetections, 0);
        },
        { maxSessionsPerUser: 2 },
      ));

    test('tickets: single use (one of 10 concurrent redemptions is valid), bound to the token, capped per token', () =>
      withServer(
        async (s) => {
          const { body } = await s.login('alice');
          const claims = decodeJwt(body.access_token);
          const first = await s.ticket(body.access_token);
          assert.equal(first.status, 200);
          assert.deepEqual(Object.keys(first.body).sort(), ['expires_in', 'ticket']);
          const redeemed = await Promise.all(Array.from({ length: 10 }, () => s.auth.redeemTicket(first.body.ticket)));
          assert.equal(redeemed.filter((r) => r?.valid).length, 1);
          assert.deepEqual(
            redeemed.find((r) => r?.valid),
            {
              userId: 'u1-alice',
              sid: claims.sid,
              jti: claims.jti,
              exp: claims.exp,
              valid: true,
            },
          );
          assert.equal(await s.auth.redeemTicket('made-up'), null);
          // Two outstanding at most; using one frees its slot; the oldest's expiry is the Retry-After.
          const second = await s.ticket(body.access_token);
          s.clock.t += 10_000;
          const third = await s.ticket(body.access_token);
          const refused = await s.ticket(body.access_token);
          assert.equal(refused.status, 429);
          assert.deepEqual(refused.body, { error: 'too_many_tickets' });
          assert.equal(refused.headers.get('retry-after'), '20');
          assert.equal((await s.auth.redeemTicket(second.body.ticket))?.valid, true);
          assert.equal((await s.ticket(body.access_token)).status, 200);
          s.clock.t += 30_000;
          assert.equal((await s.auth.redeemTicket(third.body.ticket))?.valid, false, 'expired');
        },
        { maxTicketsPerToken: 2, ticketTtl: 30 },
      ));

    test('throttle: 5 wrong passwords lock the account (the right one too) until the lock ends; a success resets it', () =>
      withServer(async (s) => {
        for (let i = 0; i < 5; i++) assert.equal((await s.login('alice', `wrong-${i}`)).status, 401);
        const locked = await s.login('alice');
        assert.equal(locked.status, 429);
        assert.equal(locked.headers.get('retry-after'), '900');
        assert.deepEqual(locked.cookies, []);
        assert.equal((await s.login('ALICE', 'x')).status, 429, 'logins are compared lower-cased');
        assert.equal((await s.login('bob')).status, 200, 'another account goes on');
        s.clock.t += 900_000;
        assert.equal((await s.login('alice')).status, 200);
        for (let i = 0; i < 4; i++) assert.equal((await s.login('alice', 'x')).status, 401);
        assert.equal((await s.login('alice')).status, 200, 'the success reset the count');
        for (let i = 0; i < 4; i++) assert.equal((await s.login('alice', 'x')).status, 401);
        assert.equal((await s.login('alice')).status, 200);
      }));

    test('throttle: 200 guesses at one account from 200 different IPv6 /64s are still limited', () =>
      withServer(async (s) => {
        /** @type {Record<number, number>} */
        const statuses = {};
        for (let i = 0; i < 200; i++) {
          const client = `2001:db8:${(i % 50).toString(16)}:${i.toString(16)}::1`;
          const r = await s.login('dave', `guess-${i}`, client);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        }
        assert.deepEqual(statuses, { 401: 5, 429: 195 });
        assert.equal((await s.login('dave', 'dave', '2001:db8:ffff:1::1')).status, 429);
      }));

    test('throttle: a /48 has a budget of its own, whatever /64 and account the failures use', () =>
      withServer(
        async (s) => {
          for (let i = 0; i < 10; i++)
            assert.equal((await s.login(`nobody-${i}`, 'x', `2001:db8:7:${i}::1`)).status, 401);
          assert.equal((await s.login('alice', 'alice', '2001:db8:7:99::1')).status, 429, 'the whole /48 is locked');
          assert.equal((await s.login('alice', 'alice', '2001:db8:8:1::1')).status, 200, 'another /48 is not');
          assert.equal((await s.login('alice', 'alice', '198.51.100.7')).status, 200);
        },
        { loginThrottle: { maxNetworkFailures: 10 } },
      ));

    test('keys: made once on first start, shared by every server on the store; rotation logs nobody out', async () => {
      const store = await env.fresh();
      const servers = [0, 1, 2].map(() => serverOn(store));
      try {
        await Promise.all(servers.map((s) => s.auth.ready()));
        const keys = await store.loadKeys();
        assert.equal(keys.length, 1, 'servers starting together agree on one key');
        const [a, b, c] = servers;
        const login = await a.login('alice');
        const old = login.body.access_token;
        assert.equal((await b.auth.verifyToken(old)).sub, 'u1-alice', 'another instance verifies it');
        const refreshed = await c.refresh(login.rt);
        assert.equal(refreshed.status, 200, 'and rotates its session');
        const jwks = await b.call('/jwks.json', { method: 'GET' });
        assert.deepEqual(
          jwks.body.keys.map((/** @type {any} */ k) => k.kid),
          [keys[0].kid],
        );
        assert.equal(jwks.body.keys[0].d, undefined, 'no private part');
        // Rotation on one instance: its new tokens carry the new kid; the others pick it up.
        const kid = await a.auth.rotateKeys();
        const fresh = (await a.refresh(refreshed.rt)).body.access_token;
        assert.equal(decodeProtectedHeader(fresh).kid, kid);
        assert.equal((await c.auth.verifyToken(fresh)).sub, 'u1-alice', 'an unknown kid is looked up in the store');
        assert.equal((await b.auth.verifyToken(old)).sub, 'u1-alice', 'the old key still verifies');
        assert.deepEqual(
          (await c.call('/jwks.json', { method: 'GET' })).body.keys.map((/** @type {any} */ k) => k.kid),
          [keys[0].kid, kid],
        );
        // Once no token of the old key can be alive, cleanup deletes it.
        a.clock.t += 200_000; // past the new key's creation + reload interval + token lifetime + leeway
        await a.auth.cleanup();
        assert.deepEqual(
          (await store.loadKeys()).map((k) => k.kid),
          [kid],
        );
      } finally {
        for (const s of servers) await s.auth.close().catch(() => {});
      }
    });

    test('expired sessions, tickets and throttle entries leave the store without a cron', () =>
      withServer(
        async (s, store) => {
          const { rt, body } = await s.login('alice');
          await s.ticket(body.access_token);
          await s.login('bob', 'wrong');
          const ref = Buffer.from(/** @type {string} */ (rt), 'base64url')
            .subarray(0, 16)
            .toString('base64url');
          assert.ok(await store.findFamily(ref));
          if (env.expiryOf) {
            const left = await env.expiryOf(store, ref);
            assert.ok(
              typeof left === 'number' && left > 0 && left <= 3600_000,
              `the family's key expires by itself (${left})`,
            );
          } else {
            s.clock.t += 3600_000;
            await s.auth.cleanup();
            assert.equal(await store.findFamily(ref), null);
          }
        },
        { sessionTtl: 3600 },
      ));

    if (env.reopen) {
      const reopen = env.reopen;
      test('a restart keeps every session and the signing key', async () => {
        const store = await env.fresh();
        const s = serverOn(store);
        const login = await s.login('alice');
        const r1 = await s.refresh(login.rt);
        await s.auth.close();
        const again = serverOn(await reopen(store));
        try {
          assert.equal((await again.auth.verifyToken(r1.body.access_token)).sub, 'u1-alice', 'the same key');
          const r2 = await again.refresh(r1.rt);
          assert.equal(r2.status, 200, 'the session survived');
          assert.equal(decodeJwt(r2.body.access_token).sid, decodeJwt(login.body.access_token).sid);
          assert.equal((await again.refresh(login.rt)).status, 401, 'and so did what it takes to detect reuse');
        } finally {
          await again.auth.close();
        }
      });
    }

    if (env.outage) {
      const outage = env.outage;
      test('a store that is down: 503 with Retry-After, never 401; the session goes on once it is back', () =>
        withServer(
          async (s) => {
            const { rt, body } = await s.login('alice');
            await outage.down();
            try {
              for (const r of [
                await s.refresh(rt),
                await s.login('bob'),
                await s.logout(rt),
                await s.ticket(body.access_token),
              ]) {
                assert.equal(r.status, 503, JSON.stringify(r.body));
                assert.deepEqual(r.body, { error: 'temporarily_unavailable' });
                assert.equal(r.headers.get('retry-after'), '1');
                assert.equal(r.headers.get('cache-control'), 'no-store');
                assert.deepEqual(r.cookies, [], 'no cookie is cleared');
              }
              assert.equal((await s.auth.verifyToken(body.access_token)).sub, 'u1-alice', 'tokens verify meanwhile');
            } finally {
              await outage.up();
            }
            // As the client does: 503 means "again later" (the store's client reconnects by itself).
            const r = await until503Ends(() => s.refresh(rt));
            assert.equal(r.status, 200, JSON.stringify(r.body));
            assert.equal((await s.refresh(r.rt)).status, 200);
          },
          { storeTimeout: 1500 },
        ));

      if (outage.hang && outage.resume) {
        const { hang, resume } = outage;
        test('a store that stops answering: 503 after storeTimeout, never a request left hanging', () =>
          withServer(
            async (s) => {
              const { rt } = await s.login('alice');
              await hang();
              try {
                const r = await s.refresh(rt);
                assert.equal(r.status, 503);
                assert.equal(r.headers.get('retry-after'), '1');
              } finally {
                await resume();
              }
              assert.equal(
                (await s.refresh(rt)).status,
                200,
                'the refresh that timed out did not rotate, or is in grace',
              );
            },
            { storeTimeout: 300 },
          ));
      }
    }
  });
}
