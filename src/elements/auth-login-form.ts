import { ContextConsumer } from '@lit/context';
import { TAGS } from '../tags.js';
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
<label part="field code" hidden><span part="label"></span><input part="input" name="code" autocomplete="one-time-code" inputmode="numeric"></label>
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
 * @attr {boolean} pending - Set by the element, never read from the page: present while a login
 * request is in flight, for CSS such as `auth-login-form[pending]`.
 * @csspart form - The `<form>`.
 * @csspart field - Each label + input pair.
 * @csspart code - The one-time code's label + input, shown when the server asks for a code.
 * @csspart label - The label texts.
 * @csspart input - Both inputs.
 * @csspart button - The submit button.
 * @csspart error - The error message.
 * @cssproperty [--auth-login-form-gap=0.75rem] - Space between fields.
 * @cssproperty [--auth-login-form-max-width=20rem] - The form's maximum width.
 * @cssproperty [--auth-login-form-error-color=#b00020] - Colour of the error message.
 * @cssproperty [--auth-login-form-accent=#1d4ed8] - Button background.
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
    messages: { type: Object },
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

  /** The login field's label. Default: `Login` in the form's language (see `messages`). */
  declare loginLabel: string | undefined;
  /** The password field's label. Default: `Password` in the form's language. */
  declare passwordLabel: string | undefined;
  /** The button's text. Default: `Sign in` in the form's language. */
  declare submitLabel: string | undefined;
  /**
   * Any of the form's texts, by key (see {@link LoginFormMessages}); as an attribute, JSON. What is
   * not given comes from the defaults for the form's language — the `lang` of the nearest element
   * that has one (English, German), else English.
   */
  declare messages: Partial<LoginFormMessages> | undefined;

  readonly #auth = new ContextConsumer(this, { context: authContext, subscribe: true });
  #pending = false;
  /** The login body's field for the one-time code the server asked for; `''` until it asks. */
  #codeField = '';
  /** The message shown: its key, and the seconds to wait for `rate-limited`. */
  #problem: { key: keyof LoginFormMessages; seconds?: number } | null = null;

  /** True while a login request is in flight (reflected as the `pending` attribute). */
  get pending(): boolean {
    return this.#pending;
  }

  /** The error message shown, in the form's language, or `''`. */
  get error(): string {
    const { key, seconds } = this.#problem ?? {};
    return key ? this.#text(key).replace('{seconds}', String(seconds)) : '';
  }

  /** The text for `key`: from `messages`, else the defaults of the form's language. */
  #text(key: keyof LoginFormMessages): string {
    const lang = (this.closest('[lang]') as HTMLElement | null)?.lang.slice(0, 2).toLowerCase() ?? 'en';
    return this.messages?.[key] ?? (DEFAULTS[lang] ?? DEFAULTS['en']!)[key];
  }

  #show(problem: { key: keyof LoginFormMessages; seconds?: number } | null): void {
    this.#problem = problem;
    this.requestUpdate();
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
    const [login, pass, code] = form.querySelectorAll('input');
    const [loginLabel, passLabel, codeLabel] = form.querySelectorAll('span');
    loginLabel!.textContent = this.loginLabel ?? this.#text('login');
    passLabel!.textContent = this.passwordLabel ?? this.#text('password');
    codeLabel!.textContent = this.#text('code');
    code!.parentElement!.hidden = !this.#codeField;
    code!.required = !!this.#codeField;
    form.querySelector('button')!.textContent = this.submitLabel ?? this.#text('submit');
    form.querySelector('p')!.textContent = this.error;
    form.setAttribute('aria-busy', String(this.#pending));
    this.toggleAttribute('pending', this.#pending);
    for (const input of [login!, pass!, code!, form.querySelector('button')!]) input.disabled = this.#pending;
    for (const input of [login!, pass!]) {
      if (this.#problem) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  // Arrow function: one identity, added once as the form's submit listener.
  #submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (this.#pending) return;
    const form = event.currentTarget as HTMLFormElement;
    const login = (form.elements.namedItem('login') as HTMLInputElement).value.trim();
    const passInput = form.elements.namedItem('pass') as HTMLInputElement;
    const codeInput = form.elements.namedItem('code') as HTMLInputElement;
    const auth = this.#auth.value;
    if (!auth) return this.#show({ key: 'unavailable' });
    if (login === '' || passInput.value === '') return this.#show({ key: 'missing' });
    const code = codeInput.value.trim();
    if (this.#codeField && code === '') return this.#show({ key: 'code-required' });
    this.#pending = true;
    this.#show(null);
    let focus = passInput;
    try {
      const extra = this.#codeField ? { [this.#codeField]: code } : undefined;
      const user = await auth.login(login, passInput.value, extra);
      form.reset();
      this.#codeField = '';
      this.dispatchEvent(new CustomEvent('auth-login', { detail: { user }, bubbles: true, composed: true }));
    } catch (error) {
      this.#problem = problemOf(error);
      codeInput.value = '';
      // The server asks for a one-time code: the same credentials again, with it.
      if (isAuthError(error, 'code-required')) {
        this.#codeField = (error as unknown as { field: string }).field;
        focus = codeInput;
      } else passInput.value = '';
    } finally {
      this.#pending = false;
      this.requestUpdate();
    }
    if (this.#problem) {
      await this.updateComplete;
      focus.focus();
    }
  };
}

/** Every text of the form, by key. `rate-limited` may hold `{seconds}`, the server's delay. */
export interface LoginFormMessages {
  login: string;
  password: string;
  submit: string;
  /** A field was left empty. */
  missing: string;
  /** No session to log in to (no provider, or a provider that is misconfigured). */
  unavailable: string;
  'invalid-credentials': string;
  /** The server could not be reached or timed out. */
  network: string;
  /** Too many attempts; `{seconds}` is replaced by the server's `Retry-After`. */
  'rate-limited': string;
  /** Too many attempts, and the server said no delay. */
  'rate-limited-later': string;
  /** The label of the one-time code's field, shown when the server asks for a code. */
  code: string;
  /** The server asks for a one-time code (a second factor). */
  'code-required': string;
  /** The page and the server are not set up to work together (a wrong api, a missing header…): asking again will not help. */
  setup: string;
  /** Anything else. */
  failed: string;
}

/** The texts shipped, by language. Others come through `messages`. */
const DEFAULTS: Record<string, LoginFormMessages> = {
  en: {
    login: 'Login',
    password: 'Password',
    submit: 'Sign in',
    missing: 'Enter your login and password.',
    unavailable: 'Sign-in is not available on this page.',
    'invalid-credentials': 'Wrong login or password.',
    network: 'Cannot reach the server. Check your connection and try again.',
    'rate-limited': 'Too many attempts. Try again in {seconds} s.',
    'rate-limited-later': 'Too many attempts. Try again later.',
    code: 'One-time code',
    'code-required': 'Enter the one-time code from your authenticator app.',
    setup: 'Sign-in is not set up correctly on this page. Please tell the site’s team.',
    failed: 'Sign-in failed. Please try again later.',
  },
  de: {
    login: 'Benutzername',
    password: 'Passwort',
    submit: 'Anmelden',
    missing: 'Bitte Benutzername und Passwort eingeben.',
    unavailable: 'Die Anmeldung ist auf dieser Seite nicht verfügbar.',
    'invalid-credentials': 'Benutzername oder Passwort ist falsch.',
    network: 'Der Server ist nicht erreichbar. Bitte Verbindung prüfen und erneut versuchen.',
    'rate-limited': 'Zu viele Versuche. Bitte in {seconds} s erneut versuchen.',
    'rate-limited-later': 'Zu viele Versuche. Bitte später erneut versuchen.',
    code: 'Einmalcode',
    'code-required': 'Bitte den Einmalcode aus der Authenticator-App eingeben.',
    setup: 'Die Anmeldung ist auf dieser Seite nicht richtig eingerichtet. Bitte das Team der Website informieren.',
    failed: 'Die Anmeldung ist fehlgeschlagen. Bitte später erneut versuchen.',
  },
};

/** The message for a failed login, chosen by the error's `code`. */
function problemOf(error: unknown): { key: keyof LoginFormMessages; seconds?: number } {
  if (isAuthError(error, 'invalid-credentials')) return { key: 'invalid-credentials' };
  if (isAuthError(error, 'rate-limited')) {
    const seconds = (error as { retryAfter?: number }).retryAfter;
    return seconds ? { key: 'rate-limited', seconds } : { key: 'rate-limited-later' };
  }
  if (isAuthError(error, 'usage')) return { key: 'unavailable' };
  if (isAuthError(error, 'code-required')) return { key: 'code-required' };
  if (isAuthError(error, 'setup')) return { key: 'setup' };
  if (isAuthError(error, 'network') || isAuthError(error, 'timeout')) return { key: 'network' };
  return { key: 'failed' };
}

/** The events `<auth-login-form>` dispatches (bubbling, composed), also typed on every element, `document` and `window`. */
export interface AuthLoginFormEventMap {
  /** `<auth-login-form>` logged a user in. */
  'auth-login': CustomEvent<{ user: Readonly<Record<string, unknown>> }>;
}

declare global {
  /* eslint-disable @typescript-eslint/no-empty-object-type -- merged into the global event maps */
  interface HTMLElementTagNameMap {
    [TAGS.loginForm]: AuthLoginForm;
  }
  interface HTMLElementEventMap extends AuthLoginFormEventMap {}
  interface DocumentEventMap extends AuthLoginFormEventMap {}
  interface WindowEventMap extends AuthLoginFormEventMap {}
  /* eslint-enable @typescript-eslint/no-empty-object-type */
}
