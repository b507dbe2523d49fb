import { backoff } from './backoff.js';
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
import type { SocketData } from './link.js';
import { resolveUrl } from './origins.js';
import type { Session } from './session.js';
import { connect } from './socket-hook.js';
import type { Phase } from './socket-machine.js';
import type { Core, RunOptions, Runner, Shown } from './socket-runner.js';

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

/** What the socket chunk uses of the core (see {@link Core}). */
const CORE: Core = {
  connect,
  backoff,
  isAuthError,
  NetworkError,
  TimeoutError,
  HttpError,
  ProtocolError,
};

/** `WebSocket`'s ready states. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

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
 * - Messages sent while not open are queued (bounded) and sent in order, before `open` is dispatched.
 * - No listener or timer outlives a closed socket.
 *
 * This class is what every page carries: the options, the queue, `readyState` and the events. What
 * it does is decided by the socket table (socket-machine.ts) and carried out by socket-runner.ts,
 * loaded with `import()` when a page first opens a socket.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below only types addEventListener
export class AuthSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  /** The endpoint, without any credential. */
  readonly url: string;

  readonly #queue: SocketData[] = [];
  readonly #queueLimit: number;
  #binaryType: BinaryType = 'blob';
  /**
   * The connection work (socket-runner.ts, with the socket machine), loaded on first use. Until it
   * runs, this class answers alone: it queues, and a `close()` ends the socket without it.
   */
  #runner: Runner | undefined;
  /** The phase until the runner takes over: `waiting`, or `closing` then `closed` after an early `close()`. */
  #early: Phase = 'waiting';

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
    const ticket = options.ticket ?? false;
    const resolved: RunOptions = {
      protocols: options.protocols,
      signal: options.signal,
      ticket,
      ticketPath: options.ticketPath ?? '/ws-ticket',
      param: options.param ?? (ticket ? 'ticket' : 'access_token'),
      maxAttempts: count(options.maxAttempts, 5, 'maxAttempts'),
      retryDelay: count(options.retryDelay, 500, 'retryDelay'),
      maxRetryDelay: count(options.maxRetryDelay, 30_000, 'maxRetryDelay'),
      stableAfter: count(options.stableAfter, 10_000, 'stableAfter'),
      connectTimeout: count(options.connectTimeout, session.options.timeout, 'connectTimeout') || 1,
    };
    this.#queueLimit = count(options.queueLimit, 100, 'queueLimit');
    // Taken now: a session that ends before the code below has loaded is a logout, not a socket
    // opened while anonymous.
    const authenticated = session.state === 'authenticated';
    // Asynchronous in any case, so the caller's listeners are in place before anything happens.
    import('./socket-runner.js').then(
      ({ run }) => {
        if (this.#early !== 'waiting') return; // closed meanwhile
        (this.#runner = run(CORE, this, session, resolved, this.#queue, this.#show, authenticated)).start();
      },
      (cause: unknown) => {
        if (this.#early !== 'waiting') return;
        const error = new NetworkError('socket: its code could not be loaded', { operation: 'socket', cause });
        this.#show({ type: 'error', error });
        this.#show({ type: 'finish', code: 1006, reason: '', wasClean: false });
      },
    );
  }

  /**
   * `CONNECTING` (also while waiting to reconnect, or while the server is closing a connection that
   * will be replaced), `OPEN`, `CLOSING` or `CLOSED` (closed for good, or given up).
   */
  get readyState(): number {
    const phase = this.#phase;
    return phase === 'open'
      ? // An open connection the server is closing will be replaced.
        this.#runner!.link?.readyState === OPEN
        ? OPEN
        : CONNECTING
      : phase === 'closing'
        ? CLOSING
        : phase === 'idle' || phase === 'closed'
          ? CLOSED
          : CONNECTING;
  }

  get #phase(): Phase {
    return this.#runner?.phase ?? this.#early;
  }

  /** As for `WebSocket`: how binary messages arrive (`blob` or `arraybuffer`). */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    this.#binaryType = type;
    const link = this.#runner?.link;
    if (link) link.binaryType = type;
  }

  /** The subprotocol the server chose, once open. */
  get protocol(): string {
    return this.#runner?.link?.protocol ?? '';
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
    this.#open('send');
    // Only a connection that is really open takes it: one the server is closing would drop it.
    const link = this.#runner?.link;
    if (link?.readyState === OPEN) return link.send(data);
    if (this.#queue.length >= this.#queueLimit) {
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
    if (this.#runner) return this.#runner.close(code, reason);
    if (this.#early !== 'waiting') return;
    this.#early = 'closing';
    queueMicrotask(() => this.#show({ type: 'finish', code, reason, wasClean: true }));
  }

  /** Connects now, with a fresh attempt count: after `giveup`, or to skip a scheduled delay. */
  reconnect(): void {
    this.#open('reconnect');
    this.#runner?.reconnect();
  }

  /** Throws `socket-closed` once the socket is closing or closed for good. */
  #open(method: string): void {
    const phase = this.#phase;
    if (phase === 'closing' || phase === 'closed')
      throw new SocketError('socket-closed', `socket: ${method}() after the socket was closed`);
  }

  /**
   * Dispatches what the page sees. `finish` is the final `close`, with the messages that were never
   * sent handed back. An arrow function: the runner holds it.
   */
  #show = (effect: Shown): void => {
    const { type } = effect;
    let event: Event;
    if (type === 'finish') {
      this.#early = 'closed';
      const { code, reason, wasClean } = effect;
      event = Object.assign(new Event('close'), { code, reason, wasClean, unsent: this.#queue.splice(0) });
    } else if (type === 'error' || type === 'unauthenticated') {
      const error =
        type === 'error'
          ? effect.error
          : new UnauthenticatedError('socket: there is no session to connect with', { operation: 'socket' });
      event = Object.assign(new Event('error'), { error });
    } else if (type === 'open') event = new Event(type);
    else if (type === 'message') event = new MessageEvent(type, effect.detail);
    else event = new CustomEvent(type, { detail: effect.detail });
    this.dispatchEvent(event);
  };
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
