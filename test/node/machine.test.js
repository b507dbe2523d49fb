// @ts-check
// The session machine (src/core/machine.ts) in Node, as a table: every state × event pair against
// what the table in the module's opening comment says, the conditions that decide within a cell
// (staleness, the session id, the cookie), and generated event sequences (fast-check) that check
// the invariants written beside the table after every step.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import fc from 'fast-check';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** @type {typeof import('../../src/core/machine.js')} */
let machine;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'auth-shell-machine-'));
  try {
    const outfile = join(dir, 'machine.mjs');
    // The module imports nothing: bundling only strips its types.
    await build({
      absWorkingDir: root,
      entryPoints: ['src/core/machine.ts'],
      format: 'esm',
      outfile,
      logLevel: 'silent',
    });
    machine = await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** @typedef {import('../../src/core/machine.js').SessionRecord} Rec */
/** @typedef {import('../../src/core/machine.js').SessionEvent} Ev */
/** @typedef {import('../../src/core/machine.js').Effect} Effect */

const ALICE = Object.freeze({ sub: 'alice' });
const BOB = Object.freeze({ sub: 'bob' });

/** Records of each state (and the anonymous ones that owe work), at generation 3. @type {Record<string, Rec>} */
const RECORDS = {
  restoring: {
    state: 'restoring',
    user: null,
    sid: null,
    cookie: '',
    owed: null,
    gen: 3,
    ended: [],
    loggedOutAt: 0,
    disposed: false,
  },
  authenticated: {
    state: 'authenticated',
    user: ALICE,
    sid: 'S1',
    cookie: 'S1',
    owed: null,
    gen: 3,
    ended: ['S0'],
    loggedOutAt: 0,
    disposed: false,
  },
  anonymous: {
    state: 'anonymous',
    user: null,
    sid: null,
    cookie: '',
    owed: null,
    gen: 3,
    ended: ['S0'],
    loggedOutAt: 0,
    disposed: false,
  },
  'anonymous, owing a restore': {
    state: 'anonymous',
    user: null,
    sid: null,
    cookie: '',
    owed: 'restore',
    gen: 3,
    ended: [],
    loggedOutAt: 0,
    disposed: false,
  },
  'anonymous, owing a logout': {
    state: 'anonymous',
    user: null,
    sid: null,
    cookie: '',
    owed: 'logout',
    gen: 3,
    ended: ['S1'],
    loggedOutAt: 100,
    disposed: false,
  },
};

/** One event of each type, current (gen 3), naming Bob's new session S2 where a session is named. @type {Record<string, Ev>} */
const EVENTS = {
  restore: { type: 'restore' },
  stored: { type: 'stored', gen: 3, user: BOB, sid: 'S2', cookie: 'S2', requestedAt: 200 },
  'stored (login)': { type: 'stored', gen: 3, login: true, user: BOB, sid: 'S2', cookie: 'S2', requestedAt: 200 },
  adopt: { type: 'adopt', user: BOB, sid: 'S2', cookie: 'S2', requestedAt: 200 },
  ended: { type: 'ended', gen: 3 },
  failed: { type: 'failed', gen: 3, network: true },
  logout: { type: 'logout', at: 300, cookie: '' },
  'told (S1)': { type: 'told', sid: 'S1', at: 250 },
  heard: { type: 'heard', gen: 3 },
  lost: { type: 'lost', gen: 3, sid: 'S1' },
  wake: { type: 'wake' },
  cookie: { type: 'cookie', cookie: 'S2' },
  dispose: { type: 'dispose' },
};

const LOGOUT_EFFECTS = ['clear', 'unschedule', 'abort', 'change', { post: null, at: 300 }, { send: null }];
const KEPT = ['keep', 'schedule', 'change'];

/**
 * What the table says for each record × event: `null` = ignored, else the next state, its owed
 * work and the effects in order.
 * @type {Record<string, Record<string, null | { state: string, owed?: string | null, effects: unknown[] }>>}
 */
const EXPECTED = {
  restoring: {
    restore: { state: 'restoring', effects: ['restore'] },
    stored: { state: 'authenticated', effects: KEPT },
    'stored (login)': { state: 'authenticated', effects: ['keep', 'abort', { mark: false }, 'schedule', 'change'] },
    adopt: { state: 'authenticated', effects: KEPT },
    ended: { state: 'anonymous', effects: ['clear', 'unschedule', 'change'] },
    failed: { state: 'anonymous', owed: 'restore', effects: ['clear', 'unschedule', 'change'] },
    logout: { state: 'anonymous', owed: 'logout', effects: LOGOUT_EFFECTS },
    // A restore in flight is judged by its token: a logout naming a session does not end it.
    'told (S1)': { state: 'restoring', effects: [] },
    heard: { state: 'restoring', effects: [{ mark: false }] },
    lost: { state: 'restoring', effects: [{ mark: 'S1' }] },
    wake: null,
    cookie: null,
    dispose: { state: 'restoring', effects: ['unschedule', 'close'] },
  },
  authenticated: {
    restore: null,
    stored: { state: 'authenticated', effects: KEPT },
    'stored (login)': { state: 'authenticated', effects: ['keep', 'abort', { mark: false }, 'schedule', 'change'] },
    adopt: { state: 'authenticated', effects: KEPT },
    ended: { state: 'anonymous', effects: ['clear', 'unschedule', 'change'] },
    failed: null,
    logout: {
      state: 'anonymous',
      owed: 'logout',
      effects: ['clear', 'unschedule', 'abort', 'change', { post: 'S1', at: 300 }, { send: 'S1' }],
    },
    'told (S1)': { state: 'anonymous', effects: ['clear', 'unschedule', 'abort', 'change'] },
    heard: { state: 'authenticated', effects: [{ mark: false }] },
    lost: { state: 'authenticated', effects: [{ mark: 'S1' }] },
    wake: { state: 'authenticated', effects: ['freshen'] },
    cookie: { state: 'restoring', effects: ['abort', 'clear', 'unschedule', 'change', 'restore'] },
    dispose: { state: 'authenticated', effects: ['unschedule', 'close'] },
  },
  anonymous: {
    restore: null,
    stored: { state: 'authenticated', effects: KEPT },
    'stored (login)': { state: 'authenticated', effects: ['keep', 'abort', { mark: false }, 'schedule', 'change'] },
    adopt: { state: 'authenticated', effects: KEPT },
    ended: { state: 'anonymous', effects: [] },
    failed: { state: 'anonymous', owed: 'restore', effects: ['clear', 'unschedule'] },
    logout: {
      state: 'anonymous',
      owed: 'logout',
      effects: ['clear', 'unschedule', 'abort', { post: null, at: 300 }, { send: null }],
    },
    'told (S1)': { state: 'anonymous', effects: [] },
    heard: { state: 'anonymous', effects: [{ mark: false }] },
    lost: { state: 'anonymous', effects: [{ mark: 'S1' }] },
    wake: null,
    cookie: null,
    dispose: { state: 'anonymous', effects: ['unschedule', 'close'] },
  },
  'anonymous, owing a restore': {
    restore: { state: 'anonymous', owed: 'restore', effects: ['restore'] },
    wake: { state: 'anonymous', owed: 'restore', effects: ['restore'] },
    ended: { state: 'anonymous', owed: null, effects: [] },
    // Another tab's logout: nothing is owed here any more.
    'told (S1)': { state: 'anonymous', owed: null, effects: [] },
  },
  'anonymous, owing a logout': {
    restore: null,
    wake: { state: 'anonymous', owed: 'logout', effects: ['resend'] },
    heard: { state: 'anonymous', owed: null, effects: [{ mark: false }] },
    lost: { state: 'anonymous', owed: 'logout', effects: [{ mark: 'S1' }] },
    'stored (login)': {
      state: 'authenticated',
      owed: null,
      effects: ['keep', 'abort', { mark: false }, 'schedule', 'change'],
    },
  },
};

describe('the session machine as a table', () => {
  for (const [name, record] of Object.entries(RECORDS)) {
    for (const [eventName, event] of Object.entries(EVENTS)) {
      const expected = EXPECTED[name]?.[eventName];
      if (expected === undefined) continue;
      test(`${name} × ${eventName} → ${expected === null ? 'ignored' : expected.state}`, () => {
        const result = machine.transition(record, event);
        if (expected === null) {
          assert.equal(result.ignored, true);
          assert.equal(result.record, record, 'an ignored event leaves the very same record');
          assert.deepEqual(result.effects, []);
          return;
        }
        assert.equal(result.ignored, false);
        assert.equal(result.record.state, expected.state);
        if ('owed' in expected) assert.equal(result.record.owed, expected.owed);
        assert.deepEqual(result.effects, expected.effects);
      });
    }
  }

  test('every state × every event type has a row above', () => {
    for (const state of ['restoring', 'authenticated', 'anonymous']) {
      for (const eventName of Object.keys(EVENTS))
        assert.notEqual(EXPECTED[state]?.[eventName], undefined, `${state} × ${eventName}`);
    }
  });
});

describe('conditions inside a cell', () => {
  const auth = RECORDS.authenticated;

  test('an outcome of another generation is stale: ignored, nothing done', () => {
    for (const event of [
      { ...EVENTS.stored, gen: 2 },
      { ...EVENTS['stored (login)'], gen: 4 },
      { ...EVENTS.ended, gen: 2 },
      { ...EVENTS.heard, gen: 2 },
      { ...EVENTS.lost, gen: 2 },
    ]) {
      const result = machine.transition(auth, /** @type {Ev} */ (event));
      assert.equal(result.ignored, true, event.type);
      assert.deepEqual(result.effects, []);
    }
    const failed = machine.transition(RECORDS.restoring, { type: 'failed', gen: 2, network: false });
    assert.equal(failed.ignored, true);
  });

  test('a login, a logout and a new cookie move the generation; nothing else does', () => {
    assert.equal(machine.transition(auth, EVENTS['stored (login)']).record.gen, 4);
    assert.equal(machine.transition(auth, EVENTS.logout).record.gen, 4);
    assert.equal(machine.transition(auth, EVENTS.cookie).record.gen, 4);
    for (const name of ['stored', 'adopt', 'ended', 'told (S1)', 'heard', 'lost', 'wake', 'dispose'])
      assert.equal(machine.transition(auth, EVENTS[name]).record.gen, 3, name);
  });

  test("another tab's token is adopted only for the session the cookie names", () => {
    assert.equal(machine.transition(auth, { ...EVENTS.adopt, cookie: 'S9' }).ignored, true);
    assert.equal(
      machine.transition(auth, { ...EVENTS.adopt, cookie: '' }).record.sid,
      'S2',
      'no readable cookie: as before',
    );
    assert.equal(
      machine.transition(auth, { ...EVENTS.adopt, sid: null, cookie: 'S9' }).ignored,
      false,
      'no sid: no telling',
    );
  });

  test('a token of an ended session is never kept: adopted never, stored ends the session', () => {
    const ended = { ...auth, ended: ['S0', 'S2'] };
    assert.equal(machine.transition(ended, EVENTS.adopt).ignored, true);
    const stored = machine.transition(ended, EVENTS.stored);
    assert.equal(stored.record.state, 'anonymous');
    assert.equal(stored.effects.includes('keep'), false);
    assert.equal(machine.transition(ended, EVENTS['stored (login)']).ignored, true);
  });

  test('without a sid, a token requested before the last logout known here belongs to the ended session', () => {
    const loggedOut = { ...RECORDS.anonymous, loggedOutAt: 500 };
    assert.equal(machine.transition(loggedOut, { ...EVENTS.adopt, sid: null, requestedAt: 499 }).ignored, true);
    assert.equal(
      machine.transition(loggedOut, { ...EVENTS.adopt, sid: null, requestedAt: 500 }).record.state,
      'authenticated',
    );
    assert.equal(
      machine.transition(loggedOut, { ...EVENTS.adopt, requestedAt: 499 }).record.state,
      'authenticated',
      'a sid decides',
    );
  });

  test('a logout of session X never ends session Y; one without a sid ends any (there is no telling)', () => {
    const other = machine.transition(auth, { type: 'told', sid: 'S7', at: 250 });
    assert.equal(other.record.state, 'authenticated');
    assert.deepEqual(other.record.ended, ['S0', 'S7'], 'remembered: a late token of S7 is not kept');
    assert.deepEqual(other.effects, []);
    assert.equal(machine.transition(auth, { type: 'told', sid: null, at: 250 }).record.state, 'anonymous');
    assert.equal(
      machine.transition({ ...auth, sid: null }, { type: 'told', sid: 'S7', at: 250 }).record.state,
      'anonymous',
    );
    assert.equal(machine.transition(RECORDS.restoring, { type: 'told', sid: null, at: 250 }).record.state, 'anonymous');
  });

  test('a logout ends the session held, else the one the cookie names', () => {
    const effects = machine.transition(RECORDS.anonymous, { type: 'logout', at: 300, cookie: 'S4' }).effects;
    assert.deepEqual(effects.slice(-2), [{ post: 'S4', at: 300 }, { send: 'S4' }]);
  });

  test('the session hint: a restore the cookie says is for no session ends anonymous without a request', () => {
    const hinted = machine.transition(RECORDS.restoring, { type: 'restore', absent: true });
    assert.equal(hinted.record.state, 'anonymous');
    assert.deepEqual(hinted.effects, ['clear', 'unschedule', 'change']);
    const owed = machine.transition(RECORDS['anonymous, owing a restore'], { type: 'restore', absent: true });
    assert.deepEqual([owed.record.owed, owed.effects], [null, []]);
  });

  test('a new cookie: acted on once per change, only when it names another session than the token', () => {
    assert.equal(machine.transition(auth, { type: 'cookie', cookie: 'S1' }).ignored, true, 'unchanged');
    const lost = machine.transition(auth, { type: 'cookie', cookie: '' });
    assert.equal(lost.record.state, 'restoring', 'a logout outside the shell cleared it');
    const late = machine.transition({ ...auth, cookie: '' }, { type: 'cookie', cookie: 'S1' });
    assert.equal(late.record.state, 'authenticated', 'readable only now, and it names this session');
    assert.equal(late.record.cookie, 'S1');
    assert.deepEqual(late.effects, []);
    assert.equal(machine.transition({ ...auth, sid: null }, { type: 'cookie', cookie: 'S2' }).ignored, true, 'no sid');
  });

  test('after dispose: no timer, and the page and other tabs are not heard; asked-for work still completes', () => {
    const disposed = machine.transition(auth, EVENTS.dispose).record;
    for (const name of ['adopt', 'told (S1)', 'wake', 'dispose'])
      assert.equal(machine.transition(disposed, EVENTS[name]).ignored, true, name);
    const stored = machine.transition(disposed, EVENTS.stored);
    assert.equal(stored.record.state, 'authenticated');
    assert.equal(stored.effects.includes('schedule'), false);
    assert.equal(machine.transition(disposed, EVENTS.logout).record.state, 'anonymous');
  });
});

// ---- generated sequences ----

const SIDS = ['S1', 'S2', 'S3', null];
const sid = fc.constantFrom(...SIDS);
const cookie = fc.constantFrom('S1', 'S2', 'S3', '');
const user = fc.constantFrom(ALICE, BOB);
const time = fc.integer({ min: 0, max: 1000 });
/** A generation relative to the record's: mostly current, sometimes stale. */
const rel = fc.constantFrom(0, 0, 0, -1, 1);

/** @type {fc.Arbitrary<(record: Rec) => Ev>} */
const event = fc.oneof(
  fc.constant(() => ({ type: 'restore' })),
  fc
    .record({ rel, login: fc.boolean(), user, sid, cookie, requestedAt: time })
    .map(({ rel: r, ...rest }) => (record) => ({ type: 'stored', gen: record.gen + r, ...rest })),
  fc.record({ user, sid, cookie, requestedAt: time }).map((facts) => () => ({ type: 'adopt', ...facts })),
  rel.map((r) => (record) => ({ type: 'ended', gen: record.gen + r })),
  fc
    .record({ rel, network: fc.boolean() })
    .map(({ rel: r, network }) => (record) => ({ type: 'failed', gen: record.gen + r, network })),
  fc.record({ at: time, cookie }).map((e) => () => ({ type: 'logout', ...e })),
  fc.record({ sid, at: time }).map((e) => () => ({ type: 'told', ...e })),
  rel.map((r) => (record) => ({ type: 'heard', gen: record.gen + r })),
  fc.record({ rel, sid }).map(({ rel: r, sid: s }) => (record) => ({ type: 'lost', gen: record.gen + r, sid: s })),
  fc.constant(() => ({ type: 'wake' })),
  cookie.map((c) => () => ({ type: 'cookie', cookie: c })),
  fc.constant(() => ({ type: 'dispose' })),
);

const has = (/** @type {readonly Effect[]} */ effects, /** @type {string} */ name) =>
  effects.includes(/** @type {Effect} */ (name));

test('generated event sequences keep every invariant of the table', () => {
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), (makers) => {
      /** @type {Rec} */
      let record = machine.initial();
      let held = false;
      for (const make of makers) {
        const ev = make(record);
        const { record: next, effects, ignored } = machine.transition(record, ev);
        const where = `${record.state} × ${JSON.stringify(ev)}`;
        if (ignored) {
          assert.equal(next, record, `${where}: ignored, yet the record changed`);
          assert.deepEqual(effects, [], `${where}: ignored, yet effects`);
          continue;
        }
        // Outcomes of another generation are stale.
        if ('gen' in ev) assert.equal(ev.gen, record.gen, `${where}: a stale outcome was taken`);
        assert.ok(next.gen >= record.gen, `${where}: gen went back`);
        if (has(effects, 'keep')) held = true;
        if (has(effects, 'clear')) held = false;
        assert.equal(next.state === 'authenticated', held, `${where}: authenticated ⇔ a token is held`);
        if (next.state !== 'authenticated')
          assert.deepEqual([next.user, next.sid], [null, null], `${where}: user/sid without a session`);
        if (next.state !== 'anonymous') assert.equal(next.owed, null, `${where}: work owed while not anonymous`);
        if (has(effects, 'keep') && next.sid !== null)
          assert.ok(!next.ended.includes(next.sid), `${where}: kept a token of an ended session`);
        assert.ok(next.ended.length <= machine.ENDED_KEPT, `${where}: ended grows without bound`);
        const changed = next.state !== record.state || next.user !== record.user;
        assert.equal(has(effects, 'change'), changed, `${where}: change ⇔ state or user changed`);
        if (has(effects, 'schedule'))
          assert.equal(next.state, 'authenticated', `${where}: a timer while not authenticated`);
        if (record.state === 'authenticated' && next.state !== 'authenticated')
          assert.ok(has(effects, 'unschedule'), `${where}: left authenticated with the timer running`);
        if (next.disposed) assert.ok(!has(effects, 'schedule'), `${where}: a timer after dispose`);
        // A logout naming session X never ends session Y.
        if (ev.type === 'told' && ev.sid !== null && record.sid !== null && ev.sid !== record.sid)
          assert.equal(next.state, record.state, `${where}: a logout of another session ended this one`);
        // The same cookie twice: the second changes nothing.
        if (ev.type === 'cookie')
          assert.equal(
            machine.transition(next, ev).ignored || next.state !== 'authenticated',
            true,
            `${where}: acted twice on one cookie`,
          );
        record = next;
      }
    }),
    { numRuns: 3000 },
  );
});
