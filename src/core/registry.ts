import { apiKey, type SessionOptions } from './options.js';
import { Session } from './session.js';

const sessions = new Map<string, { session: Session; signature: string }>();

/**
 * The page's session for an api: created on first use, its restore started in a microtask, then shared by
 * every caller with the same api base URL — every `<auth-provider>` with that `api`, route loaders,
 * plain scripts. Options are taken from the first caller; a later caller with other options gets
 * the existing session and a console warning.
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
