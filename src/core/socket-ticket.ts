/**
 * Ticket mode's credential (`openSocket(…, { ticket: true })`): a one-time ticket from
 * `POST {api}{ticketPath}`, asked with the bearer before each connect. Its own chunk, loaded by the
 * socket runner on the first connect in ticket mode: sockets that carry the token never download it.
 */
import type { Core, RunOptions } from './socket-runner.js';
import type { Session } from './session.js';

/** A fresh one-time ticket within `connectTimeout` ms; `null` when the session ended meanwhile. */
export async function ticket(
  { isAuthError, NetworkError, TimeoutError, HttpError, ProtocolError }: Core,
  session: Session,
  { connectTimeout: timeout, ticketPath }: RunOptions,
): Promise<string | null> {
  const where = `socket: POST ${ticketPath}`;
  // A controller of our own, referenced by its timer until the request ends (WebKit may collect a
  // signal nothing references, and the timeout with it).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const response = await session
    .authFetch(`${session.options.api.href}${ticketPath}`, { method: 'POST', signal: controller.signal })
    .catch((cause: unknown) => {
      // fetch's TypeError (the network) and the deadline become ours; auth-shell's own errors pass as they are.
      if (isAuthError(cause)) throw cause;
      if (controller.signal.aborted)
        throw new TimeoutError(`${where} timed out after ${timeout} ms`, { operation: 'socket' });
      throw new NetworkError(`${where} failed: the server could not be reached`, { operation: 'socket', cause });
    })
    .finally(() => clearTimeout(timer));
  const { status } = response;
  // authFetch already refreshed and retried; a 401 that ended the session is no failure of ours.
  if (status === 401 && session.state !== 'authenticated') return null;
  if (!response.ok) {
    const Failure = status >= 500 ? NetworkError : HttpError;
    throw new Failure(`${where} answered ${status}`, { status, operation: 'socket' });
  }
  const body = (await response.json().catch(() => null)) as { ticket?: unknown } | null;
  if (typeof body?.ticket !== 'string')
    throw new ProtocolError(`${where}: the response has no ticket`, { operation: 'socket' });
  return body.ticket;
}
