import {
  HttpError,
  NetworkError,
  ProtocolError,
  SocketError,
  TimeoutError,
  UnauthenticatedError,
  UsageError,
  isAuthError,
  type AuthError,
} from './errors.js';
import type { SessionSnapshot } from './events.js';
import type { LinkHandlers, SocketData, SocketLink } from './link.js';
import { resolveUrl } from './origins.js';
import { connect, type Session } from './session.js';

export type { SocketData } from './link.js';

/** Options of {@link openSocket}. Every number is validated; the defaults suit most servers. */
export interface SocketOptions {
  /** Subprotocols, as for `new WebSocket(url, protocols)`. */
  protocols?: string | string[];
  /**
   * Ticket mode, for deployments that keep tokens out of URLs and logs: before each connect,
   * `POST {api}{ticketPath}` with the bearer returns `{ "ticket": "…" }`, a one-time credential that
   * goes in the URL instead of the token. Default `false` (the token goes in the URL).
   */
  ticket?: boolean;
  /** Default `/ws-ticket`. */
  ticketPath?: string;
  /** Query parameter carrying the credential. Default `access_token`, or `ticket` in ticket mode. */
  param?: string;
  /** Reconnect attempts after an abnormal close before giving up. Default 5. */
  maxAttempts?: number;
  /** Base delay in ms of the reconnect backoff (doubled per attempt, with jitter). Default 500. */
  retryDelay?: number;
  /** Cap of the reconnect delay in ms. Default 30000. */
  maxRetryDelay?: number;
  /** ms a connection must stay open before the attempt counter resets. Default 10000. */
  stableAfter?: number;
  /**
   * ms a connection may take to open (the ticket request included) before it counts as failed and
   * the reconnect policy takes over. Default: the session's `timeout` (10000).
   */
  connectTimeout?: number;
  /** Messages kept while not open (sent in order on open). Default 100; more throws `queue-full`. */
  queueLimit?: number;
  /** Closes the socket (1000) when aborted, e.g. when the component that owns it goes away. */
  signal?: AbortSignal;
}

/** `close` event of an {@link AuthSocket}: fired once, when the socket is closed for good. */
export interface AuthSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  /** Messages queued while not open that were never sent: given back, not dropped. */
  readonly unsent: readonly SocketData[];
}

/** `error` event of an {@link AuthSocket}. */
export interface AuthSocketErrorEvent extends Event {
  readonly error: AuthError;
}

/** Events an {@link AuthSocket} dispatches. */
export interface AuthSocketEventMap {
  /** A connection opened (the first and every reconnection). Queued messages were just sent. */
  open: Event;
  message: MessageEvent;
  /** Closed for good: by `close()`, the server's 1000, a logout, a non-recoverable code. */
  close: AuthSocketCloseEvent;
  /** A connection failed or could not be prepared (token, ticket). */
  error: AuthSocketErrorEvent;
  /** A connection closed and will be replaced (the final close is `close`); fired before any refresh. */
  disconnected: CustomEvent<{ code: number; reason: string; wasClean: boolean }>;
  /** A reconnect is scheduled; `code` and `reason` are the server's close that caused it. */
  reconnecting: CustomEvent<{ attempt: number; delay: number; code: number; reason: string }>;
  /** A connection opened again after a loss. */
  reconnected: CustomEvent<{ attempts: number }>;
  /** The last attempt failed; `reconnect()` tries again by hand. */
  giveup: CustomEvent<{ attempts: number; code: number; reason: string }>;
}

/** Closes that mean "the token was refused": refresh once, then reconnect. */
const AUTH_CODES = [1008, 4001];
/** Closes worth reconnecting after: going away, abnormal loss, server error, restart, try again later, bad gateway. */
const TRANSIENT_CODES = [1001, 1005, 1006, 1011, 1012, 1013, 1014];

/**
 * Where an {@link AuthSocket} is. One phase at a time, and at most one timer, whose meaning the
 * phase gives:
 *
 * | phase        | what happens                                               | the timer            | `readyState` |
 * |--------------|------------------------------------------------------------|----------------------|--------------|
 * | `WAITING`    | the session is restoring                                   | —                    | CONNECTING   |
 * | `PREPARING`  | getting a credential (a refresh, a ticket)                 | —                    | CONNECTING   |
 * | `CONNECTING` | the handshake                                              | the handshake timeout | CONNECTING  |
 * | `OPEN`       | connected; messages flow                                   | attempts reset once stable | OPEN   |
 * | `BACKOFF`    | a connection was lost; the next attempt is scheduled       | the next attempt     | CONNECTING   |
 * | `IDLE`       | the last attempt failed (`giveup`); `reconnect()` restarts | —                    | CLOSED       |
 * | `CLOSING`    | `close()` sent the close frame                             | the close fallback   | CLOSING      |
 * | `CLOSED`     | closed for good: no timer, no listener                     | —                    | CLOSED       |
 */
// A const enum: the build inlines each phase as a number.
const enum Phase {
  WAITING,
  PREPARING,
  CONNECTING,
  OPEN,
  BACKOFF,
  IDLE,
  CLOSING,
  CLOSED,
}

/** `WebSocket`'s ready states. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** How long a close handshake may take before the socket counts as closed anyway. */
const CLOSE_FALLBACK = 1000;

/**
 * An authenticated WebSocket that re-authenticates and reconnects. Shaped like `WebSocket`
 * (`send`, `close`, `readyState`, `binaryType`, `url`, the `open`/`message`/`close`/`error` events),
 * plus `reconnecting`, `reconnected` and `giveup` events and `reconnect()`.
 *
 * - The token (or a one-time ticket) is taken fresh at every connect; a stale token is refreshed
 *   first. `url` never contains it, and the `WebSocket` that does stays inside the session.
 * - 1008 / 4001 from the server: refresh once, then reconnect; a refresh answered 401 ends the session
 *   and the socket. 1000 from either side: closed for good. 1001, 1005, 1006, 1011–1014 (and network
 *   loss): reconnect with exponential backoff and jitter, capped, at most `maxAttempts` times; the
 *   count resets once a connection stayed open `stableAfter` ms; `online` and the page becoming
 *   visible retry at once. Other codes: closed for good. A handshake that does not complete within
 *   `connectTimeout` counts as a loss.
 * - The session ending (logout here, in another provider, or a refresh answered 401) closes it with
 *   1000 at once. Opened while the session restores, it waits; opened while anonymous, it fails with
 *   an `error` event (`UnauthenticatedError`) and closes.
 * - Messages sent while not open are queued (bounded) and sent in order on open.
 * - No listener or timer outlives a closed socket.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types addEventListener
export class AuthSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** The endpoint, without any credential. */
  readonly url: string;

  readonly #session: Session;
  readonly #options: Required<Omit<SocketOptions, 'signal' | 'protocols'>> & SocketOptions;
  #phase: Phase = Phase.WAITING;
  /** The phase's timer (see {@link Phase}). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The current connection. The session made it; the credential in its URL never reaches this class. */
  #ws: SocketLink | null = null;
  /** The last connection refused with 1008/4001, so the session can tell if its token was replaced. */
  #refused: SocketLink | undefined;
  #binaryType: BinaryType = 'blob';
  readonly #queue: SocketData[] = [];
  #attempts = 0;
  #everAuthenticated = false;
  #unsubscribe: (() => void) | undefined;

  constructor(session: Session, url: string | URL, options: SocketOptions = {}) {
    super();
    const endpoint = resolveUrl(url, 'openSocket');
    endpoint.protocol = endpoint.protocol.replace(/^http/, 'ws');
    // The credential goes only where the bearer may go: the same exact-origin policy as authFetch
    // (checked here to fail at once, and again by the session at every connect).
    if (
      !/^wss?:$/.test(endpoint.protocol) ||
      !session.options.bearerOrigins.has(endpoint.origin.replace(/^ws/, 'http'))
    ) {
      throw new UsageError(`openSocket: ${endpoint.origin} is not an allowed origin for the token`);
    }
    this.url = endpoint.href;
    this.#session = session;
    const ticket = options.ticket ?? false;
    this.#options = {
      ...options,
      ticket,
      ticketPath: options.ticketPath ?? '/ws-ticket',
      param: options.param ?? (ticket ? 'ticket' : 'access_token'),
      maxAttempts: count(options.maxAttempts, 5, 'maxAttempts'),
      retryDelay: count(options.retryDelay, 500, 'retryDelay'),
      maxRetryDelay: count(options.maxRetryDelay, 30_000, 'maxRetryDelay'),
      stableAfter: count(options.stableAfter, 10_000, 'stableAfter'),
      queueLimit: count(options.queueLimit, 100, 'queueLimit'),
      connectTimeout: count(options.connectTimeout, session.options.timeout, 'connectTimeout') || 1,
    };
    const { signal } = options;
    // After a microtask, so the caller's listeners are in place before anything happens.
    queueMicrotask(() => {
      if (this.#phase === Phase.CLOSED) return;
      if (signal?.aborted) return this.close(1000, 'aborted');
      signal?.addEventListener('abort', this.#onAbort);
      globalThis.addEventListener?.('online', this.#onWake);
      globalThis.document?.addEventListener('visibilitychange', this.#onWake);
      this.#unsubscribe = session.subscribe(this.#onSession);
    });
  }

  /**
   * `CONNECTING` (also while waiting to reconnect, or while the server is closing a connection that
   * will be replaced), `OPEN`, `CLOSING` or `CLOSED` (closed for good, or given up).
   */
  get readyState(): number {
    switch (this.#phase) {
      case Phase.WAITING:
      case Phase.PREPARING:
      case Phase.CONNECTING:
      case Phase.BACKOFF:
        return CONNECTING;
      case Phase.OPEN:
        return this.#ws?.readyState === OPEN ? OPEN : CONNECTING;
      case Phase.CLOSING:
        return CLOSING;
      case Phase.IDLE:
      case Phase.CLOSED:
        return CLOSED;
      default:
        throw new Error(`AuthSocket: unknown phase ${this.#phase satisfies never}`);
    }
  }

  /** As for `WebSocket`: how binary messages arrive (`blob` or `arraybuffer`). */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    this.#binaryType = type;
    if (this.#ws) this.#ws.binaryType = type;
  }

  /** The subprotocol the server chose, once open. */
  get protocol(): string {
    return this.#ws?.protocol ?? '';
  }

  /** Messages waiting for the connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Sends now when open, else queues (in order, up to `queueLimit`). Throws a `SocketError`
   * (`queue-full`, or `socket-closed` once closed for good) rather than dropping a message.
   */
  send(data: SocketData): void {
    if (this.#phase >= Phase.CLOSING)
      throw new SocketError('socket-closed', 'socket: send() after the socket was closed');
    // Only a connection that is really open takes it: one the server is closing would drop it.
    if (this.#ws?.readyState === OPEN) return this.#ws.send(data);
    if (this.#queue.length >= this.#options.queueLimit) {
      throw new SocketError(
        'queue-full',
        `socket: ${this.#queue.length} messages are already waiting for the connection`,
      );
    }
    this.#queue.push(data);
  }

  /** Closes for good (code 1000 or 3000–4999, as WebSocket allows). Nothing reconnects afterwards. */
  close(code = 1000, reason = ''): void {
    if (code !== 1000 && !(code >= 3000 && code <= 4999))
      throw new UsageError(`socket: close code ${code} is not 1000 or 3000–4999`);
    if (this.#phase >= Phase.CLOSING) return;
    const ws = this.#ws;
    if (ws && ws.readyState <= OPEN) {
      ws.close(code, reason);
      // A server that never answers the close handshake does not keep the socket half-open.
      this.#enter(Phase.CLOSING, () => this.#finish(code, reason, false), CLOSE_FALLBACK);
    } else {
      this.#enter(Phase.CLOSING);
      queueMicrotask(() => this.#finish(code, reason, true));
    }
  }

  /** Connects now, with a fresh attempt count: after `giveup`, or to skip a scheduled delay. */
  reconnect(): void {
    if (this.#phase >= Phase.CLOSING)
      throw new SocketError('socket-closed', 'socket: reconnect() after the socket was closed');
    this.#attempts = 0;
    if (this.#phase === Phase.IDLE || this.#phase === Phase.BACKOFF) void this.#connect();
  }

  /** Moves to `phase`; its timer, if any, replaces the previous phase's. */
  #enter(phase: Phase, onTimer?: () => void, delay = 0): void {
    clearTimeout(this.#timer);
    this.#timer = onTimer && setTimeout(onTimer, delay);
    this.#phase = phase;
  }

  // ---- connecting ----

  // Arrow functions: the same identities are added and removed as listeners.
  #onSession = ({ state }: SessionSnapshot): void => {
    if (state === 'authenticated') {
      this.#everAuthenticated = true;
      if (this.#phase === Phase.WAITING) void this.#connect();
    } else if (state === 'anonymous') {
      if (!this.#everAuthenticated)
        this.#emitError(
          new UnauthenticatedError('socket: there is no session to connect with', { operation: 'socket' }),
        );
      this.close(1000, 'session ended');
    }
  };

  #onAbort = (): void => this.close(1000, 'aborted');

  #onWake = (): void => {
    if (this.#phase === Phase.BACKOFF && globalThis.document?.visibilityState !== 'hidden') void this.#connect();
  };

  async #connect(): Promise<void> {
    const { connectTimeout, ticket: ticketMode, param, protocols } = this.#options;
    this.#enter(Phase.PREPARING);
    let ws: SocketLink | null = null;
    // What the connection reports counts only while it is this socket's current one.
    const on: LinkHandlers = {
      open: () => ws === this.#ws && this.#opened(),
      message: (data, origin) => ws === this.#ws && this.dispatchEvent(new MessageEvent('message', { data, origin })),
      error: (detail) =>
        ws === this.#ws && this.#emitError(new NetworkError(`socket: ${detail}`, { operation: 'socket' })),
      close: (code, reason, wasClean) => ws === this.#ws && this.#closed(code, reason, wasClean),
    };
    try {
      const ticket = ticketMode ? await this.#ticket(connectTimeout) : undefined;
      if (ticket !== null && this.#phase === Phase.PREPARING) {
        ws = await connect(this.#session, new URL(this.url), param, protocols, on, ticket, this.#refused);
      }
    } catch (error) {
      if (this.#phase === Phase.PREPARING && !isAuthError(error, 'unauthenticated')) {
        this.#emitError(error as AuthError);
        this.#retry(1006);
      }
      return;
    }
    // No session any more (its listener closes this socket), or closed meanwhile.
    if (ws === null) return;
    if (this.#phase !== Phase.PREPARING) return ws.close(1000);
    ws.binaryType = this.#binaryType;
    this.#ws = ws;
    // A handshake that never completes is a failed attempt like any other (closing it gives 1006).
    this.#enter(Phase.CONNECTING, () => ws!.close(), connectTimeout);
  }

  #opened(): void {
    const ws = this.#ws!;
    this.#enter(Phase.OPEN, () => (this.#attempts = 0), this.#options.stableAfter);
    for (const data of this.#queue.splice(0)) ws.send(data);
    this.dispatchEvent(new Event('open'));
    if (this.#attempts > 0)
      this.dispatchEvent(new CustomEvent('reconnected', { detail: { attempts: this.#attempts } }));
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    const ws = this.#ws;
    this.#ws = null;
    if (this.#phase === Phase.CLOSING || !(AUTH_CODES.includes(code) || TRANSIENT_CODES.includes(code))) {
      return this.#finish(code, reason, wasClean);
    }
    this.#refused = AUTH_CODES.includes(code) ? (ws ?? undefined) : undefined;
    this.#enter(Phase.PREPARING);
    this.dispatchEvent(new CustomEvent('disconnected', { detail: { code, reason, wasClean } }));
    void this.#recover(code, reason);
  }

  /** A fresh one-time ticket (ticket mode), within `timeout` ms; `null` without a session. */
  async #ticket(timeout: number): Promise<string | null> {
    const where = `socket: POST ${this.#options.ticketPath}`;
    // A controller of our own, referenced by its timer until the request ends (WebKit may collect a
    // signal nothing references, and the timeout with it).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    const response = await this.#session
      .authFetch(`${this.#session.options.api.href}${this.#options.ticketPath}`, {
        method: 'POST',
        signal: controller.signal,
      })
      .catch((cause: unknown) => {
        // fetch's TypeError (the network) and the deadline become ours; auth-shell's own errors pass as they are.
        if (isAuthError(cause)) throw cause;
        if (controller.signal.aborted)
          throw new TimeoutError(`${where} timed out after ${timeout} ms`, { operation: 'socket' });
        throw new NetworkError(`${where} failed: the server could not be reached`, { operation: 'socket', cause });
      })
      .finally(() => clearTimeout(timer));
    // authFetch already refreshed and retried; a 401 that ended the session is no failure of ours.
    if (response.status === 401 && this.#session.state !== 'authenticated') return null;
    if (!response.ok) {
      const Failure = response.status >= 500 ? NetworkError : HttpError;
      throw new Failure(`${where} answered ${response.status}`, { status: response.status, operation: 'socket' });
    }
    const body = (await response.json().catch(() => null)) as { ticket?: unknown } | null;
    if (typeof body?.ticket !== 'string')
      throw new ProtocolError(`${where}: the response has no ticket`, { operation: 'socket' });
    return body.ticket;
  }

  async #recover(code: number, reason: string): Promise<void> {
    // The server refused the token: the next connect asks the session for a new one (single-flight
    // with everyone else; skipped if someone already replaced the refused one). A ticket hides its
    // token: refresh here.
    if (AUTH_CODES.includes(code) && this.#options.ticket) {
      try {
        await this.#session.refresh();
      } catch (error) {
        // isAuthError, not instanceof: the session may come from another bundled copy.
        if (isAuthError(error, 'unauthenticated')) return;
        this.#emitError(error as AuthError);
      }
    }
    if (this.#phase === Phase.PREPARING) this.#retry(code, reason);
  }

  #retry(code: number, reason = ''): void {
    const { maxAttempts, retryDelay, maxRetryDelay } = this.#options;
    if (this.#attempts >= maxAttempts) {
      this.#enter(Phase.IDLE);
      this.dispatchEvent(new CustomEvent('giveup', { detail: { attempts: this.#attempts, code, reason } }));
      return;
    }
    const attempt = ++this.#attempts;
    // Right after a successful refresh the new token is the fix: no wait. Otherwise exponential
    // backoff, jittered over its upper half so clients spread out, capped.
    const delay =
      AUTH_CODES.includes(code) && attempt === 1
        ? 0
        : Math.min(maxRetryDelay, retryDelay * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    this.#enter(Phase.BACKOFF, () => void this.#connect(), delay);
    this.dispatchEvent(new CustomEvent('reconnecting', { detail: { attempt, delay, code, reason } }));
  }

  // ---- closing ----

  /** Closed for good: every timer and listener goes, unsent messages are handed back. */
  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#phase === Phase.CLOSED) return;
    this.#enter(Phase.CLOSED);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    globalThis.removeEventListener?.('online', this.#onWake);
    globalThis.document?.removeEventListener('visibilitychange', this.#onWake);
    this.#ws = null;
    const event = Object.assign(new Event('close'), { code, reason, wasClean, unsent: this.#queue.splice(0) });
    this.dispatchEvent(event);
  }

  #emitError(error: AuthError): void {
    this.dispatchEvent(Object.assign(new Event('error'), { error }));
  }
}

// Typed listeners for the socket's events.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- types the class's own listeners
export interface AuthSocket {
  addEventListener<K extends keyof AuthSocketEventMap>(
    type: K,
    listener: (event: AuthSocketEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof AuthSocketEventMap>(
    type: K,
    listener: (event: AuthSocketEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/**
 * Opens an {@link AuthSocket} for `session`: the token (or a one-time ticket) in the URL, fresh at
 * every connect, reconnecting and re-authenticating as described on {@link AuthSocket}. Throws a
 * `UsageError` for a URL whose origin may not receive the token, or bad options.
 *
 * @example
 * ```ts
 * import { getSession, openSocket } from 'auth-shell/core';
 * const socket = openSocket(getSession('/api'), '/api/ws');
 * socket.addEventListener('message', (e) => console.log(e.data));
 * socket.send('hello'); // queued until open
 * ```
 */
export function openSocket(session: Session, url: string | URL, options?: SocketOptions): AuthSocket {
  return new AuthSocket(session, url, options);
}

function count(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value))
    throw new UsageError(`openSocket: ${name} must be a number ≥ 0, not ${value}`);
  return value;
}
