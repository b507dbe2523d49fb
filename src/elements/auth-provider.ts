import { ReactiveElement, css, type PropertyDeclaration } from '@lit/reactive-element';
import { TAGS } from '../tags.js';
import type { SessionApi } from '../core/api.js';
import { UsageError, isAuthError, type AuthError } from '../core/errors.js';
import type { Activity, SessionErrorDetail, SessionSnapshot, SessionState } from '../core/events.js';
import type { AuthFetch } from '../core/fetch.js';
import type { EndpointMethod, SessionOptions } from '../core/options.js';
import { DEV } from '../core/dev.js';
import { findSession } from '../core/registry.js';
import type { LoginFields, Session } from '../core/session.js';
import { openSocket, type AuthSocket, type SocketOptions } from '../core/socket.js';
import type { User } from '../core/token-store.js';
import { VERSION } from '../define.js';
import { AuthContextProvider } from '../context/provider.js';

/**
 * Owns the page's session for its `api` and provides it to descendants as `authContext`. Every
 * provider with the same `api` shares one session: one restore request, one token, one logout.
 *
 * @summary The session for one auth API.
 * @slot - The part of the page that uses the session.
 * @event auth-change - `detail: { state, user }` on every state or user change. Bubbles, composed.
 * @event auth-activity - `detail: Activity`: restore, login, refresh, retry, logout steps. Bubbles, composed.
 * @event auth-error - `detail: { error }`: background failures (refresh, restore, bad attributes). Bubbles, composed.
 * @attr {"restoring" | "authenticated" | "anonymous"} state - Set by the element, never read from the
 * page: the session's state, for CSS such as `auth-provider[state="restoring"]`.
 *
 * @example
 * ```html
 * <auth-provider api="/api">
 *   <auth-gate>…</auth-gate>
 * </auth-provider>
 * ```
 */
export class AuthProvider extends ReactiveElement implements SessionApi {
  static readonly version = VERSION;

  /**
   * The provider's attributes, written once: each is a session option of the same name (see
   * `SessionOptions`), and the JSX typings of `auth-shell/react` are derived from this list.
   */
  static override properties = {
    api: {},
    loginPath: { attribute: 'login-path' },
    refreshPath: { attribute: 'refresh-path' },
    logoutPath: { attribute: 'logout-path' },
    refreshMethod: { attribute: 'refresh-method' },
    logoutMethod: { attribute: 'logout-method' },
    csrfHeader: { attribute: 'csrf-header' },
    allowedOrigins: { attribute: 'allowed-origins' },
    sidCookie: { attribute: 'sid-cookie' },
    sessionHint: {
      attribute: 'session-hint',
      converter: (value: string | null) => (value === null ? undefined : value !== 'false'),
    },
    loginFields: { attribute: 'login-fields' },
    tokenField: { attribute: 'token-field' },
    expiresInField: { attribute: 'expires-in-field' },
    codeField: { attribute: 'code-field' },
    leeway: { type: Number },
    timeout: { type: Number },
    debug: { type: Boolean },
  } as const satisfies Partial<Record<keyof SessionOptions, PropertyDeclaration>>;

  static override styles = css`
    :host {
      display: contents;
    }
  `;

  /** Base URL of the auth API, e.g. `/api`. Required. */
  declare api: string | undefined;
  /** Login endpoint path under `api`. Default `/login`. */
  declare loginPath: string | undefined;
  /** Default `/refresh`. */
  declare refreshPath: string | undefined;
  /** Default `/logout`. */
  declare logoutPath: string | undefined;
  /** `POST` (default) or `GET` for seed-style backends. */
  declare refreshMethod: EndpointMethod | undefined;
  /** `POST` (default) or `GET` for seed-style backends. */
  declare logoutMethod: EndpointMethod | undefined;
  /** `"Name: value"` of the static anti-CSRF header; `""` for none. Default `X-Requested-With: auth-shell`. */
  declare csrfHeader: string | undefined;
  /** Space-separated origins that may also receive the bearer token. */
  declare allowedOrigins: string | undefined;
  /** Name of the readable session-id cookie the backend sets; `""` when it sets none. Default `auth-shell-sid`. */
  declare sidCookie: string | undefined;
  /**
   * Skip the restore request when the session-id cookie says there is no session (present: on;
   * `"false"`: off; absent: on once this browser saw the backend set the cookie).
   */
  declare sessionHint: boolean | undefined;
  /** The login body's field names, identifier then secret. Default `login pass`; e.g. `email password`. */
  declare loginFields: string | undefined;
  /** Where a token answer keeps the token (`.` for nesting). Default `access_token`. */
  declare tokenField: string | undefined;
  /** Where a token answer keeps its lifetime in seconds. Default `expires_in`. */
  declare expiresInField: string | undefined;
  /** The login body's field for a one-time code the server asks for. Default `otp`. */
  declare codeField: string | undefined;
  /** Seconds before expiry at which the token is refreshed. Default 30. */
  declare leeway: number | undefined;
  /** Timeout in ms of login, refresh and logout requests. Default 10000. */
  declare timeout: number | undefined;
  /** Logs every step of the session (activities, state changes, errors) to `console.debug`; never a token. */
  declare debug: boolean | undefined;

  #session: Session | null = null;
  /** Why there is no session (a missing or invalid attribute): reported once, then `anonymous`. */
  #problem: AuthError | null = null;
  /** The options the current session was requested with. */
  #attachedWith = '';
  /** The last snapshot announced with auth-change (the subscription's first call is not a change). */
  #announced: SessionSnapshot | null = null;
  #unsubscribe: (() => void) | null = null;
  readonly #context = new AuthContextProvider(this);
  #resolveReady!: () => void;
  readonly #ready = new Promise<void>((resolve) => (this.#resolveReady = resolve));

  /**
   * `restoring`, `authenticated` or `anonymous`; also reflected as the `state` attribute for CSS. A
   * provider that cannot make a session (a missing or invalid attribute) is `anonymous`.
   */
  get state(): SessionState {
    return this.#session?.state ?? (this.#problem ? 'anonymous' : 'restoring');
  }

  /** The user (decoded token claims without bookkeeping), or `null`. */
  get user(): User | null {
    return this.#session?.user ?? null;
  }

  /** Settles once the session's restore has settled: what a route loader awaits. Never rejects. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** The shared core session, for code that wants the whole core API. */
  get session(): Session | null {
    return this.#session;
  }

  /**
   * Logs in — `(login, pass, extra?)` with the provider's `login-fields`, or one object of fields —
   * and resolves with the user. See the README for the error codes.
   */
  async login(login: string | LoginFields, pass?: string, extra?: LoginFields): Promise<User> {
    return this.#require().login(login as string, pass!, extra);
  }

  /** Clears the session in memory at once (every provider of this api), then tells the server. */
  async logout(): Promise<void> {
    return this.#require().logout();
  }

  /** `fetch` with the session's bearer token, refresh and one retry on 401. Stable identity. */
  readonly authFetch: AuthFetch = async (input, init) => this.#require().authFetch(input, init);

  /**
   * Opens an authenticated, reconnecting WebSocket (see `AuthSocket`). Sockets opened here belong
   * to no element: close them yourself, or pass a `signal`. Throws a `UsageError` without a session
   * or for a URL whose origin may not receive the token.
   */
  openSocket(url: string | URL, options?: SocketOptions): AuthSocket {
    return openSocket(this.#require(), url, options);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Attach in the update, a microtask later: properties a framework sets right after inserting
    // the element are then part of the session's options.
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#detach();
  }

  protected override willUpdate(): void {
    // First connection, a reconnection, or options changed: (re-)attach. A session's options are
    // fixed by the first provider of its api; see getSession().
    if (this.isConnected && this.#attachedWith !== JSON.stringify(this.#options())) {
      this.#detach();
      this.#attach();
    }
  }

  // No template library needed: the shadow root only passes the children through.
  protected override createRenderRoot() {
    const root = super.createRenderRoot();
    root.append(document.createElement('slot'));
    return root;
  }

  #attach(): void {
    const options = this.#options();
    this.#attachedWith = JSON.stringify(options);
    let session: Session;
    try {
      if (!options.api)
        throw new UsageError(
          DEV
            ? 'the api attribute is missing: set it to the base URL of your auth API, e.g. <auth-provider api="/api">'
            : 'the api attribute is missing',
          { option: 'api' },
        );
      session = findSession(options, true, `<auth-provider api="${options.api}">`);
    } catch (error) {
      if (!isAuthError(error)) throw error;
      this.#fail(error);
      return;
    }
    this.#problem = null;
    this.#session = session;
    session.addEventListener('activity', this.#onActivity);
    session.addEventListener('error', this.#onError);
    this.#unsubscribe = session.subscribe(this.#onChange);
    void session.ready.then(this.#resolveReady);
  }

  #detach(): void {
    this.#attachedWith = '';
    this.#unsubscribe?.();
    this.#session?.removeEventListener('activity', this.#onActivity);
    this.#session?.removeEventListener('error', this.#onError);
    this.#unsubscribe = null;
    this.#session = null;
  }

  /** The session options: every attribute of {@link AuthProvider.properties}, by its property name. */
  #options(): SessionOptions {
    return Object.fromEntries(
      Object.keys(AuthProvider.properties).map((name) => [name, this[name as keyof SessionOptions & keyof this]]),
    ) as unknown as SessionOptions;
  }

  /**
   * No session can be made: one console error naming the attribute to fix, an `auth-error` event,
   * and the provider becomes anonymous — `ready` settles, gates show their `login` slot, and every
   * function of the context fails with the same error instead of waiting.
   */
  #fail(error: AuthError): void {
    this.#problem = error;
    // The attribute of the option at fault, from the error itself (not from its words: an api URL may
    // well contain an option's name).
    const option = (error as UsageError).option as keyof typeof AuthProvider.properties | undefined;
    const declaration = option && AuthProvider.properties[option];
    const attribute = declaration ? ('attribute' in declaration ? declaration.attribute : option) : '';
    console.error(`<auth-provider${attribute ? ` ${attribute}` : ''}>: ${error.message}`);
    this.setAttribute('state', 'anonymous');
    this.#context.publish(error);
    this.#dispatch('auth-error', { error });
    this.#resolveReady();
  }

  #require(): Session {
    if (this.#session) return this.#session;
    throw (
      this.#problem ??
      new UsageError(
        DEV
          ? '<auth-provider> has no session: it needs a valid `api` attribute and to be connected'
          : '<auth-provider> has no session',
      )
    );
  }

  // Arrow functions: the same identities are added and removed as listeners.
  #onChange = (snapshot: SessionSnapshot): void => {
    this.setAttribute('state', snapshot.state);
    this.#context.publish(this.#session!);
    // The first call is the subscription's initial value, not a change.
    if (this.#announced !== snapshot) {
      if (this.#announced) this.#dispatch('auth-change', { state: snapshot.state, user: snapshot.user });
      this.#announced = snapshot;
    }
  };

  #onActivity = (event: CustomEvent<Activity>): void => this.#dispatch('auth-activity', event.detail);

  #onError = (event: CustomEvent<SessionErrorDetail>): void => this.#dispatch('auth-error', event.detail);

  #dispatch<K extends keyof AuthProviderEventMap>(type: K, detail: AuthProviderEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/** The events `<auth-provider>` dispatches (bubbling, composed), also typed on every element, `document` and `window`. */
export interface AuthProviderEventMap {
  /** The session's state or user changed. */
  'auth-change': CustomEvent<SessionSnapshot>;
  /** A step of the session flow (restore, login, refresh, retry, logout). */
  'auth-activity': CustomEvent<Activity>;
  /** A failure nobody awaited. */
  'auth-error': CustomEvent<SessionErrorDetail>;
}

declare global {
  /* eslint-disable @typescript-eslint/no-empty-object-type -- merged into the global event maps */
  interface HTMLElementTagNameMap {
    [TAGS.provider]: AuthProvider;
  }
  interface HTMLElementEventMap extends AuthProviderEventMap {}
  interface DocumentEventMap extends AuthProviderEventMap {}
  interface WindowEventMap extends AuthProviderEventMap {}
  /* eslint-enable @typescript-eslint/no-empty-object-type */
}
