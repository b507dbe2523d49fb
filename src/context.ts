import { ContextEvent as ContextRequestEvent, ContextRoot, createContext } from '@lit/context';
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

const ROOT = Symbol.for('auth-shell.context-root');

/**
 * Keeps context requests made before any provider exists (a consumer defined before the provider's
 * bundle loaded) and answers them once a provider connects: one `ContextRoot` on the document for
 * the whole page, whichever copy of auth-shell comes first.
 */
export function ensureContextRoot(): void {
  const global = globalThis as { [ROOT]?: true };
  if (global[ROOT] || typeof document === 'undefined') return;
  Object.defineProperty(globalThis, ROOT, { value: true });
  new ContextRoot().attach(document as unknown as HTMLElement);
}

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
  ensureContextRoot();
  let unsubscribe: (() => void) | undefined;
  let stopped = false;
  const answer = (value: AuthValue, stop?: () => void) => {
    if (stop) unsubscribe = stop;
    if (!stopped && value) callback(value);
  };
  // The ContextRoot holds a pending request's callback weakly: the element keeps it alive.
  const callbacks = answers.get(element) ?? new Set();
  answers.set(element, callbacks.add(answer));
  element.dispatchEvent(new ContextRequestEvent(authContext, element, answer, true));
  return () => {
    stopped = true;
    callbacks.delete(answer);
    unsubscribe?.();
  };
}

/** consumeAuth's callbacks per element, alive as long as the element is. */
const answers = new WeakMap<Element, Set<(value: AuthValue, stop?: () => void) => void>>();

/**
 * The nearest provider's session API, once. Waits for a provider that is not defined yet, up to
 * `timeout` ms (default 10000); then rejects with a `TypeError` (is the element connected, is a
 * provider above it, is auth-shell imported?).
 */
export function getAuth(element: Element, timeout = 10_000): Promise<AuthValue> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new TypeError('getAuth: no <auth-provider> with a session above this element answered'));
    }, timeout);
    const stop = consumeAuth(element, (auth) => {
      clearTimeout(timer);
      queueMicrotask(() => stop()); // later: stop is not assigned yet when a provider answers at once
      resolve(auth);
    });
  });
}
