/**
 * What an `AuthSocket` does next, as a pure function: `transition(record, event)` returns the next
 * record and the effects to carry out, as data. It imports nothing and touches nothing — no timer,
 * no socket, no session, no clock, no randomness — so it runs, and is tested, in Node.
 * socket-runner.ts performs the effects and feeds back what happens.
 *
 * ## The table
 *
 * A row per phase × event accepted; **every other pair is ignored** (`ignored: true`: the same
 * record, no effect). Events marked † come from one connection attempt or one timer and carry its
 * `gen`; one whose `gen` is not the record's is ignored too (the one staleness rule). *live* is
 * every phase but `closing` and `closed`.
 *
 * | phase              | event              | when                                  | next         | effects, in order                                                   |
 * |--------------------|--------------------|---------------------------------------|--------------|---------------------------------------------------------------------|
 * | waiting            | `authenticated`    |                                       | preparing    | `connect` (gen + 1)                                                 |
 * | live but waiting   | `authenticated`    |                                       | =            | — (remembers that the session was authenticated)                    |
 * | live               | `anonymous`        |                                       | closing      | `unauthenticated` if never authenticated, then as `close` 1000 `session ended` |
 * | connecting, open   | `close`            | the link can still take a close frame | closing      | `shut` code, reason; `timer` 1 s → `fallback`                       |
 * | live               | `close`            | otherwise                             | closing      | `timer` 0 → `settle`                                                |
 * | backoff, idle      | `reconnect`        |                                       | preparing    | attempts = 0; `connect` (gen + 1)                                   |
 * | other live         | `reconnect`        |                                       | =            | attempts = 0                                                        |
 * | backoff            | `retry` †, `wake`  |                                       | preparing    | `connect` (gen + 1)                                                 |
 * | preparing          | `linked` †         |                                       | connecting   | `timer` connectTimeout → `timeout`                                  |
 * | preparing          | `failed` †         |                                       | *retry* 1006 | `error`                                                             |
 * | connecting         | `opened` †         |                                       | open         | `timer` stableAfter → `stable`; `flush`; `open`; `reconnected` if attempts > 0 |
 * | connecting         | `timeout` †        |                                       | =            | `shut` without a code (the handshake fails; its `closed` follows)   |
 * | open               | `stable` †         |                                       | =            | attempts = 0                                                        |
 * | open               | `message` †        |                                       | =            | `message`                                                           |
 * | connecting, open   | `closed` †         | 1008, 4001, ticket mode               | refreshing   | refused; `disconnected`; `refresh`                                  |
 * | connecting, open   | `closed` †         | 1008, 4001; 1001, 1005, 1006, 1011–1014 | *retry* code | refused if 1008/4001; `disconnected`                              |
 * | connecting, open   | `closed` †         | any other code                        | closed       | `finish` with its code, reason, wasClean                            |
 * | connecting, open, closing | `error` †   |                                       | =            | `error`                                                             |
 * | refreshing         | `refreshed` †      |                                       | *retry* the close's code | `error` if the refresh failed                           |
 * | closing            | `closed` †         |                                       | closed       | `finish` with the link's code, reason, wasClean                     |
 * | closing            | `settle` †         |                                       | closed       | `finish` with the close's code and reason, clean                    |
 * | closing            | `fallback` †       |                                       | closed       | `finish` with the close's code and reason, not clean                |
 * | closed             | anything           |                                       | —            | ignored: closed is final                                            |
 *
 * *retry* code: attempts < maxAttempts → `backoff`, attempts + 1, `timer` → `retry` after 0 ms for
 * 1008/4001 on the first attempt (the new token is the fix), else after `delay(attempt)` (the
 * caller's jittered backoff); `reconnecting`. Otherwise → `idle`; `giveup`.
 *
 * Effects named after a socket event (`open`, `message`, `disconnected`, `reconnecting`,
 * `reconnected`, `giveup`) dispatch it with their `detail`.
 *
 * ## Invariants (test/node/socket-machine.test.js checks them after every step of generated sequences)
 *
 * 1. At most one timer: a transition returns at most one `timer`, and a phase's timer lasts only as
 *    long as the phase (the runner clears it when the phase changes).
 * 2. `closed` is final: everything is ignored there; `finish` is an effect of exactly the transitions
 *    into `closed`, so the socket's `close` is dispatched once.
 * 3. `attempts` never exceeds `maxAttempts`: the loss after the last attempt gives `giveup` and `idle`.
 * 4. Staleness: a result or timer of another `gen` never changes the record. `gen` grows by one with
 *    each `connect`, and only then.
 * 5. `flush` comes before `open`, both only on entering `open`: queued messages go out before anything
 *    the page sends from its `open` listener.
 * 6. An ignored event returns the same record and no effect.
 * 7. `unauthenticated` only if the session was never authenticated; from `closing` the only way is
 *    to `closed`.
 */

/**
 * Where a socket is. Strings, not an ordered enum: nothing depends on an order of phases.
 *
 * - `waiting`: the session is restoring.
 * - `preparing`: getting a credential (the token, refreshed if stale, or a ticket) and a link from the session.
 * - `connecting`: the handshake; the timer is its timeout.
 * - `open`: connected; the timer resets the attempts once the connection is stable.
 * - `refreshing`: ticket mode, after a 1008/4001: a refresh before the retry.
 * - `backoff`: a connection was lost; the timer is the next attempt.
 * - `idle`: the last attempt failed (`giveup`); `reconnect()` starts again.
 * - `closing`: `close()`, or the session's end; the timer is the close fallback, or the close itself.
 * - `closed`: closed for good; no timer, no listener.
 */
export type Phase =
  'waiting' | 'preparing' | 'connecting' | 'open' | 'refreshing' | 'backoff' | 'idle' | 'closing' | 'closed';

/** Closes that mean "the token was refused": refresh once, then reconnect. */
export const AUTH_CODES = [1008, 4001];
/** Closes worth reconnecting after: going away, no status, lost, server error, restart, try again later, bad gateway. */
export const TRANSIENT_CODES = [1001, 1005, 1006, 1011, 1012, 1013, 1014];
/** How long a close handshake may take before the socket counts as closed anyway. */
export const CLOSE_FALLBACK = 1000;

/** What the machine needs of the socket's options. */
export interface MachineConfig {
  readonly ticket: boolean;
  readonly maxAttempts: number;
  readonly stableAfter: number;
  readonly connectTimeout: number;
  /** ms before reconnect attempt `attempt` (1, 2, …): the runner's jittered backoff. */
  readonly delay: (attempt: number) => number;
}

/** Everything that decides what a socket does next. */
export interface SocketRecord {
  readonly phase: Phase;
  /** The current connection attempt: its results and timers carry it. */
  readonly gen: number;
  /** Reconnects scheduled since the last stable connection. */
  readonly attempts: number;
  /** The session was authenticated at some point: its end is a logout, not a socket opened too early. */
  readonly authenticated: boolean;
  /** The last connection was refused (1008/4001): the next connect needs a token other than its own. */
  readonly refused: boolean;
  /** The close being handled (`refreshing`) or asked for (`closing`). */
  readonly code: number;
  readonly reason: string;
  readonly config: MachineConfig;
}

/** A timer's event, fed back when it fires. */
export interface TimerEvent {
  readonly type: 'timeout' | 'stable' | 'retry' | 'settle' | 'fallback';
  readonly gen: number;
}

/** What happened: to the session, from the page, on the connection (with its `gen`), or a timer. */
export type SocketEvent =
  | { readonly type: 'authenticated' }
  /** `live`: the link can still take a close frame. */
  | { readonly type: 'anonymous'; readonly live: boolean }
  | { readonly type: 'close'; readonly code: number; readonly reason: string; readonly live: boolean }
  | { readonly type: 'reconnect' }
  | { readonly type: 'wake' }
  | { readonly type: 'linked'; readonly gen: number }
  | { readonly type: 'failed'; readonly gen: number; readonly error: unknown }
  | { readonly type: 'opened'; readonly gen: number }
  | { readonly type: 'message'; readonly gen: number; readonly data: unknown; readonly origin: string }
  | { readonly type: 'error'; readonly gen: number; readonly error: unknown }
  | {
      readonly type: 'closed';
      readonly gen: number;
      readonly code: number;
      readonly reason: string;
      readonly wasClean: boolean;
    }
  | { readonly type: 'refreshed'; readonly gen: number; readonly error?: unknown }
  | TimerEvent;

/** What to do, as data. */
export type Effect =
  /** Get a credential and a link from the session; report `linked` or `failed` with `gen`. */
  | { readonly type: 'connect'; readonly gen: number; readonly refused: boolean }
  /** The phase's one timer: feed `event` back after `ms` (0: at the end of the current task). */
  | { readonly type: 'timer'; readonly ms: number; readonly event: TimerEvent }
  /** Send the queued messages, in order, on the link that just opened. */
  | { readonly type: 'flush' }
  /** An `error` event with this error. */
  | { readonly type: 'error'; readonly error: unknown }
  /** An `error` event: there is no session to connect with. */
  | { readonly type: 'unauthenticated' }
  /** Refresh the session's token; report `refreshed` with `gen`. */
  | { readonly type: 'refresh'; readonly gen: number }
  /** Close the link: with a code, or without one to fail its handshake. */
  | { readonly type: 'shut'; readonly code?: number; readonly reason?: string }
  /** Closed for good: every listener goes; `close` hands the queue back. */
  | { readonly type: 'finish'; readonly code: number; readonly reason: string; readonly wasClean: boolean }
  /** The socket's own events. */
  | { readonly type: 'open' }
  | { readonly type: 'message'; readonly detail: { data: unknown; origin: string } }
  | { readonly type: 'disconnected'; readonly detail: { code: number; reason: string; wasClean: boolean } }
  | {
      readonly type: 'reconnecting';
      readonly detail: { attempt: number; delay: number; code: number; reason: string };
    }
  | { readonly type: 'reconnected'; readonly detail: { attempts: number } }
  | { readonly type: 'giveup'; readonly detail: { attempts: number; code: number; reason: string } };

/** The outcome of one event. */
export interface Transition {
  readonly record: SocketRecord;
  readonly effects: readonly Effect[];
  /** The phase does not accept the event, or its `gen` is stale: nothing changed. */
  readonly ignored?: true;
}

/** A new socket: waiting for the session. */
export const initial = (config: MachineConfig, authenticated = false): SocketRecord => ({
  phase: 'waiting',
  gen: 0,
  attempts: 0,
  authenticated,
  refused: false,
  code: 0,
  reason: '',
  config,
});

type Changes = { -readonly [K in keyof SocketRecord]?: SocketRecord[K] };
// Each handler is stored under the event type it takes (see TABLE), so `event` is that event.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (record: SocketRecord, event: any) => Transition;

const to = (record: SocketRecord, changes: Changes, ...effects: Effect[]): Transition => ({
  record: { ...record, ...changes },
  effects,
});

const timer = (record: SocketRecord, ms: number, type: TimerEvent['type']): Effect => ({
  type: 'timer',
  ms,
  event: { type, gen: record.gen },
});

/** A new connection attempt. */
const connect = (record: SocketRecord, changes?: Changes): Transition => {
  const gen = record.gen + 1;
  return to(record, { ...changes, phase: 'preparing', gen }, { type: 'connect', gen, refused: record.refused });
};

/** A new attempt that starts the count again (`reconnect()`). */
const restart = (record: SocketRecord) => connect(record, { attempts: 0 });

const finish = (record: SocketRecord, code: number, reason: string, wasClean: boolean): Transition =>
  to(record, { phase: 'closed' }, { type: 'finish', code, reason, wasClean });

/** The next attempt after a loss, or `giveup` once `maxAttempts` were made. */
const retry = (record: SocketRecord, code: number, reason: string, ...effects: Effect[]): Transition => {
  const { attempts, config } = record;
  if (attempts >= config.maxAttempts)
    return to(record, { phase: 'idle' }, ...effects, { type: 'giveup', detail: { attempts, code, reason } });
  const attempt = attempts + 1;
  const delay = AUTH_CODES.includes(code) && attempt === 1 ? 0 : config.delay(attempt);
  return to(record, { phase: 'backoff', attempts: attempt }, ...effects, timer(record, delay, 'retry'), {
    type: 'reconnecting',
    detail: { attempt, delay, code, reason },
  });
};

/** `close` without a link that could take the close frame: closed at the end of the task. */
const closeNow: Handler = (record, { code, reason }: { code: number; reason: string }) =>
  to(record, { phase: 'closing', code, reason }, timer(record, 0, 'settle'));

/** `close` with a link: the close frame, and a fallback for a server that never answers it. */
const closeLink: Handler = (record, event: { code: number; reason: string; live: boolean }) =>
  event.live
    ? to(
        record,
        { phase: 'closing', code: event.code, reason: event.reason },
        { type: 'shut', code: event.code, reason: event.reason },
        timer(record, CLOSE_FALLBACK, 'fallback'),
      )
    : closeNow(record, event);

/** A connection closed: replaced (refresh and/or retry), or closed for good when retrying cannot help. */
const lost: Handler = (record, { code, reason, wasClean }: { code: number; reason: string; wasClean: boolean }) => {
  const refused = AUTH_CODES.includes(code);
  if (!refused && !TRANSIENT_CODES.includes(code)) return finish(record, code, reason, wasClean);
  const next = { ...record, refused, code, reason };
  const disconnected: Effect = { type: 'disconnected', detail: { code, reason, wasClean } };
  return refused && record.config.ticket
    ? to(next, { phase: 'refreshing' }, disconnected, { type: 'refresh', gen: record.gen })
    : retry(next, code, reason, disconnected);
};

const report: Handler = (record, { error }: { error: unknown }) => to(record, {}, { type: 'error', error });

/** Accepted in every live phase. */
const LIVE: Partial<Record<SocketEvent['type'], Handler>> = {
  authenticated: (record) => to(record, { authenticated: true }),
  anonymous: (record, { live }: { live: boolean }) => {
    const next = TABLE[record.phase].close!(record, { code: 1000, reason: 'session ended', live });
    return record.authenticated ? next : { ...next, effects: [{ type: 'unauthenticated' }, ...next.effects] };
  },
  close: closeNow,
  reconnect: (record) => to(record, { attempts: 0 }),
};

const TABLE: Record<Phase, Partial<Record<SocketEvent['type'], Handler>>> = {
  waiting: { ...LIVE, authenticated: (record) => connect(record, { authenticated: true }) },
  preparing: {
    ...LIVE,
    linked: (record) => to(record, { phase: 'connecting' }, timer(record, record.config.connectTimeout, 'timeout')),
    failed: (record, { error }: { error: unknown }) => retry(record, 1006, '', { type: 'error', error }),
  },
  connecting: {
    ...LIVE,
    close: closeLink,
    opened: (record) =>
      to(
        record,
        { phase: 'open' },
        timer(record, record.config.stableAfter, 'stable'),
        { type: 'flush' },
        { type: 'open' },
        ...(record.attempts > 0 ? [{ type: 'reconnected', detail: { attempts: record.attempts } } as const] : []),
      ),
    timeout: (record) => to(record, {}, { type: 'shut' }),
    closed: lost,
    error: report,
  },
  open: {
    ...LIVE,
    close: closeLink,
    stable: (record) => to(record, { attempts: 0 }),
    message: (record, { data, origin }: { data: unknown; origin: string }) =>
      to(record, {}, { type: 'message', detail: { data, origin } }),
    closed: lost,
    error: report,
  },
  refreshing: {
    ...LIVE,
    refreshed: (record, { error }: { error?: unknown }) =>
      retry(record, record.code, record.reason, ...(error === undefined ? [] : [{ type: 'error', error } as const])),
  },
  backoff: { ...LIVE, reconnect: restart, retry: (record) => connect(record), wake: (record) => connect(record) },
  idle: { ...LIVE, reconnect: restart },
  closing: {
    closed: (record, { code, reason, wasClean }: { code: number; reason: string; wasClean: boolean }) =>
      finish(record, code, reason, wasClean),
    settle: (record) => finish(record, record.code, record.reason, true),
    fallback: (record) => finish(record, record.code, record.reason, false),
    error: report,
  },
  closed: {},
};

/**
 * The next record and the effects of `event`; `ignored` when the phase does not take it, or it
 * comes from another attempt or timer than the current one. Pure, given a pure `config.delay`.
 */
export function transition(record: SocketRecord, event: SocketEvent): Transition {
  const handler = TABLE[record.phase][event.type];
  if (!handler || ('gen' in event && event.gen !== record.gen)) return { record, effects: [], ignored: true };
  return handler(record, event);
}
