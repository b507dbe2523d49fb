import { getSession } from '../core/registry.js';
import type { SessionApi } from '../core/api.js';
import type { Session, SessionValue } from '../core/session.js';
import { openSocket } from '../core/socket.js';

/**
 * What the framework adapters give a component: the session API (see `SessionApi`). A new frozen
 * object on every change of state or user; its functions keep their identity for the session's
 * lifetime. Its sockets belong to no component: close them when the component goes away, or pass a
 * `signal`.
 */
export type AuthHandle = SessionApi;

/** Where an adapter finds its session: the api of the page's `<auth-provider>`, or a session. */
export type SessionSource = string | Session;

/**
 * The api the adapters use when none is given: the one the documentation's providers and the
 * reference backend use. Pages whose provider says otherwise pass their api.
 */
export const DEFAULT_API = '/api';

/** The session for `source`: the page's shared session for an api, or the session given. */
export const sessionOf = (source: SessionSource = DEFAULT_API): Session =>
  typeof source === 'string' ? getSession(source) : source;

interface Handles {
  /** The session value the current handle was made from: a new one means a change. */
  value: SessionValue;
  current: AuthHandle;
  /** The handle as a server renders it (and hydration must first see): `restoring`, no user. */
  server: AuthHandle;
}

// Per session, so every component of every framework on the page gets the same objects: equal
// values compare equal (no extra renders) and the functions never change identity.
const handles = new WeakMap<Session, Handles>();

function entry(session: Session): Handles {
  const value = session.value;
  const found = handles.get(session);
  if (found?.value === value) return found;
  const open = found?.current.openSocket ?? ((url, options) => openSocket(session, url, options));
  const current: AuthHandle = Object.freeze({ ...value, openSocket: open });
  const server = found?.server ?? Object.freeze({ ...current, state: 'restoring', user: null });
  const created = { value, current, server };
  handles.set(session, created);
  return created;
}

/** The handle of `session` now: the same object until its state or user changes. */
export const handleOf = (session: Session): AuthHandle => entry(session).current;

/**
 * The handle a server renders for `session` — `restoring`, no user, the same functions — which a
 * page hydrating that markup must render first, whatever the session already knows.
 */
export const serverHandleOf = (session: Session): AuthHandle => entry(session).server;
