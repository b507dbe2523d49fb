/**
 * auth-shell/login-form — registers `<auth-login-form>`, the default form for `<auth-gate>`'s
 * `login` slot. Hosts with their own form do not import it and do not pay for it.
 *
 * @example
 * ```js
 * import 'auth-shell';
 * import 'auth-shell/login-form';
 * ```
 * @module
 */
import { ensureContextRoot } from './context/auth-context.js';
import { define } from './define.js';
import { AuthLoginForm } from './elements/auth-login-form.js';
import { TAGS } from './tags.js';

ensureContextRoot();
define(TAGS.loginForm, AuthLoginForm);

export { AuthLoginForm };
export type { LoginFormMessages } from './elements/auth-login-form.js';
