/**
 * The session's rules as one pure function: `transition(record, event) → { record, effects }`.
 * It imports nothing, reads no clock and touches nothing: the record holds everything that decides
 * behaviour, and effects are data that the session's small modules carry out (the token store, the
 * freshness timer, the logout courier, the tab link). A `(state, event)` pair the table does not
 * list is ignored, and `transition` says so (`ignored: true`).
 *
 * | state \ event   | `restore`   | `stored`         | `adopt`       | `ended`     | `failed`          | `logout`    | `told`                  | `cookie`           |
 * |-----------------|-------------|------------------|---------------|-------------|-------------------|-------------|-------------------------|--------------------|
 * | `restoring`     | restore (→ anonymous without a request when the hint says none) | → authenticated  | → authenticated | → anonymous | → anonymous (+owed restore if the network failed) | → anonymous | → anonymous if it ends this session | —     |
 * | `authenticated` | —           | → authenticated  | → authenticated | → anonymous | —               | → anonymous | → anonymous if it ends this session | → restoring if it names another session |
 * | `anonymous`     | restore if owed | → authenticated | → authenticated | owed cleared | owed restore if the network failed | → anonymous | owed cleared | —          |
 *
 * `heard` / `lost` (the logout courier's outcome) settle or keep an owed logout in any state; `wake`
 * (online, pageshow, the page shown again) sends an owed logout, retries an owed restore, or
 * re-checks freshness while authenticated; `dispose` stops the session's own initiative: after
 * it no timer is scheduled and the page and the other tabs are no longer heard, while work asked
 * for by the caller (a logout, a refresh) still completes.
 *
 * Staleness has one rule, as @lit/task's call id: work takes the record's `gen` when it starts and
 * its outcome carries it back; an outcome whose `gen` is not the record's is ignored. `gen` moves
 * when this tab logs out, logs in, or finds the session replaced by another (the `cookie` event).
 *
 * Which session a token belongs to is its `sid` claim, compared with the readable session-id cookie
 * the backend sets beside the refresh cookie (`''` when there is none or it cannot be read):
 * - a token of a session that ended (here, or in another tab: `ended`) is never kept;
 * - another tab's token is adopted only when its sid is the cookie's (when the cookie is readable);
 * - a logout of session X (`told` with sid X) ends only X;
 * - once the cookie names another session than the one held, the tab restores from the cookie
 *   instead of acting as the old user — at most once per change of the cookie;
 * - tokens without a sid (backends that do not say) follow the clock rule: one requested before a
 *   logout this tab knows of (`loggedOutAt`, on the browser's shared clock) belongs to the ended
 *   session.
 *
 * Invariants (checked by test/node/machine.test.js over generated event sequences):
 * - `authenticated` ⇔ a token is held; `user` and `sid` are `null` unless `authenticated`;
 * - work is owed to the server only while `anonymous`;
 * - `gen` never decreases; a stale outcome changes nothing and has no effect;
 * - a kept token's sid is never one in `ended`; `ended` holds at most {@link ENDED_KEPT} sids;
 * - `change` is among the effects exactly when the state or the user changed;
 * - after `dispose` no timer is scheduled, and `adopt`, `told`, `wake` are ignored.
 */

/** Where a session is: restoring on load (or from a new cookie), then authenticated or anonymous. */
export type SessionState = 'restoring' | 'authenticated' | 'anonymous';

/** Work owed to the server while anonymous: a restore that could not reach it, a logout it has not heard. */
export type Owed = 'restore' | 'logout' | null;

/** Everything that decides the session's behaviour. Never holds the token itself. */
export interface SessionRecord<U = unknown> {
  readonly state: SessionState;
  /** The held token's user, or `null`. */
  readonly user: U | null;
  /** The held token's `sid` claim, or `null` (none held, or the token has none). */
  readonly sid: string | null;
  /** The session-id cookie as it read when the held token was kept (`''`: none or unreadable). */
  readonly cookie: string;
  readonly owed: Owed;
  /** The generation: outcomes of work started under another one are stale. */
  readonly gen: number;
  /** Sessions that ended lately (here or in another tab), newest last: their tokens are never kept. */
  readonly ended: readonly string[];
  /** The browser's shared time of the last logout known here: for tokens without a sid. */
  readonly loggedOutAt: number;
  readonly disposed: boolean;
}

/** What a token answer or another tab's token says about itself. */
export interface TokenFacts<U = unknown> {
  readonly user: U;
  readonly sid: string | null;
  /** The session-id cookie read when the token arrived (`''`: none or unreadable). */
  readonly cookie: string;
  /** The browser's shared time when the request that got it was sent. */
  readonly requestedAt: number;
}

export type SessionEvent<U = unknown> =
  /**
   * Restore: on load, or an owed restore retried. `absent`: the session-id cookie says there is no
   * session, and the backend is known to set it (the session hint) — no request is needed.
   */
  | { readonly type: 'restore'; readonly absent?: boolean }
  /** A login, refresh or restore of this tab got a token. */
  | ({ readonly type: 'stored'; readonly gen: number; readonly login?: boolean } & TokenFacts<U>)
  /** Another tab's token: handed over after its refresh or login, or an answer to this tab's ask. */
  | ({ readonly type: 'adopt' } & TokenFacts<U>)
  /** The server answered a refresh with 401: the session is over. */
  | { readonly type: 'ended'; readonly gen: number }
  /** The restore failed; `network`: it could not reach the server (ask again later). */
  | { readonly type: 'failed'; readonly gen: number; readonly network: boolean }
  /** `logout()` here at shared time `at`, with the session-id cookie as it reads now. */
  | { readonly type: 'logout'; readonly at: number; readonly cookie: string }
  /** Another tab ended session `sid` (`null`: a session without a sid) at shared time `at`. */
  | { readonly type: 'told'; readonly sid: string | null; readonly at: number }
  /** The server heard the logout started under `gen` (or refused it for good). */
  | { readonly type: 'heard'; readonly gen: number }
  /** The logout started under `gen` could not reach the server. */
  | { readonly type: 'lost'; readonly gen: number; readonly sid: string | null }
  /** The page woke up: online, pageshow, shown again. */
  | { readonly type: 'wake' }
  /** The session-id cookie, read now. */
  | { readonly type: 'cookie'; readonly cookie: string }
  | { readonly type: 'dispose' };

/**
 * What the session's modules do, in the order given:
 * - `keep`: store the token that came with the event; `clear`: drop the held token;
 * - `abort`: make the refresh in flight obsolete;
 * - `schedule` / `unschedule`: the proactive refresh timer;
 * - `post`: tell the other tabs that session `sid` ended at `at`;
 * - `send`: send (or join) the logout request of session `send` (`null`: whichever the cookie holds);
 * - `resend`: send the owed logout again;
 * - `mark`: remember an owed logout of `sid` for the next page (`false`: forget it);
 * - `restore`: run the restore (ask the tabs, else one refresh request);
 * - `freshen`: refresh now if the held token is stale;
 * - `change`: the state or the user changed — dispatch it;
 * - `close`: stop listening (dispose).
 */
export type Effect =
  | 'keep'
  | 'clear'
  | 'abort'
  | 'schedule'
  | 'unschedule'
  | 'resend'
  | 'restore'
  | 'freshen'
  | 'change'
  | 'close'
  | { readonly post: string | null; readonly at: number }
  | { readonly send: string | null }
  | { readonly mark: string | null | false };

export interface Transition<U = unknown> {
  readonly record: SessionRecord<U>;
  readonly effects: readonly Effect[];
  /** The table has no entry for this state and event, or the event is stale: nothing changed. */
  readonly ignored: boolean;
}

/** How many ended sessions a tab remembers: enough for every logout a page sees in practice. */
export const ENDED_KEPT = 16;

/** The record of a new session. */
export const initial = <U>(): SessionRecord<U> => ({
  state: 'restoring',
  user: null,
  sid: null,
  cookie: '',
  owed: null,
  gen: 0,
  ended: [],
  loggedOutAt: 0,
  disposed: false,
});

type Handler<E, U> = (record: SessionRecord<U>, event: E) => Transition<U> | undefined;
type Row<U> = { [T in SessionEvent<U>['type']]?: Handler<Extract<SessionEvent<U>, { type: T }>, U> };

/** Effects that reach beyond this page's memory: they come after the page has seen the change. */
const outward = (effect: Effect) => effect === 'restore' || (typeof effect === 'object' && !('mark' in effect));

/**
 * The record moved to `changes`, with `effects`; when the state or the user changed, `change` is
 * added after the effects on memory and before those that reach the other tabs or the server.
 */
function to<U>(record: SessionRecord<U>, changes: Partial<SessionRecord<U>>, ...effects: Effect[]): Transition<U> {
  const next = { ...record, ...changes };
  if (next.state !== 'authenticated') Object.assign(next, { user: null, sid: null, cookie: '' });
  if (next.state !== 'anonymous') next.owed = null;
  if (next.state !== record.state || next.user !== record.user) {
    const at = effects.findIndex(outward);
    effects.splice(at < 0 ? effects.length : at, 0, 'change');
  }
  return { record: next, effects, ignored: false };
}

const remember = (ended: readonly string[], sid: string | null): readonly string[] =>
  sid === null || ended.includes(sid) ? ended : [...ended, sid].slice(-ENDED_KEPT);

/** Whether a token may be kept: not of an ended session, and (without a sid) not older than the last logout. */
const current = <U>(record: SessionRecord<U>, token: TokenFacts<U>): boolean =>
  token.sid === null ? token.requestedAt >= record.loggedOutAt : !record.ended.includes(token.sid);

/** Keeps a token: authenticated as its user. */
function keep<U>(record: SessionRecord<U>, token: TokenFacts<U>, ...effects: Effect[]): Transition<U> {
  const { user, sid, cookie } = token;
  return to(record, { state: 'authenticated', user, sid, cookie }, 'keep', ...effects, 'schedule');
}

/** The session is over here: memory cleared, the timer stopped. */
const leave = <U>(record: SessionRecord<U>, changes: Partial<SessionRecord<U>>, ...effects: Effect[]) =>
  to(record, { state: 'anonymous', ...changes }, 'clear', 'unschedule', ...effects);

const stored: Handler<Extract<SessionEvent, { type: 'stored' }>, unknown> = (record, event) => {
  if (event.gen !== record.gen) return undefined;
  // A token of a session that ended meanwhile (another tab's logout raced this refresh): over.
  if (!current(record, event)) return event.login ? undefined : leave(record, {}, 'abort');
  // A login replaces the refresh cookie: work of the previous session is obsolete, nothing of it is owed.
  return event.login ? keep({ ...record, gen: record.gen + 1 }, event, 'abort', { mark: false }) : keep(record, event);
};

const adopt: Handler<Extract<SessionEvent, { type: 'adopt' }>, unknown> = (record, event) =>
  current(record, event) && (event.sid === null || event.cookie === '' || event.sid === event.cookie)
    ? keep(record, event)
    : undefined;

const ended: Handler<Extract<SessionEvent, { type: 'ended' }>, unknown> = (record, event) =>
  event.gen === record.gen ? leave(record, { ended: remember(record.ended, record.sid) }) : undefined;

// The session it ends is the one held, else the cookie's (the request revokes that one).
const logout: Handler<Extract<SessionEvent, { type: 'logout' }>, unknown> = (record, { at, cookie }) => {
  const sid = record.sid ?? (cookie || null);
  return leave(
    record,
    {
      gen: record.gen + 1,
      owed: 'logout',
      ended: remember(record.ended, record.sid),
      loggedOutAt: Math.max(record.loggedOutAt, at),
    },
    'abort',
    { post: sid, at },
    { send: sid },
  );
};

/** Another tab's logout: it ends this tab's session when it names it (or either side has no sid). */
const told: Handler<Extract<SessionEvent, { type: 'told' }>, unknown> = (record, { sid, at }) => {
  const known = { ended: remember(record.ended, sid), loggedOutAt: Math.max(record.loggedOutAt, at) };
  // The tab that ended the session told the server: nothing is owed here.
  if (record.state === 'anonymous') return to(record, { ...known, owed: null });
  // A restore in flight is judged when its token arrives (a token of `sid` is never kept); without
  // a sid there is no telling, so the logout wins.
  if (record.state === 'restoring' && sid !== null) return to(record, known);
  if (sid !== null && record.sid !== null && sid !== record.sid) return to(record, known);
  return leave(record, known, 'abort');
};

const heard: Handler<Extract<SessionEvent, { type: 'heard' }>, unknown> = (record, { gen }) =>
  gen === record.gen ? to(record, { owed: record.owed === 'logout' ? null : record.owed }, { mark: false }) : undefined;

const lost: Handler<Extract<SessionEvent, { type: 'lost' }>, unknown> = (record, { gen, sid }) =>
  gen === record.gen ? to(record, {}, { mark: sid }) : undefined;

/** A restore that failed at network level is owed (asked again on wake-up); any other failure is not. */
const failed: Handler<Extract<SessionEvent, { type: 'failed' }>, unknown> = (record, { gen, network }) =>
  gen === record.gen ? leave(record, { owed: network ? 'restore' : null }) : undefined;

const dispose: Handler<Extract<SessionEvent, { type: 'dispose' }>, unknown> = (record) =>
  to(record, { disposed: true }, 'unschedule', 'close');

/** Events every state handles alike. */
const common: Row<unknown> = { stored, adopt, ended, logout, told, heard, lost, dispose };

const TABLE: Record<SessionState, Row<unknown>> = {
  restoring: {
    ...common,
    restore: (record, { absent }) => (absent ? leave(record, {}) : to(record, {}, 'restore')),
    failed,
  },
  authenticated: {
    ...common,
    wake: (record) => to(record, {}, 'freshen'),
    // The cookie changed since the token was kept and names another session than the token's (or
    // none): act on the cookie — restore from it — instead of as the old user. At most once per
    // change of the cookie. A token without a sid cannot be compared: nothing to act on.
    cookie: (record, { cookie }) =>
      cookie === record.cookie || record.sid === null
        ? undefined
        : cookie === record.sid
          ? to(record, { cookie })
          : to(record, { state: 'restoring', gen: record.gen + 1 }, 'abort', 'clear', 'unschedule', 'restore'),
  },
  anonymous: {
    ...common,
    restore: (record, { absent }) =>
      record.owed !== 'restore' ? undefined : absent ? to(record, { owed: null }) : to(record, {}, 'restore'),
    failed,
    ended: (record, event) => (event.gen === record.gen ? to(record, { owed: null }) : undefined),
    wake: (record) =>
      record.owed === 'logout'
        ? to(record, {}, 'resend')
        : record.owed === 'restore'
          ? to(record, {}, 'restore')
          : undefined,
  },
};

/** What a disposed session no longer hears: the page and the other tabs (it stopped listening). */
const UNHEARD = new Set<SessionEvent['type']>(['adopt', 'told', 'wake', 'dispose']);

/** The session's next record and what to do, for `event` in `record`. Pure. */
export function transition<U>(record: SessionRecord<U>, event: SessionEvent<U>): Transition<U> {
  const handler = record.disposed && UNHEARD.has(event.type) ? undefined : (TABLE[record.state] as Row<U>)[event.type];
  const next = (handler as Handler<SessionEvent<U>, U> | undefined)?.(record, event);
  if (!next) return { record, effects: [], ignored: true };
  // A disposed session does nothing on its own any more: no timer.
  return record.disposed ? { ...next, effects: next.effects.filter((effect) => effect !== 'schedule') } : next;
}
