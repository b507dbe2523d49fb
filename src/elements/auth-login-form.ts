import { ContextConsumer } from '@lit/context';
import { ReactiveElement, css, type PropertyDeclarations } from '@lit/reactive-element';
import { authContext } from '../context/auth-context.js';
import { isAuthError } from '../core/errors.js';
import { VERSION } from '../define.js';

// Static markup, parsed once (on first use, so importing needs no document); what changes is set
// in update(). No template library: the whole form is a few property writes.
let markup: HTMLTemplateElement | undefined;
const MARKUP = `<form part="form" novalidate>
<label part="field"><span part="label"></span><input part="input" name="login" autocomplete="username" required></label>
<label part="field"><span part="label"></span><input part="input" name="pass" type="password" autocomplete="current-password" required></label>
<p part="error" role="alert"></p>
<button part="button" type="submit"></button>
</form>`;

/**
 * A default login form for `<auth-gate>`'s `login` slot: labelled inputs, submit on Enter,
 * disabled while pending, the invalid-credentials and network errors shown in an alert region.
 * Lives in its own entry (`auth-shell/login-form`) so hosts with their own form do not pay for it.
 *
 * @summary Login form bound to the nearest `<auth-provider>`.
 * @event auth-login - After a successful login, `detail: { user }`. Bubbles, composed.
 * @csspart form - The `<form>`.
 * @csspart field - Each label + input pair.
 * @csspart label - The label texts.
 * @csspart input - Both inputs.
 * @csspart button - The submit button.
 * @csspart error - The error message.
 * @cssproperty --auth-login-form-gap - Space between fields. Default `0.75rem`.
 * @cssproperty --auth-login-form-max-width - Default `20rem`.
 * @cssproperty --auth-login-form-error-color - Default `#b00020`.
 * @cssproperty --auth-login-form-accent - Button background. Default `#1d4ed8`.
 *
 * @example
 * ```html
 * <auth-gate><auth-login-form slot="login"></auth-login-form>…</auth-gate>
 * ```
 */
export class AuthLoginForm extends ReactiveElement {
  static readonly version = VERSION;

  static override properties = {
    loginLabel: { attribute: 'login-label' },
    passwordLabel: { attribute: 'password-label' },
    submitLabel: { attribute: 'submit-label' },
    pending: { type: Boolean, reflect: true },
    error: {},
  } as const satisfies PropertyDeclarations;

  static override styles = css`
    :host {
      display: block;
      max-width: var(--auth-login-form-max-width, 20rem);
    }
    form {
      display: grid;
      gap: var(--auth-login-form-gap, 0.75rem);
    }
    [part='field'] {
      display: grid;
      gap: 0.25rem;
    }
    input {
      font: inherit;
      padding: 0.4rem 0.5rem;
    }
    button {
      font: inherit;
      padding: 0.5rem;
      color: #fff;
      background: var(--auth-login-form-accent, #1d4ed8);
      border: 0;
      border-radius: 0.25rem;
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.6;
      cursor: progress;
    }
    [part='error'] {
      margin: 0;
      color: var(--auth-login-form-error-color, #b00020);
    }
    [part='error']:empty {
      display: none;
    }
  `;

  /** Default `Login`. */
  declare loginLabel: string;
  /** Default `Password`. */
  declare passwordLabel: string;
  /** Default `Sign in`. */
  declare submitLabel: string;
  /** True while a login request is in flight (reflected). */
  declare pending: boolean;
  /** The message shown, or `''`. */
  declare error: string;

  readonly #auth = new ContextConsumer(this, { context: authContext, subscribe: true });

  constructor() {
    super();
    this.loginLabel = 'Login';
    this.passwordLabel = 'Password';
    this.submitLabel = 'Sign in';
    this.pending = false;
    this.error = '';
  }

  #form!: HTMLFormElement;

  protected override createRenderRoot() {
    const root = super.createRenderRoot();
    markup ??= Object.assign(document.createElement('template'), { innerHTML: MARKUP });
    root.append(markup.content.cloneNode(true));
    this.#form = root.querySelector('form')!;
    this.#form.addEventListener('submit', this.#submit);
    return root;
  }

  protected override update(changed: Map<PropertyKey, unknown>): void {
    super.update(changed);
    const form = this.#form;
    const [login, pass] = form.querySelectorAll('input');
    const [loginLabel, passLabel] = form.querySelectorAll('span');
    loginLabel!.textContent = this.loginLabel;
    passLabel!.textContent = this.passwordLabel;
    form.querySelector('button')!.textContent = this.submitLabel;
    form.querySelector('p')!.textContent = this.error;
    form.setAttribute('aria-busy', String(this.pending));
    for (const input of [login!, pass!, form.querySelector('button')!]) input.disabled = this.pending;
    for (const input of [login!, pass!]) {
      if (this.error) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  // Arrow function: one identity, added once as the form's submit listener.
  #submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (this.pending) return;
    const form = event.currentTarget as HTMLFormElement;
    const login = (form.elements.namedItem('login') as HTMLInputElement).value.trim();
    const passInput = form.elements.namedItem('pass') as HTMLInputElement;
    const auth = this.#auth.value;
    if (!auth) {
      this.error = 'Sign-in is not available (no <auth-provider> found).';
      return;
    }
    if (login === '' || passInput.value === '') {
      this.error = 'Enter your login and password.';
      return;
    }
    this.pending = true;
    this.error = '';
    try {
      const user = await auth.login(login, passInput.value);
      form.reset();
      this.dispatchEvent(new CustomEvent('auth-login', { detail: { user }, bubbles: true, composed: true }));
    } catch (error) {
      this.error = messageFor(error);
      passInput.value = '';
    } finally {
      this.pending = false;
    }
    if (this.error) {
      await this.updateComplete;
      passInput.focus();
    }
  };
}

function messageFor(error: unknown): string {
  if (isAuthError(error, 'invalid-credentials')) return 'Wrong login or password.';
  if (isAuthError(error, 'rate-limited')) {
    const seconds = (error as { retryAfter?: number }).retryAfter;
    return seconds ? `Too many attempts. Try again in ${seconds} s.` : 'Too many attempts. Try again later.';
  }
  if (isAuthError(error, 'usage')) return 'Sign-in is not available on this page.';
  if (isAuthError(error, 'network') || isAuthError(error, 'timeout')) {
    return 'Cannot reach the server. Check your connection and try again.';
  }
  return 'Sign-in failed. Please try again later.';
}

/** The events `<auth-login-form>` dispatches (bubbling, composed), also typed on every element, `document` and `window`. */
export interface AuthLoginFormEventMap {
  /** `<auth-login-form>` logged a user in. */
  'auth-login': CustomEvent<{ user: Readonly<Record<string, unknown>> }>;
}

declare global {
  interface HTMLElementTagNameMap {
    'auth-login-form': AuthLoginForm;
  }
  interface HTMLElementEventMap extends AuthLoginFormEventMap {}
  interface DocumentEventMap extends AuthLoginFormEventMap {}
  interface WindowEventMap extends AuthLoginFormEventMap {}
}
