// The AuthSocket's transition table (src/core/socket-machine.ts) in Node: every phase × event pair
// against a table written out again here (next record, effects in order, or ignored), the guarded
// rows one by one, then fast-check sequences of events — current, stale and out of place — checked
// after every step against the invariants written beside the table.
//
// FUZZ_SEED=<n> replays a run (the seed is printed).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { transform } from 'esbuild';
import fc from 'fast-check';

/** @type {typeof import('../../src/core/socket-machine.ts')} */
let machine;
before(async () => {
  // The machine imports nothing: transpiled alone, it runs as it is.
  const source = readFileSync(new URL('../../src/core/socket-machine.ts', import.meta.url), 'utf8');
  const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'es2022' });
  machine = await import(`data:text/javascript,${encodeURIComponent(code)}`);
});

const PHASES = ['waiting', 'preparing', 'connecting', 'open', 'refreshing', 'backoff', 'idle', 'closing', 'closed'];
const LIVE = PHASES.filter((phase) => phase !== 'closing' && phase !== 'closed');
const WITH_LINK = ['connecting', 'open'];

/** A deterministic backoff: the machine takes the delay it is given. */
const delay = (/** @type {number} */ attempt) => 100 * 2 ** attempt;
const config = { ticket: false, maxAttempts: 3, stableAfter: 500, connectTimeout: 50, delay };

const GEN = 3;
/** A socket in `phase` on its third attempt's generation, one reconnect made, handling a 1011. */
const recordIn = (/** @type {string} */ phase, changes = {}) => ({
  phase,
  gen: GEN,
  attempts: 1,
  authenticated: true,
  refused: false,
  code: 1011,
  reason: 'lost',
  config,
  ...changes,
});

const FAILURE = new Error('no ticket');
const LINK_ERROR = new Error('the connection failed');
/** One event of each type; those of an attempt or a timer carry the current generation. */
const EVENTS = {
  authenticated: { type: 'authenticated' },
  anonymous: { type: 'anonymous', live: true },
  close: { type: 'close', code: 4000, reason: 'bye', live: true },
  reconnect: { type: 'reconnect' },
  wake: { type: 'wake' },
  linked: { type: 'linked', gen: GEN },
  failed: { type: 'failed', gen: GEN, error: FAILURE },
  opened: { type: 'opened', gen: GEN },
  message: { type: 'message', gen: GEN, data: 'hi', origin: 'ws://x.test' },
  error: { type: 'error', gen: GEN, error: LINK_ERROR },
  closed: { type: 'closed', gen: GEN, code: 1012, reason: 'restart', wasClean: true },
  refreshed: { type: 'refreshed', gen: GEN },
  timeout: { type: 'timeout', gen: GEN },
  stable: { type: 'stable', gen: GEN },
  retry: { type: 'retry', gen: GEN },
  settle: { type: 'settle', gen: GEN },
  fallback: { type: 'fallback', gen: GEN },
};
const EVENT_TYPES = Object.keys(EVENTS);

// ---- the table, written out again ----

const timer = (/** @type {number} */ ms, /** @type {string} */ type, gen = GEN) => ({
  type: 'timer',
  ms,
  event: { type, gen },
});
const connect = { type: 'connect', gen: GEN + 1, refused: false };
/** The second reconnect after a loss with `code` (the record has made one). */
const retried = (/** @type {number} */ code, /** @type {string} */ reason) => [
  timer(delay(2), 'retry'),
  { type: 'reconnecting', detail: { attempt: 2, delay: delay(2), code, reason } },
];
const closing = { phase: 'closing', code: 4000, reason: 'bye' };
const sessionEnded = { phase: 'closing', code: 1000, reason: 'session ended' };

/**
 * phase → event → [changes to the record, effects] of that pair; a pair not listed is ignored.
 * @type {Record<string, Record<string, [object, object[]]>>}
 */
const TABLE = Object.fromEntries(PHASES.map((phase) => [phase, {}]));
for (const phase of LIVE) {
  const link = WITH_LINK.includes(phase);
  Object.assign(TABLE[phase], {
    authenticated: [{}, []],
    anonymous: link
      ? [sessionEnded, [{ type: 'shut', code: 1000, reason: 'session ended' }, timer(1000, 'fallback')]]
      : [sessionEnded, [timer(0, 'settle')]],
    close: link
      ? [closing, [{ type: 'shut', code: 4000, reason: 'bye' }, timer(1000, 'fallback')]]
      : [closing, [timer(0, 'settle')]],
    reconnect: [{ attempts: 0 }, []],
  });
}
TABLE.waiting.authenticated = [{ phase: 'preparing', gen: GEN + 1 }, [connect]];
TABLE.preparing.linked = [{ phase: 'connecting' }, [timer(50, 'timeout')]];
TABLE.preparing.failed = [{ phase: 'backoff', attempts: 2 }, [{ type: 'error', error: FAILURE }, ...retried(1006, '')]];
TABLE.connecting.opened = [
  { phase: 'open' },
  [timer(500, 'stable'), { type: 'flush' }, { type: 'open' }, { type: 'reconnected', detail: { attempts: 1 } }],
];
TABLE.connecting.timeout = [{}, [{ type: 'shut' }]];
TABLE.open.stable = [{ attempts: 0 }, []];
TABLE.open.message = [{}, [{ type: 'message', detail: { data: 'hi', origin: 'ws://x.test' } }]];
for (const phase of WITH_LINK) {
  TABLE[phase].closed = [
    { phase: 'backoff', attempts: 2, refused: false, code: 1012, reason: 'restart' },
    [{ type: 'disconnected', detail: { code: 1012, reason: 'restart', wasClean: true } }, ...retried(1012, 'restart')],
  ];
}
for (const phase of [...WITH_LINK, 'closing']) TABLE[phase].error = [{}, [{ type: 'error', error: LINK_ERROR }]];
TABLE.refreshing.refreshed = [{ phase: 'backoff', attempts: 2 }, retried(1011, 'lost')];
TABLE.backoff.retry = [{ phase: 'preparing', gen: GEN + 1 }, [connect]];
TABLE.backoff.wake = [{ phase: 'preparing', gen: GEN + 1 }, [connect]];
TABLE.backoff.reconnect = [{ phase: 'preparing', gen: GEN + 1, attempts: 0 }, [connect]];
TABLE.idle.reconnect = [{ phase: 'preparing', gen: GEN + 1, attempts: 0 }, [connect]];
TABLE.closing.closed = [{ phase: 'closed' }, [{ type: 'finish', code: 1012, reason: 'restart', wasClean: true }]];
TABLE.closing.settle = [{ phase: 'closed' }, [{ type: 'finish', code: 1011, reason: 'lost', wasClean: true }]];
TABLE.closing.fallback = [{ phase: 'closed' }, [{ type: 'finish', code: 1011, reason: 'lost', wasClean: false }]];

/**
 * The event types each phase takes from the table above, but those that any live phase takes (the
 * session's, close, reconnect): what generated sequences mostly pick, so that they get somewhere.
 */
const PROGRESS = Object.fromEntries(
  PHASES.map((phase) => [
    phase,
    Object.keys(TABLE[phase]).filter(
      (type) =>
        !['anonymous', 'close', 'reconnect'].includes(type) && (type !== 'authenticated' || phase === 'waiting'),
    ),
  ]),
);

/** Asserts one transition: the changes and effects given, or ignored when `expected` is undefined. */
function check(record, event, expected, label) {
  const result = machine.transition(record, event);
  if (expected === undefined) {
    assert.equal(result.ignored, true, `${label}: should be ignored`);
    assert.equal(result.record, record, `${label}: an ignored event keeps the same record`);
    assert.deepEqual(result.effects, [], `${label}: an ignored event has no effect`);
    return;
  }
  const [changes, effects] = expected;
  assert.equal(result.ignored, undefined, `${label}: should be accepted`);
  assert.deepEqual(result.record, { ...record, ...changes }, `${label}: next record`);
  assert.deepEqual(result.effects, effects, `${label}: effects`);
}

describe('the socket machine, pair by pair', () => {
  test(`every phase × event pair (${PHASES.length} × ${EVENT_TYPES.length}) does what the table says, or is ignored`, () => {
    let accepted = 0;
    for (const phase of PHASES) {
      for (const type of EVENT_TYPES) {
        const expected = TABLE[phase][type];
        if (expected) accepted++;
        check(recordIn(phase), EVENTS[type], expected, `${phase} × ${type}`);
      }
    }
    assert.equal(accepted, 45, 'pairs the table accepts');
  });

  test('every event of an attempt or a timer is ignored with an older or newer generation', () => {
    for (const phase of PHASES) {
      for (const [type, event] of Object.entries(EVENTS)) {
        if (!('gen' in event)) continue;
        for (const gen of [GEN - 1, GEN - 3, GEN + 1])
          check(recordIn(phase), { ...event, gen }, undefined, `${phase} × ${type}@${gen}`);
      }
    }
  });

  test('closed is final: nothing, in any form, moves it', () => {
    const record = recordIn('closed');
    for (const event of Object.values(EVENTS)) {
      check(record, event, undefined, `closed × ${event.type}`);
      check(record, { ...event, live: false }, undefined, `closed × ${event.type} (no live link)`);
    }
  });
});

describe('the socket machine, guarded rows', () => {
  test('the session ending before it was ever authenticated: an UnauthenticatedError first, then the close', () => {
    for (const phase of LIVE) {
      const record = recordIn(phase, { authenticated: false });
      const result = machine.transition(record, { type: 'anonymous', live: false });
      assert.deepEqual(result.effects, [{ type: 'unauthenticated' }, timer(0, 'settle')], phase);
      assert.equal(result.record.phase, 'closing');
    }
  });

  test('authenticated is remembered, in every live phase', () => {
    for (const phase of LIVE) {
      const result = machine.transition(recordIn(phase, { authenticated: false }), EVENTS.authenticated);
      assert.equal(result.record.authenticated, true, phase);
    }
  });

  test('close() while the link is already closing (or failing its handshake): closed at the end of the task, clean', () => {
    for (const phase of WITH_LINK) {
      check(recordIn(phase), { ...EVENTS.close, live: false }, [closing, [timer(0, 'settle')]], phase);
      check(recordIn(phase), { ...EVENTS.anonymous, live: false }, [sessionEnded, [timer(0, 'settle')]], phase);
    }
  });

  test('1008 and 4001: refused, the retry at once on the first attempt, with backoff after', () => {
    for (const code of [1008, 4001]) {
      for (const phase of WITH_LINK) {
        const event = { ...EVENTS.closed, code, reason: 'token expired', wasClean: true };
        const disconnected = { type: 'disconnected', detail: { code, reason: 'token expired', wasClean: true } };
        check(
          recordIn(phase, { attempts: 0 }),
          event,
          [
            { phase: 'backoff', attempts: 1, refused: true, code, reason: 'token expired' },
            [
              disconnected,
              timer(0, 'retry'),
              { type: 'reconnecting', detail: { attempt: 1, delay: 0, code, reason: 'token expired' } },
            ],
          ],
          `${phase} × closed ${code}, first attempt`,
        );
        check(
          recordIn(phase),
          event,
          [
            { phase: 'backoff', attempts: 2, refused: true, code, reason: 'token expired' },
            [disconnected, ...retried(code, 'token expired')],
          ],
          `${phase} × closed ${code}, second attempt`,
        );
        // Ticket mode: the ticket hides its token, so the socket refreshes before the retry.
        check(
          recordIn(phase, { config: { ...config, ticket: true } }),
          event,
          [
            { phase: 'refreshing', refused: true, code, reason: 'token expired' },
            [disconnected, { type: 'refresh', gen: GEN }],
          ],
          `${phase} × closed ${code}, ticket mode`,
        );
      }
    }
  });

  test('the next connect after a refused token says so; a transient close clears it', () => {
    const refused = machine.transition(recordIn('open'), { ...EVENTS.closed, code: 4001 }).record;
    const retry = machine.transition(refused, EVENTS.retry);
    assert.deepEqual(retry.effects, [{ type: 'connect', gen: GEN + 1, refused: true }]);
    const lost = machine.transition({ ...retry.record, phase: 'open' }, { ...EVENTS.closed, gen: GEN + 1, code: 1006 });
    assert.equal(lost.record.refused, false);
  });

  test('every transient code reconnects; every other code closes for good with its own code, reason and wasClean', () => {
    for (const code of [1001, 1005, 1006, 1011, 1012, 1013, 1014]) {
      const result = machine.transition(recordIn('open'), { ...EVENTS.closed, code });
      assert.equal(result.record.phase, 'backoff', `${code}`);
    }
    for (const code of [1000, 1002, 1003, 1007, 1009, 1010, 3000, 4000, 4002, 4999]) {
      for (const phase of WITH_LINK) {
        check(
          recordIn(phase),
          { ...EVENTS.closed, code, reason: 'no', wasClean: false },
          [{ phase: 'closed' }, [{ type: 'finish', code, reason: 'no', wasClean: false }]],
          `${phase} × closed ${code}`,
        );
      }
    }
  });

  test('after maxAttempts reconnects, the next loss gives up: idle, giveup, no timer', () => {
    const last = { attempts: 3 };
    check(
      recordIn('open', last),
      EVENTS.closed,
      [
        { phase: 'idle', refused: false, code: 1012, reason: 'restart' },
        [
          { type: 'disconnected', detail: { code: 1012, reason: 'restart', wasClean: true } },
          { type: 'giveup', detail: { attempts: 3, code: 1012, reason: 'restart' } },
        ],
      ],
      'open × closed, attempts exhausted',
    );
    check(
      recordIn('preparing', last),
      EVENTS.failed,
      [
        { phase: 'idle' },
        [
          { type: 'error', error: FAILURE },
          { type: 'giveup', detail: { attempts: 3, code: 1006, reason: '' } },
        ],
      ],
      'preparing × failed, attempts exhausted',
    );
    check(
      recordIn('refreshing', last),
      { ...EVENTS.refreshed, error: FAILURE },
      [
        { phase: 'idle' },
        [
          { type: 'error', error: FAILURE },
          { type: 'giveup', detail: { attempts: 3, code: 1011, reason: 'lost' } },
        ],
      ],
      'refreshing × refreshed with an error, attempts exhausted',
    );
  });

  test('a failed refresh (not a 401) is reported, then the retry', () => {
    check(
      recordIn('refreshing'),
      { ...EVENTS.refreshed, error: FAILURE },
      [{ phase: 'backoff', attempts: 2 }, [{ type: 'error', error: FAILURE }, ...retried(1011, 'lost')]],
      'refreshing × refreshed with an error',
    );
  });

  test('the first connection opens without `reconnected`; the backoff is the delay it was given', () => {
    check(
      recordIn('connecting', { attempts: 0 }),
      EVENTS.opened,
      [{ phase: 'open' }, [timer(500, 'stable'), { type: 'flush' }, { type: 'open' }]],
      'connecting × opened, first connection',
    );
    for (const attempts of [0, 1, 2]) {
      const result = machine.transition(recordIn('open', { attempts }), { ...EVENTS.closed, code: 1006 });
      assert.deepEqual(result.effects[1], timer(delay(attempts + 1), 'retry'), `attempt ${attempts + 1}`);
    }
  });

  test('a new socket waits, knowing whether the session was authenticated', () => {
    assert.deepEqual(
      machine.initial(config),
      recordIn('waiting', { gen: 0, attempts: 0, authenticated: false, code: 0, reason: '' }),
    );
    assert.equal(machine.initial(config, true).authenticated, true);
  });
});

// ---- sequences ----

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

/**
 * One step of a sequence: mostly an event that moves the record's phase on (see PROGRESS), else
 * any event at all; an attempt's or a timer's event mostly of the current
 * generation, else of an older one or (never in real life) a newer one.
 */
const anyStep = fc
  .record({
    fitting: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    pick: fc.nat(),
    age: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 1, arbitrary: fc.constant(-1) },
    ),
    code: fc.constantFrom(1000, 1001, 1002, 1006, 1008, 1011, 1013, 4000, 4001, 4999),
    reason: fc.string({ maxLength: 4 }),
    live: fc.boolean(),
    wasClean: fc.boolean(),
    failed: fc.boolean(),
  })
  .map((step) => (/** @type {{ phase: string, gen: number }} */ record) => {
    const types = step.fitting && PROGRESS[record.phase].length > 0 ? PROGRESS[record.phase] : EVENT_TYPES;
    const type = types[step.pick % types.length];
    const { code, reason, live, wasClean } = step;
    switch (type) {
      case 'authenticated':
      case 'reconnect':
      case 'wake':
        return { type };
      case 'anonymous':
        return { type, live };
      case 'close':
        return { type, code: [1000, 3000, 4999].includes(code) ? code : 1000, reason, live };
      default:
        return {
          type,
          gen: record.gen - step.age,
          ...(type === 'closed' ? { code, reason, wasClean } : {}),
          ...(type === 'failed' || type === 'error' || (type === 'refreshed' && step.failed)
            ? { error: new Error(type) }
            : {}),
          ...(type === 'message' ? { data: 'm', origin: 'o' } : {}),
        };
    }
  });

const TIMED = new Set(['connecting', 'open', 'backoff', 'closing']);

describe('the socket machine, sequences (fast-check)', () => {
  test('the invariants beside the table hold after every step', () => {
    const reached = new Set();
    fc.assert(
      fc.property(
        fc.record({
          maxAttempts: fc.integer({ min: 0, max: 4 }),
          ticket: fc.boolean(),
          authenticated: fc.boolean(),
          events: fc.array(anyStep, { maxLength: 60 }),
        }),
        ({ maxAttempts, ticket, authenticated, events }) => {
          let record = machine.initial({ ...config, maxAttempts, ticket }, authenticated);
          let finished = 0;
          /** The timer the runner would hold: cleared when the phase changes, replaced by a new one. */
          let pending = null;
          for (const make of events) {
            const event = make(record);
            const before = record;
            const result = machine.transition(before, event);
            const { effects } = result;
            const types = effects.map((effect) => effect.type);
            const label = `${before.phase} × ${JSON.stringify(event)} → ${JSON.stringify(types)}`;
            // 6. Ignored: the same record, no effect.
            if (result.ignored) {
              assert.equal(result.record, before, label);
              assert.deepEqual(effects, [], label);
            }
            // 4. A stale generation never changes the record.
            if ('gen' in event && event.gen !== before.gen) assert.equal(result.ignored, true, `stale: ${label}`);
            record = result.record;
            reached.add(record.phase);
            // 2. closed is final, and `finish` is the transition into it.
            if (before.phase === 'closed') assert.equal(result.ignored, true, label);
            const entersClosed = record.phase === 'closed' && before.phase !== 'closed';
            assert.equal(types.filter((type) => type === 'finish').length, entersClosed ? 1 : 0, label);
            finished += entersClosed ? 1 : 0;
            assert.ok(finished <= 1, 'close happens once');
            if (entersClosed) assert.equal(types.at(-1), 'finish', `finish comes last: ${label}`);
            // 1. At most one timer: one per transition at most, only on a phase change into a phase that has one.
            const timers = effects.filter((effect) => effect.type === 'timer');
            assert.ok(timers.length <= 1, label);
            if (record.phase !== before.phase) pending = null;
            if (timers.length === 1) {
              assert.notEqual(record.phase, before.phase, `a timer only with a new phase: ${label}`);
              assert.ok(TIMED.has(record.phase), `no timer in ${record.phase}: ${label}`);
              assert.equal(timers[0].event.gen, record.gen, `a timer carries the current generation: ${label}`);
              pending = timers[0].event;
            }
            if (!TIMED.has(record.phase)) assert.equal(pending, null, `${record.phase} has no timer`);
            // 3. attempts ≤ maxAttempts; a loss at the limit gives up.
            assert.ok(record.attempts <= maxAttempts, `attempts ${record.attempts} > ${maxAttempts}: ${label}`);
            const reconnecting = effects.find((effect) => effect.type === 'reconnecting');
            if (reconnecting) {
              assert.equal(reconnecting.detail.attempt, record.attempts, label);
              assert.equal(record.phase, 'backoff', label);
            }
            if (types.includes('giveup')) {
              assert.equal(record.phase, 'idle', label);
              assert.equal(before.attempts, maxAttempts, label);
            }
            // 4. gen grows by one with each connect, and only then.
            const connects = effects.filter((effect) => effect.type === 'connect');
            assert.equal(record.gen, before.gen + connects.length, label);
            if (connects.length) {
              assert.equal(connects[0].gen, record.gen, label);
              assert.equal(record.phase, 'preparing', label);
            }
            // 5. flush, then open, only on entering open.
            if (types.includes('open') || types.includes('flush')) {
              assert.ok(types.indexOf('flush') >= 0 && types.indexOf('flush') < types.indexOf('open'), label);
              assert.equal(before.phase, 'connecting', label);
              assert.equal(record.phase, 'open', label);
            }
            // 7. unauthenticated only if never authenticated; from closing only to closed.
            if (types.includes('unauthenticated')) assert.equal(before.authenticated, false, label);
            if (before.authenticated) assert.equal(record.authenticated, true, label);
            if (before.phase === 'closing') assert.ok(['closing', 'closed'].includes(record.phase), label);
            // A close frame with a code only when entering closing from a live link.
            const shut = effects.find((effect) => effect.type === 'shut');
            if (shut?.code !== undefined) {
              assert.ok(WITH_LINK.includes(before.phase), label);
              assert.equal(record.phase, 'closing', label);
            }
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    // The generated sequences reach every phase (otherwise they prove little).
    assert.deepEqual([...reached].sort(), [...PHASES].sort(), `phases reached (seed ${SEED})`);
  });
});
