import { UsageError } from './errors.js';
import { openLink, type LinkHandlers, type SocketLink } from './link.js';

/**
 * Key of a session's socket hook, for the core's socket module — also a socket module from another
 * bundled copy of auth-shell on the page, hence `Symbol.for`. It hands out connections to allowed
 * origins, never the token; any script may call it, as any script may call `authFetch`.
 */
export const CONNECT: unique symbol = Symbol.for('auth-shell.session.connect');

/**
 * Opens a WebSocket to `url` (an allowed origin) with a session's credential in the query
 * parameter `param`: the token (refreshed first when stale; after `refused` was refused, a new one
 * unless someone already replaced it), or the one-time `ticket` given. `null` without a session.
 */
export type Connect = (
  url: URL,
  param: string,
  protocols: string | string[] | undefined,
  on: LinkHandlers,
  ticket?: string,
  refused?: SocketLink,
) => Promise<SocketLink | null>;

/** A session as the socket module sees it: anything with the hook. */
export interface Connectable {
  readonly [CONNECT]: Connect;
}

/** Calls `session`'s hook (see {@link Connect}). For the core's socket module only. */
export const connect = (session: Connectable, ...args: Parameters<Connect>): Promise<SocketLink | null> =>
  session[CONNECT](...args);

/**
 * A session's socket hook: the credential goes only where the bearer may go (`allowed`, whoever
 * calls), and the WebSocket whose URL holds it stays inside — its holder gets a {@link SocketLink}.
 *
 * @param token the session's token fit to send, or — after `used` was refused — the one to retry with.
 */
export function socketHook(
  allowed: (origin: string) => boolean,
  token: (used?: string) => Promise<string | null>,
): Connect {
  // The token each link was opened with, to tell a refused token from a replaced one.
  const links = new WeakMap<SocketLink, string>();
  return async (url, param, protocols, on, ticket, refused) => {
    if (!/^wss?:$/.test(url.protocol) || !allowed(url.origin.replace(/^ws/, 'http'))) {
      throw new UsageError(`openSocket: ${url.origin} is not an allowed origin for the token`);
    }
    const credential = ticket ?? (await token(refused && links.get(refused)));
    if (credential === null) return null;
    const link = openLink(url, param, credential, protocols, on);
    if (!ticket) links.set(link, credential);
    return link;
  };
}
