import { ContextRoot, createContext } from '@lit/context';
import type { SessionApi } from '../core/api.js';
import type { SocketOptions } from '../core/socket.js';

/** Options of the context value's `openSocket`. */
export interface ContextSocketOptions extends SocketOptions {
  /**
   * A socket opened through the context belongs to the element that asked for the context and
   * closes (1000) when that element leaves the DOM. `false` keeps it open; close it yourself.
   */
  closeOnDisconnect?: boolean;
}

/**
 * The session API as the context gives it; its `openSocket` belongs to the consuming element (see
 * {@link ContextSocketOptions}).
 */
export type AuthValue = SessionApi<ContextSocketOptions>;

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
