/**
 * Carries out what the socket machine (socket-machine.ts) decides, for one `AuthSocket`: it turns
 * the session's state, `online` and `visibilitychange`, the abort signal, what the connection
 * reports (link.ts) and the timer into the machine's events, and performs the effects it returns
 * (the credential through the session's hook, the ticket request, the timer, the events). It takes
 * no decision of its own.
 *
 * The facade (socket.ts) loads this module with `import()` when a socket is first opened, so a page
 * that never opens one never downloads it, and hands it what it uses of the core ({@link Core}).
 */
import type { backoff } from './backoff.js';
import type { HttpError, NetworkError, ProtocolError, TimeoutError, isAuthError } from './errors.js';
import type { LinkHandlers, SocketData, SocketLink } from './link.js';
import type { Session } from './session.js';
import type { connect } from './socket-hook.js';
import { initial, transition, type Effect, type Phase, type SocketEvent } from './socket-machine.js';

/**
 * What the runner uses of the core, handed over by the facade rather than imported: this chunk then
 * shares no module with the page's bundle, and a bundler that splits code has no shared chunk to
 * make — which every page would load as one more file.
 */
export interface Core {
  readonly connect: typeof connect;
  readonly backoff: typeof backoff;
  readonly isAuthError: typeof isAuthError;
  readonly NetworkError: typeof NetworkError;
  readonly TimeoutError: typeof TimeoutError;
  readonly HttpError: typeof HttpError;
  readonly ProtocolError: typeof ProtocolError;
}

/** The socket's options, validated and completed by the facade. */
export interface RunOptions {
  readonly protocols: string | string[] | undefined;
  readonly ticket: boolean;
  readonly ticketPath: string;
  readonly param: string;
  readonly maxAttempts: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly stableAfter: number;
  readonly connectTimeout: number;
  readonly signal: AbortSignal | undefined;
}

/** The facade, as this module sees it: its endpoint and its `binaryType`. */
export interface Host {
  readonly url: string;
  readonly binaryType: BinaryType;
}

/** The effects that the page sees: the facade turns each into the socket's event (`finish` into `close`). */
export type Shown = Exclude<Effect, { type: 'connect' | 'timer' | 'flush' | 'refresh' | 'shut' }>;

/** What the facade asks of a running socket. */
export interface Runner {
  /** Where the socket is: the facade derives `readyState` from it. */
  readonly phase: Phase;
  /** The current connection, if any. */
  readonly link: SocketLink | null;
  close(code: number, reason: string): void;
  reconnect(): void;
  /** Starts listening: apart from `run`, so that the facade holds the runner before anything happens. */
  start(): void;
}

/** `WebSocket`'s OPEN. */
const OPEN = 1;

/**
 * Runs one socket: from now on its session, listeners, connections and timer are handled here.
 *
 * @param host the facade
 * @param queue the facade's queue of unsent messages, flushed on open
 * @param show the facade's events: it dispatches what the page sees (`close` with the unsent messages)
 * @param authenticated the session was authenticated when the socket was opened
 */
export function run(
  core: Core,
  host: Host,
  session: Session,
  options: RunOptions,
  queue: SocketData[],
  show: (effect: Shown) => void,
  authenticated: boolean,
): Runner {
  const { connect, isAuthError, NetworkError } = core;
  const { signal, retryDelay, maxRetryDelay } = options;
  // The one jittered backoff of auth-shell (backoff.ts), whose attempts count from 0.
  const delay = (attempt: number) => core.backoff(attempt - 1, retryDelay, maxRetryDelay);
  let record = initial({ ...options, delay }, authenticated);
  /** The phase's timer: cleared when the phase changes (the machine's invariant 1). */
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The current connection. The session made it; the credential in its URL never reaches this module. */
  let link: SocketLink | null = null;
  /** The last connection that closed: the one to name to the session when the machine says it was refused. */
  let lost: SocketLink | undefined;
  /** Removes every listener of this socket at once, the session's too. */
  const stop = new AbortController();
  const listening = { signal: stop.signal };

  /** The link can still take a close frame. */
  const live = () => (link?.readyState ?? 3) <= OPEN;

  /** Feeds `event` to the machine and performs its effects; `false` when it was ignored. */
  const step = (event: SocketEvent): boolean => {
    const before = record;
    const next = transition(before, event);
    if (next.ignored) return false;
    record = next.record;
    if (record.phase !== before.phase) clearTimeout(timer);
    for (const effect of next.effects) {
      // A listener of an event dispatched here moved the machine on: the rest is stale.
      if (record !== next.record) break;
      perform(effect);
    }
    return true;
  };

  const perform = (effect: Effect): void => {
    switch (effect.type) {
      case 'connect':
        return void open(effect.gen, effect.refused);
      case 'timer': {
        clearTimeout(timer);
        const fire = () => void step(effect.event);
        // 0: at the end of this task (a timeout would wait for the throttled timers of a hidden page).
        if (effect.ms) timer = setTimeout(fire, effect.ms);
        else queueMicrotask(fire);
        return;
      }
      case 'flush':
        for (const data of queue.splice(0)) link!.send(data);
        return;
      case 'refresh': {
        const { gen } = effect;
        return void session.refresh().then(
          () => step({ type: 'refreshed', gen }),
          // isAuthError, not instanceof: the session may come from another bundled copy. A refresh
          // answered 401 ended the session: its listener closes the socket.
          (error: unknown) => isAuthError(error, 'unauthenticated') || step({ type: 'refreshed', gen, error }),
        );
      }
      case 'shut':
        return link?.close(effect.code, effect.reason);
      case 'finish':
        stop.abort();
        link = null;
        return show(effect); // the page sees `close`
      default:
        show(effect);
    }
  };

  /** A credential and a link from the session for attempt `gen`, reported as `linked` or `failed`. */
  const open = async (gen: number, refused: boolean): Promise<void> => {
    let made: SocketLink | null = null;
    // What a link reports carries its attempt's gen: the machine drops what an older one says.
    const on: LinkHandlers = {
      open: () => step({ type: 'opened', gen }),
      message: (data, origin) => step({ type: 'message', gen, data, origin }),
      error: (detail) =>
        step({ type: 'error', gen, error: new NetworkError(`socket: ${detail}`, { operation: 'socket' }) }),
      close: (code, reason, wasClean) => {
        if (made === link) {
          lost = made!;
          link = null;
        }
        step({ type: 'closed', gen, code, reason, wasClean });
      },
    };
    try {
      const credential = options.ticket
        ? await (await import('./socket-ticket.js')).ticket(core, session, options)
        : undefined;
      // Asks the machine whether the attempt is still current: one closed meanwhile opens nothing.
      if (credential !== null && !transition(record, { type: 'linked', gen }).ignored) {
        const url = new URL(host.url);
        made = await connect(
          session,
          url,
          options.param,
          options.protocols,
          on,
          credential,
          refused ? lost : undefined,
        );
      }
    } catch (error) {
      // Without a session there is nothing to report: its listener closes this socket.
      if (!isAuthError(error, 'unauthenticated')) step({ type: 'failed', gen, error });
      return;
    }
    if (made === null) return;
    made.binaryType = host.binaryType;
    // A link for an attempt that is no longer current is closed at once, never adopted.
    if (step({ type: 'linked', gen })) link = made;
    else made.close(1000);
  };

  const close = (code: number, reason: string) => void step({ type: 'close', code, reason, live: live() });

  const start = () => {
    if (signal?.aborted) return close(1000, 'aborted');
    signal?.addEventListener('abort', () => close(1000, 'aborted'), listening);
    // `online`, and the page becoming visible, retry at once.
    const wake = () => globalThis.document?.visibilityState !== 'hidden' && step({ type: 'wake' });
    globalThis.addEventListener?.('online', wake, listening);
    globalThis.document?.addEventListener('visibilitychange', wake, listening);
    const unsubscribe = session.subscribe(({ state }) => {
      if (state === 'authenticated') step({ type: state });
      else if (state === 'anonymous') step({ type: state, live: live() });
    });
    // Called as the socket finishes (`finish` aborts `stop`; the session's own listener goes too).
    stop.signal.addEventListener('abort', unsubscribe);
  };

  return {
    get phase() {
      return record.phase;
    },
    get link() {
      return link;
    },
    close,
    reconnect: () => void step({ type: 'reconnect' }),
    start,
  };
}
