import { ContextProvider, type ContextCallback } from '@lit/context';
import type { ReactiveElement } from '@lit/reactive-element';
import { authContext, type AuthValue, type ContextSocketOptions } from './auth-context.js';
import { UsageError, type AuthError } from '../core/errors.js';
import type { Session, SessionValue } from '../core/session.js';
import { openSocket } from '../core/socket.js';
import { watchOwner } from './owner.js';

/**
 * Provides `authContext` with one value per consumer: the session's value plus an `openSocket`
 * bound to the consuming element, so its sockets close when it leaves the DOM. Each consumer's
 * value is a new frozen object when the session changes; its functions keep their identity.
 *
 * A provider that could not make a session publishes its `UsageError` instead: consumers then get
 * an anonymous value whose functions fail with that error, so nothing waits for a session forever.
 */
export class AuthContextProvider extends ContextProvider<typeof authContext> {
  #source: Session | AuthError | null = null;
  #unavailable: SessionValue | undefined;
  #values = new WeakMap<Element, { base: SessionValue; value: AuthValue }>();

  constructor(host: ReactiveElement) {
    super(host, { context: authContext });
    // A request made on the provider element itself (`getAuth(provider)`) is its own to answer: Lit's
    // provider leaves requests from its host to the providers above it, and there may be none.
    host.addEventListener('context-request', (event) => {
      const { context, contextTarget, callback, subscribe } = event;
      if (context !== authContext || (contextTarget ?? event.composedPath()[0]) !== host) return;
      event.stopPropagation();
      this.addCallback(callback, host, subscribe);
    });
    // Same loop as ValueNotifier's, with a value per consumer.
    this.updateObservers = () => {
      for (const [callback, { disposer, consumerHost }] of this.subscriptions) {
        const value = this.#valueFor(consumerHost);
        if (value) callback(value, disposer);
      }
    };
  }

  /** Publishes the session's current state (or why there is none) to every consumer. */
  publish(source: Session | AuthError): void {
    this.#source = source;
    this.#unavailable = undefined;
    this.updateObservers();
  }

  /**
   * Before the provider has a session (its first update comes a microtask after it connects, and
   * frameworks create consumers in the same pass) a subscriber is registered and called once there
   * is a value — never with `undefined`. A one-time request is answered only when there is a value.
   */
  override addCallback(callback: ContextCallback<AuthValue>, consumerHost: Element, subscribe?: boolean): void {
    const value = this.#valueFor(consumerHost);
    if (!subscribe) return void (value && callback(value));
    if (!this.subscriptions.has(callback)) {
      this.subscriptions.set(callback, { disposer: () => this.subscriptions.delete(callback), consumerHost });
    }
    if (value) callback(value, this.subscriptions.get(callback)!.disposer);
  }

  #valueFor(consumer: Element): AuthValue | undefined {
    const source = this.#source;
    const base = source instanceof Error ? (this.#unavailable ??= unavailable(source)) : source?.value;
    if (!base) return undefined;
    const cached = this.#values.get(consumer);
    if (cached?.base === base) return cached.value;
    const value = Object.freeze({ ...base, openSocket: cached?.value.openSocket ?? this.#openSocketFor(consumer) });
    this.#values.set(consumer, { base, value });
    return value;
  }

  #openSocketFor(consumer: Element): AuthValue['openSocket'] {
    return (url, { closeOnDisconnect = true, ...options }: ContextSocketOptions = {}) => {
      const session = this.#source;
      if (!session) throw new UsageError('openSocket: the provider has no session');
      if (session instanceof Error) throw session;
      if (!closeOnDisconnect) return openSocket(session, url, options);
      const owner = watchOwner(consumer);
      const signal = options.signal ? AbortSignal.any([options.signal, owner.signal]) : owner.signal;
      const socket = openSocket(session, url, { ...options, signal });
      socket.addEventListener('close', owner.release, { once: true });
      return socket;
    };
  }
}

/** The value of a provider without a session: anonymous, and every function fails with `error`. */
function unavailable(error: AuthError): SessionValue {
  const fail = () => Promise.reject(error);
  return Object.freeze({
    state: 'anonymous',
    user: null,
    ready: Promise.resolve(),
    login: fail,
    logout: fail,
    authFetch: fail,
  });
}
