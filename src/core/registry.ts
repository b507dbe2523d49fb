import { logSteps } from './debug.js';
import { UsageError } from './errors.js';
import { apiKey, resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { Session } from './session.js';
import { VERSION, isOlder } from './version.js';

/**
 * The page's sessions, shared by every copy of auth-shell on the page (each micro-frontend may
 * bundle its own): a `Symbol.for` key on `globalThis` holds a versioned registry. A copy finds the
 * session another copy created and uses it through the session interface of that version — the
 * public members of `Session` and the `Symbol.for` socket hook — so one api has one restore, one
 * token, one refresh at a time and one logout, whatever the bundles. The registry holds sessions,
 * never a token: nothing reachable from it yields one.
 */
interface Registry {
  /** Bumped only when the session interface changes incompatibly. */
  readonly version: 1;
  /** Each session with the auth-shell version of the copy that created it (absent: 0.1.0). */
  readonly sessions: Map<string, { session: Session; library?: string }>;
}

const KEY = Symbol.for('auth-shell.registry');
let own: Registry | undefined;
let warnedOlder = false;

function registry(): Registry {
  const global = globalThis as { [KEY]?: Registry };
  const found = global[KEY];
  if (found?.version === 1) return found;
  if (found) {
    // A copy with another session interface: sharing would break both. Keep our own, and say so.
    if (!own) {
      console.warn(
        `auth-shell: another copy on this page uses session registry v${found.version}; sessions are not shared with it.`,
      );
      own = { version: 1, sessions: new Map() };
    }
    return own;
  }
  const created: Registry = { version: 1, sessions: new Map() };
  Object.defineProperty(globalThis, KEY, { value: created });
  return created;
}

/**
 * Options that decide where credentials go and how the session's requests are protected. Two
 * parts of a page that disagree on one of these must not silently share a session: one of them
 * would get a weaker (or a different) session than it asked for.
 */
const SECURITY = {
  allowedOrigins: 'bearerOrigins',
  csrfHeader: 'csrfHeader',
  refreshMethod: 'refreshMethod',
  logoutMethod: 'logoutMethod',
  loginPath: 'loginUrl',
  refreshPath: 'refreshUrl',
  logoutPath: 'logoutUrl',
  sidCookie: 'sidCookie',
} as const satisfies Partial<Record<keyof SessionOptions, keyof ResolvedOptions>>;

const canonical = (value: unknown) => JSON.stringify(value instanceof Set ? [...value].sort() : value);

/**
 * The page's session for an api: created on first use, its restore started in a microtask, then
 * shared by every caller with the same api base URL — every `<auth-provider>` with that `api`, in
 * any bundled copy of auth-shell, route loaders, plain scripts.
 *
 * Options are taken from the first caller. A later caller that gives a security option (allowed
 * origins, CSRF header, methods, paths) with another value gets a {@link UsageError} instead of the
 * session: a micro-frontend cannot widen or weaken what another configured.
 * Options it does not give are not compared, so a bare `getSession('/api')` always gets the
 * page's session. Other differing options (timeouts, leeway) keep the first value with a warning.
 * Every error thrown here is also logged with `console.error`.
 *
 * Outside a browser — server rendering, a route loader running on the server, Node tests — there is
 * no page and no cookie jar to restore from: `getSession` returns a new inert session, `restoring`
 * with `ready` already settled, that makes no request, sets no timer and opens no channel (nothing
 * keeps the process alive). Its `login`, `logout` and `refresh` reject with a `UsageError`;
 * `authFetch` sends plain requests. The real session starts in the browser.
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
  if (onServer()) return new Session({ ...opts, api: new URL(opts.api, 'http://localhost/') }, true);
  try {
    return findSession(opts);
  } catch (error) {
    // Loud: a misconfiguration shows in the console even when the caller swallows the error.
    console.error(`auth-shell: ${(error as Error).message}`);
    throw error;
  }
}

/**
 * {@link getSession} without its console error: for callers that report the failure in their own
 * words (`<auth-provider>` names the attribute to fix). Not exported from the package.
 */
export function findSession(opts: SessionOptions): Session {
  const key = apiKey(opts.api);
  const { sessions } = registry();
  const found = sessions.get(key);
  if (found) {
    compare(found.session.options, opts, key);
    if (opts.debug) logSteps(found.session, found.session.options.api.href);
    if (!warnedOlder && isOlder(found.library ?? '0.1.0', VERSION)) {
      warnedOlder = true;
      console.warn(
        `auth-shell ${VERSION}: the session for ${key} is served by an older copy (auth-shell ${found.library ?? '0.1.0'}) on this page; ` +
          'its behaviour applies. Load the newest copy first, or share one copy.',
      );
    }
    return found.session;
  }
  const session = new Session(opts);
  session.addEventListener('dispose', () => {
    if (sessions.get(key)?.session === session) sessions.delete(key);
  });
  sessions.set(key, { session, library: VERSION });
  // In a microtask, so listeners the caller adds right away see the restore start.
  queueMicrotask(() => void session.restore());
  return session;
}

/**
 * The sessions on the page, without creating the registry or a session: for tools that watch a
 * session and must not be the one that fixes its options (the first caller's options win). Not
 * exported from the package.
 */
export function existingSessions(): Session[] {
  const found = (globalThis as { [KEY]?: Registry })[KEY];
  const registry = found?.version === 1 ? found : own;
  return registry ? [...registry.sessions.values()].map((entry) => entry.session) : [];
}

/**
 * Throws (and logs) when `opts` gives a security option the existing session has otherwise; warns
 * when it gives another option (timeouts, leeway) the session has otherwise.
 */
function compare(existing: ResolvedOptions, opts: SessionOptions, key: string): void {
  const asked = resolveOptions(opts);
  const differing = (Object.keys(opts) as (keyof SessionOptions)[]).filter((given) => {
    const name = (SECURITY as Partial<Record<string, keyof ResolvedOptions>>)[given] ?? given;
    return (
      given !== 'api' &&
      given !== 'clock' &&
      given !== 'debug' &&
      opts[given] !== undefined &&
      canonical(asked[name as keyof ResolvedOptions]) !== canonical(existing[name as keyof ResolvedOptions])
    );
  });
  const conflicts = differing.filter((given) => given in SECURITY);
  if (conflicts.length > 0) {
    throw new UsageError(
      `getSession: the session for ${key} already exists with another ${conflicts.join(', ')}; ` +
        'every provider and getSession call of one api must give the same security options (or leave them out)',
    );
  }
  if (differing.length > 0)
    console.warn(
      `auth-shell: a session for ${key} already exists with another ${differing.join(', ')}; the first options are kept.`,
    );
}

/** No page and no worker of one: a server (or Node, Deno, Bun), where sessions are inert. */
const onServer = () =>
  typeof document === 'undefined' &&
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined';
