import { ContextEvent as ContextRequestEvent } from '@lit/context';
import { DEV } from '../core/dev.js';
import { authContext, ensureContextRoot, type AuthValue } from './auth-context.js';

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
      reject(
        new TypeError(
          `getAuth: no <auth-provider> answered${DEV ? ' (is one above this element, with a session?)' : ''}`,
        ),
      );
    }, timeout);
    const stop = consumeAuth(element, (auth) => {
      clearTimeout(timer);
      queueMicrotask(() => stop()); // later: stop is not assigned yet when a provider answers at once
      resolve(auth);
    });
  });
}
