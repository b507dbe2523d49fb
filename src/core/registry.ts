import { logSteps } from './debug.js';
import { DEV } from './dev.js';
import { UsageError } from './errors.js';
import { apiKey, declares, resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { Session, configure } from './session.js';
import { VERSION, isOlder } from './version.js';

/**
 * The page's sessions, shared by every copy of auth-shell on the page (each micro-frontend may
 * bundle its own): a `Symbol.for` key on `globalThis` holds a versioned registry. It is a frozen
 * facade over a map no one else can reach: the copy that made it makes every session on the page,
 * so nothing can register a session of its own making (a fake one would be handed a password at
 * the next login), and nothing reachable from it yields a token.
 */
interface Registry {
  /** Bumped only when this interface changes incompatibly (1: a plain Map anyone could write). */
  readonly version: 2;
  /** The auth-shell version of the copy that made it (and so every session on the page). */
  readonly library: string;
  /**
   * The session for `options.api`: found, configured by these options, or made (see
   * {@link getSession}); `declaring`: whether the options configure it (else a lookup), `by` who asks.
   */
  session(options: SessionOptions, declaring: boolean, by: string): Session;
  /** The sessions on the page. */
  list(): Session[];
}

const KEY = Symbol.for('auth-shell.registry');
let own: Registry | undefined;
let warnedOlder = false;

function registry(): Registry {
  const found = (globalThis as { [KEY]?: Registry })[KEY];
  if (found?.version === 2) return found;
  if (found) {
    // A copy with another registry interface: sharing would break both. Keep our own, and say so.
    if (!own) {
      console.warn(
        `auth-shell: another copy on this page uses session registry v${String(found.version)}${DEV ? '; sessions are not shared with it.' : ''}`,
      );
      own = makeRegistry();
    }
    return own;
  }
  const made = makeRegistry();
  Object.defineProperty(globalThis, KEY, { value: made });
  return made;
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

const canonical = (value: unknown) => JSON.stringify(value instanceof Set ? [...(value as Set<string>)].sort() : value);

/** One session of the registry and who configured it (`null`: nobody yet, a lookup made it). */
interface Entry {
  readonly session: Session;
  by: string | null;
}

function makeRegistry(): Registry {
  const entries = new Map<string, Entry>();
  return Object.freeze({
    version: 2,
    library: VERSION,
    session(options: SessionOptions, declaring: boolean, by: string): Session {
      const key = apiKey(options.api);
      const found = entries.get(key);
      if (found) {
        if (found.by === null && declaring) {
          // A lookup made it, nothing has happened yet: these options configure it.
          configure(found.session, options);
          found.by = by;
          start(found.session);
        } else if (declaring) compare(found, options, by, key);
        return found.session;
      }
      const session = new Session(options, false, !declaring);
      const entry: Entry = { session, by: declaring ? by : null };
      session.addEventListener('dispose', () => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      entries.set(key, entry);
      if (declaring) start(session);
      else {
        // A lookup (a hook, a store, a route loader) must not decide the options: a declaration
        // made in the same turn of the page — a provider's attributes, getSession with options —
        // does. Whatever came first. Nothing by the next task once the document is parsed: the defaults.
        afterParsing(() => {
          if (entry.by !== null) return;
          entry.by = `a lookup, getSession('${key}') without options${DEV ? ' (nothing configured the session in time)' : ''}`;
          configure(session, options);
          start(session);
          console.info(
            `auth-shell: the session for ${key} uses the default options` +
              (DEV
                ? ': nothing configured it when it was first needed. Configure it with the <auth-provider> attributes, or getSession({ api, … }) before any lookup.'
                : ''),
          );
        });
      }
      return session;
    },
    list: () => [...entries.values()].map((entry) => entry.session),
  });
}

/** Starts a configured session's restore, in a microtask: listeners its caller adds right away see it start. */
const start = (session: Session) => queueMicrotask(() => void session.restore());

/** Runs `then` in the first task after the document was parsed (at once for a worker). */
function afterParsing(then: () => void): void {
  if (globalThis.document?.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => setTimeout(then), { once: true });
  } else setTimeout(then);
}

/**
 * The page's session for an api, shared by every caller with the same api base URL — every
 * `<auth-provider>` with that `api`, in any bundled copy of auth-shell, route loaders, hooks, plain
 * scripts.
 *
 * **Declarations configure, lookups attach.** `getSession('/api')` (or an options object with only
 * `api`) is a lookup: it never decides the session's options. The session is configured by the
 * first declaration — a provider's attributes, or `getSession` with options — whatever the order a
 * framework runs them in. A lookup that finds no declaration by the first task after the document
 * was parsed uses the defaults and says so once (`console.info`). The restore starts once the
 * session is configured.
 *
 * A later declaration that gives a security option (allowed origins, CSRF header, methods, paths,
 * the session-id cookie) with another value gets a {@link UsageError} naming both declarations,
 * the option and both values, instead of the session: a micro-frontend cannot widen or weaken what
 * another configured. Options it does not give are not compared. Other differing options
 * (timeouts, leeway) keep the first value with a warning. Every error thrown here is also logged
 * with `console.error`.
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
    const keys = Object.keys(opts).filter((key) => key !== 'api');
    return findSession(
      opts,
      declares(opts),
      `getSession({ api: '${String(opts.api)}'${keys.map((key) => `, ${key}`).join('')} })`,
    );
  } catch (error) {
    // Loud: a misconfiguration shows in the console even when the caller swallows the error.
    console.error(`auth-shell: ${(error as Error).message}`);
    throw error;
  }
}

/**
 * {@link getSession} without its console error, for callers that report the failure in their own
 * words (`<auth-provider>` names the attribute to fix, and always declares); `by` names the caller
 * in messages. Not exported from the package.
 */
export function findSession(opts: SessionOptions, declaring: boolean, by: string): Session {
  const found = registry();
  const session = found.session(opts, declaring, by);
  if (opts.debug) logSteps(session, session.options.api.href);
  if (!warnedOlder && isOlder(found.library, VERSION)) {
    warnedOlder = true;
    console.warn(
      `auth-shell ${VERSION}: the sessions of this page are served by an older copy (auth-shell ${found.library})` +
        (DEV ? '; its behaviour applies. Load the newest copy first, or share one copy.' : ''),
    );
  }
  return session;
}

/**
 * The sessions on the page, without making the registry or a session: for tools that watch a
 * session. Not exported from the package.
 */
export function existingSessions(): Session[] {
  const found = (globalThis as { [KEY]?: Registry })[KEY];
  const registry = found?.version === 2 ? found : own;
  return registry ? registry.list() : [];
}

/**
 * Throws when `opts` gives a security option that `entry`'s session has otherwise; warns when it
 * gives another option (timeouts, leeway) that the session has otherwise. Both name the two
 * declarations and the values.
 */
function compare(entry: Entry, opts: SessionOptions, by: string, key: string): void {
  const existing = entry.session.options;
  const asked = resolveOptions(opts);
  const differing = (Object.keys(opts) as (keyof SessionOptions)[]).flatMap((given) => {
    const name = ((SECURITY as Partial<Record<string, keyof ResolvedOptions>>)[given] ??
      given) as keyof ResolvedOptions;
    const [want, have] = [canonical(asked[name]), canonical(existing[name])];
    return given !== 'api' && given !== 'clock' && given !== 'debug' && opts[given] !== undefined && want !== have
      ? [{ given, text: `${given} ${want} (the session has ${have})` }]
      : [];
  });
  const conflicts = differing.filter(({ given }) => given in SECURITY);
  const said = (list: typeof differing) => list.map(({ text }) => text).join(', ');
  if (conflicts.length > 0) {
    throw new UsageError(
      `${by} asks for ${said(conflicts)}, but the session for ${key} was configured by ${entry.by}` +
        (DEV
          ? '. Every provider and getSession call of one api must give the same security options (or leave them out).'
          : ''),
      { option: conflicts[0]!.given },
    );
  }
  if (differing.length > 0)
    console.warn(
      `auth-shell: ${by} asks for ${said(differing)}; the session for ${key} keeps the options of ${entry.by}.`,
    );
}

/** No page and no worker of one: a server (or Node, Deno, Bun), where sessions are inert. */
const onServer = () =>
  typeof document === 'undefined' &&
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined';
