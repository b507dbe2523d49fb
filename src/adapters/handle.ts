import type { SessionApi } from '../core/api.js';
import type { AuthError } from '../core/errors.js';
import { hasRole } from '../core/roles.js';
import type { Session, SessionValue } from '../core/session.js';
import { openSocket, type SocketOptions } from '../core/socket.js';

export { DEFAULT_API, sessionOf, type SessionSource } from '../core/guard.js';

/**
 * What the framework adapters give a component: the session API (see `SessionApi`) and what is
 * derived from it for templates. A new frozen object on every change of state, user or `error`;
 * `login`, `logout`, `authFetch`, `openSocket` and `ready` keep their identity for the session's
 * lifetime. Its sockets belong to no component: close them when the component goes away, or pass
 * a `signal`.
 */
export interface AuthHandle extends SessionApi {
  /** `true` while the session restores (`state === 'restoring'`): show a placeholder, not the login. */
  readonly isLoading: boolean;
  /** `true` when someone is signed in (`state === 'authenticated'`). */
  readonly isAuthenticated: boolean;
  /**
   * The last failure nobody awaited — a restore or a background refresh that could not reach the
   * server, a malformed answer: the session's `error` event — or `null`. Failures of calls you
   * await (`login`, `logout`) are theirs, not this. Cleared when the session next succeeds at
   * something: a restore, a login, a refresh or a logout, here or in another tab. Seen from the
   * moment the first adapter on the page looks at the session.
   */
  readonly error: AuthError | null;
  /**
   * Whether the user holds one of `role` (one, several space-separated, or a list): the token's
   * `role` claim or one of its `roles` (see `hasRole` in `auth-shell/core`). `false` without a user.
   * A view choice only: the server decides. The same function until the user changes, so it is
   * correct in dependency lists.
   */
  readonly hasRole: (role: string | readonly string[]) => boolean;
}

interface Handles {
  /** The session value the current handle was made from: a new one means a change. */
  value: SessionValue | null;
  /** The last failure nobody awaited, or `null` (see {@link AuthHandle.error}). */
  error: AuthError | null;
  current: AuthHandle | null;
  /** The handle as a server renders it (and hydration must first see): `restoring`, no user. */
  server: AuthHandle | null;
  /** Called when `error` changes (state and user changes reach subscribers through the session). */
  readonly listeners: Set<() => void>;
  readonly subscribe: (listener: () => void) => () => void;
}

// Per session, so every component of every framework on the page gets the same objects: equal
// values compare equal (no extra renders) and the functions never change identity.
const handles = new WeakMap<Session, Handles>();

function entry(session: Session): Handles {
  let found = handles.get(session);
  if (!found) {
    const listeners = new Set<() => void>();
    const made: Handles = (found = {
      value: null,
      error: null,
      current: null,
      server: null,
      listeners,
      // Stable per session: React resubscribes when it changes.
      subscribe: (listener) => {
        const notify = () => listener();
        listeners.add(notify);
        const stop = session.subscribe(notify);
        return () => {
          listeners.delete(notify);
          stop();
        };
      },
    });
    handles.set(session, made);
    // One listener of each for the session's lifetime, added before any subscriber's, so `error`
    // is up to date when they read the handle.
    const set = (error: AuthError | null) => {
      if (made.error === error) return;
      made.error = error;
      for (const listener of [...listeners]) listener();
    };
    session.addEventListener('error', (event) => set(event.detail.error));
    session.addEventListener('activity', (event) => void (event.detail.phase === 'success' && set(null)));
  }
  const value = session.value;
  const previous = found.current;
  if (found.value !== value || previous?.error !== found.error) {
    const { state, user } = value;
    const current: AuthHandle = Object.freeze({
      ...value,
      openSocket:
        previous?.openSocket ?? ((url: string | URL, options?: SocketOptions) => openSocket(session, url, options)),
      isLoading: state === 'restoring',
      isAuthenticated: state === 'authenticated',
      error: found.error,
      hasRole:
        previous && previous.user === user
          ? previous.hasRole
          : (role: string | readonly string[]) => hasRole(user, role),
    });
    found.server ??= Object.freeze({
      ...current,
      state: 'restoring',
      user: null,
      isLoading: true,
      isAuthenticated: false,
      error: null,
      hasRole: () => false,
    });
    found.value = value;
    found.current = current;
  }
  return found;
}

/** The handle of `session` now: the same object until its state, user or error changes. */
export const handleOf = (session: Session): AuthHandle => entry(session).current!;

/**
 * The handle a server renders for `session` — `restoring`, no user, no error, the same functions —
 * which a page hydrating that markup must render first, whatever the session already knows.
 */
export const serverHandleOf = (session: Session): AuthHandle => entry(session).server!;

/**
 * Subscribes `listener` to every change of `session`'s handle (state, user, error): called now, as
 * `session.subscribe` does, and after each change. Returns the unsubscribe function. The same
 * function for a session every time.
 */
export const subscribeOf = (session: Session): ((listener: () => void) => () => void) => entry(session).subscribe;
