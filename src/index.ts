/**
 * auth-shell — Web Components for a browser session with a JWT access token in memory and an
 * HttpOnly refresh cookie. Importing this module registers `<auth-provider>` and `<auth-gate>`
 * (guarded: a second copy on the page does not throw) and exports the whole API.
 *
 * @example
 * ```html
 * <script type="module">import 'auth-shell'; import 'auth-shell/login-form';</script>
 * <auth-provider api="/api">
 *   <auth-gate>
 *     <p slot="pending">Loading…</p>
 *     <auth-login-form slot="login"></auth-login-form>
 *     <template><my-dashboard></my-dashboard></template>
 *   </auth-gate>
 * </auth-provider>
 * ```
 * @module
 */
import { ensureContextRoot } from './context/auth-context.js';
import { define } from './define.js';
import { AuthGate } from './elements/auth-gate.js';
import { AuthProvider } from './elements/auth-provider.js';
import { TAGS } from './tags.js';

ensureContextRoot();
define(TAGS.provider, AuthProvider);
define(TAGS.gate, AuthGate);

export { AuthProvider, AuthGate };
export type { GateView } from './elements/auth-gate.js';
export { authContext } from './context/auth-context.js';
export { consumeAuth, getAuth } from './context/consume.js';
export type { AuthValue, ContextSocketOptions } from './context/auth-context.js';
export { VERSION } from './define.js';
export { TAGS, type AuthShellTag } from './tags.js';
export * from './core/index.js';
