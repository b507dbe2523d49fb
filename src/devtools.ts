/**
 * auth-shell/devtools — registers `<auth-devtools>`, a live timeline of a session (activity, state,
 * errors, tab hand-overs, sockets) for the page you are building. Its own entry: pages that do not
 * use it do not pay for it, and it can be left out of production builds.
 *
 * @example
 * ```html
 * <script type="module">
 *   import 'auth-shell';
 *   import 'auth-shell/devtools';
 * </script>
 * <auth-provider api="/api">
 *   …
 *   <auth-devtools></auth-devtools>
 * </auth-provider>
 * ```
 * @module
 */
import { ensureContextRoot } from './context/auth-context.js';
import { define } from './define.js';
import { AuthDevtools } from './elements/auth-devtools.js';
import { TAGS } from './tags.js';

ensureContextRoot();
define(TAGS.devtools, AuthDevtools);

export { AuthDevtools };
export type { DevtoolsEntry, DevtoolsKind, DevtoolsTone } from './elements/auth-devtools.js';
