import { ContextProvider, type ContextCallback } from '@lit/context';
import type { ReactiveElement } from '@lit/reactive-element';
import { authContext, type AuthValue, type ContextSocketOptions } from './auth-context.js';
import { UsageError } from '../core/errors.js';
import type { Session, SessionValue } from '../core/session.js';
import { openSocket } from '../core/socket.js';
import { watchOwner } from './owner.js';

/**
 * Provides `authContext` with one value per consumer: the session's value plus an `openSocket`
 * bound to the consuming element, so its sockets close when it leaves the DOM. Each consumer's
 * value is a new frozen object when the session changes; its functions keep their identity.
 */
export class AuthContextProvider extends ContextProvider<typeof authContext> {
  #session: Session | null = null;
  #values = new WeakMap<Element, { base: SessionValue; value: AuthValue }>();

  constructor(host: ReactiveElement) {
    super(host, { context: authContext });
    // Same loop as ValueNotifier's, with a value per consumer.
    this.updateObservers = () => {
      for (const [callback, { disposer, consumerHost }] of this.subscriptions) {
        const value = this.#valueFor(consumerHost);
        if (value) callback(value, disposer);
      }
    };
  }

  /** Publishes the session's current state to every consumer. */
  publish(session: Session): void {
    this.#session = session;
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
    const base = this.#session?.value;
    if (!base) return undefined;
    const cached = this.#values.get(consumer);
    if (cached?.base === base) return cached.value;
    const value = Object.freeze({ ...base, openSocket: cached?.value.openSocket ?? this.#openSocketFor(consumer) });
    this.#values.set(consumer, { base, value });
    return value;
  }

  #openSocketFor(consumer: Element): AuthValue['openSocket'] {
    return (url, { closeOnDisconnect = true, ...options }: ContextSocketOptions = {}) => {
      if (!this.#session) throw new UsageError('openSocket: the provider has no session');
      if (!closeOnDisconnect) return openSocket(this.#session, url, options);
      const owner = watchOwner(consumer);
      const signal = options.signal ? AbortSignal.any([options.signal, owner.signal]) : owner.signal;
      const socket = openSocket(this.#session, url, { ...options, signal });
      socket.addEventListener('close', owner.release, { once: true });
      return socket;
    };
  }
}
