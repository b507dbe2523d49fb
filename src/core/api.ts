import type { SessionValue } from './session.js';
import type { AuthSocket, SocketOptions } from './socket.js';

/**
 * The session API as every holder gets it — the context value, the framework adapters' handles and
 * `<auth-provider>` itself: the session's value (`state`, `user`, `ready`, `login`, `logout`,
 * `authFetch`) plus `openSocket` on the same session, stated once here.
 */
export interface SessionApi<O extends SocketOptions = SocketOptions> extends SessionValue {
  /** Opens an authenticated, reconnecting WebSocket on the session (see `AuthSocket`). */
  readonly openSocket: (url: string | URL, options?: O) => AuthSocket;
}
