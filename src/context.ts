import { ContextEvent as ContextRequestEvent, createContext } from '@lit/context';
import type { SessionValue } from './core/session.js';
import type { AuthSocket, SocketOptions } from './core/socket.js';

/** Options of the context value's `openSocket`. */
export interface ContextSocketOptions extends SocketOptions {
  /**
   * A socket opened through the context belongs to the element that asked for the context and
   * closes (1000) when that element leaves the DOM. `false` keeps it open; close it yourself.
   */
  closeOnDisconnect?: boolean;
}

/** The session API as the context gives it: the session's members plus `openSocket`. */
export interface AuthValue extends SessionValue {
  /** Opens an authenticated, reconnecting WebSocket owned by the consuming element. */
  readonly openSocket: (url: string | URL, options?: ContextSocketOptions) => AuthSocket;
}

/**
 * The session API, provided by `<auth-provider>` to its descendants through `@lit/context`.
 * Keyed with `Symbol.for`, so separately bundled copies of auth-shell on one page match.
 *
 * @example
 * ```ts
 * import { ContextConsumer } from '@lit/context';
 * import { authContext } from 'auth-shell';
 * class MyView extends LitElement {
 *   #auth = new ContextConsumer(this, { context: authContext, subscribe: true });
 *   render() { return html`Hello ${this.#auth.value?.user?.name}`; }
 * }
 * ```
 */
export const authContext = createContext<AuthValue>(Symbol.for('auth-shell.context'));

/**
 * Subscribes plain-JS code (no Lit needed) to the nearest provider's session, through the
 * context-request event protocol. `callback` runs now if a provider answers, then on every change.
 * Returns the unsubscribe function.
 *
 * @example
 * ```js
 * const stop = consumeAuth(myElement, (auth) => {
 *   myElement.textContent = auth.state === 'authenticated' ? `Hi ${auth.user.name}` : '';
 * });
 * ```
 */
export function consumeAuth(element: Element, callback: (auth: AuthValue) => void): () => void {
  let unsubscribe: (() => void) | undefined;
  let stopped = false;
  element.dispatchEvent(
    new ContextRequestEvent(
      authContext,
      element,
      (value, stop) => {
        if (stop) unsubscribe = stop;
        if (!stopped && value) callback(value);
      },
      true,
    ),
  );
  return () => {
    stopped = true;
    unsubscribe?.();
  };
}

/**
 * The nearest provider's session API, once. Rejects with a `TypeError` if no `<auth-provider>`
 * above `element` answers (is the element connected, is auth-shell imported?).
 */
export function getAuth(element: Element): Promise<AuthValue> {
  return new Promise((resolve, reject) => {
    let answered = false;
    element.dispatchEvent(
      new ContextRequestEvent(authContext, element, (value) => {
        answered = value !== undefined;
        if (answered) resolve(value);
      }),
    );
    if (!answered) reject(new TypeError('getAuth: no <auth-provider> with a session above this element answered'));
  });
}
