import { apiKey, type SessionOptions } from './options.js';
import { Session } from './session.js';

/**
 * The page's sessions, shared by every copy of auth-shell on the page (each micro-frontend may
 * bundle its own): a `Symbol.for` key on `globalThis` holds a versioned registry. A copy finds the
 * session another copy created and uses it through the session interface of that version — the
 * public members of `Session` and the `Symbol.for` token hook of the socket module — so one api has
 * one restore, one token, one refresh at a time and one logout, whatever the bundles.
 */
interface Registry {
  /** Bumped only when the session interface changes incompatibly. */
  readonly version: 1;
  readonly sessions: Map<string, { session: Session; signature: string }>;
}

const KEY = Symbol.for('auth-shell.registry');
let own: Registry | undefined;

function registry(): Registry {
  const global = globalThis as { [KEY]?: Registry };
  const found = global[KEY];
  if (found?.version === 1) return found;
  if (found) {
    // A copy with another session interface: sharing would break both. Keep our own, and say so.
    if (!own) {
      console.warn(`auth-shell: another copy on this page uses session registry v${found.version}; sessions are not shared with it.`);
      own = { version: 1, sessions: new Map() };
    }
    return own;
  }
  const created: Registry = { version: 1, sessions: new Map() };
  Object.defineProperty(globalThis, KEY, { value: created });
  return created;
}

/**
 * The page's session for an api: created on first use, its restore started in a microtask, then
 * shared by every caller with the same api base URL — every `<auth-provider>` with that `api`, in
 * any bundled copy of auth-shell, route loaders, plain scripts. Options are taken from the first
 * caller; a later caller with other options gets the existing session and a console warning.
 *
 * @example
 * ```ts
 * import { getSession } from 'auth-shell/core';
 * const session = getSession('/api');
 * await session.ready;          // a route loader's guard: no flicker
 * if (session.state === 'anonymous') throw redirect('/auth');
 * ```
 */
export function getSession(options: SessionOptions | string): Session {
  const opts = typeof options === 'string' ? { api: options } : options;
  const key = apiKey(opts.api);
  const signature = signatureOf(opts);
  const { sessions } = registry();
  const found = sessions.get(key);
  if (found) {
    if (found.signature !== signature && signature !== signatureOf({ api: opts.api })) {
      console.warn(`auth-shell: a session for ${key} already exists with other options; the first options are kept.`);
    }
    return found.session;
  }
  const session = new Session(opts);
  session.addEventListener('dispose', () => {
    if (sessions.get(key)?.session === session) sessions.delete(key);
  });
  sessions.set(key, { session, signature });
  // In a microtask, so listeners the caller adds right away see the restore start.
  queueMicrotask(() => void session.restore());
  return session;
}

/** The options that change behaviour, in a stable form (the api itself is the key). */
function signatureOf(options: SessionOptions): string {
  const { api: _api, clock: _clock, ...rest } = options;
  return JSON.stringify(Object.entries(rest).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
}
