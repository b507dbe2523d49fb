import { ContextConsumer } from '@lit/context';
import { TAGS } from '../tags.js';
import { ReactiveElement, css, type PropertyDeclarations } from '@lit/reactive-element';
import { authContext, type AuthValue } from '../context/auth-context.js';
import type { Activity, SessionErrorDetail, SessionSnapshot } from '../core/events.js';
import { apiKey } from '../core/options.js';
import { existingSessions } from '../core/registry.js';
import type { Session } from '../core/session.js';
import type { AuthSocket, AuthSocketCloseEvent, AuthSocketErrorEvent, AuthSocketEventMap } from '../core/socket.js';
import type { AuthProviderEventMap } from './auth-provider.js';
import { VERSION } from '../define.js';

/**
 * What a devtools entry is about: a step of the session (`restore`, `login`, `refresh`, `retry`,
 * `logout`), `tab` (something learned from another tab: a token handed over, a logout there), a
 * `state` change, an `error` nobody awaited, a `socket` event, or a socket `message`.
 */
export type DevtoolsKind =
  'restore' | 'login' | 'refresh' | 'retry' | 'logout' | 'tab' | 'state' | 'error' | 'socket' | 'message';

/** How an entry reads at a glance: it went well, it is waiting to try again, it failed. */
export type DevtoolsTone = 'ok' | 'warn' | 'bad' | '';

/** One entry of `<auth-devtools>`, exactly as shown: anything that looks like a token is already replaced. */
export interface DevtoolsEntry {
  /** When it happened, in ms since the page started (`performance.now()`). */
  readonly time: number;
  readonly kind: DevtoolsKind;
  /** The fields of the event, as one line. */
  readonly text: string;
  readonly tone: DevtoolsTone;
}

/** Every kind, in the order of the filter checkboxes. */
const KINDS: readonly DevtoolsKind[] = Object.freeze([
  'restore',
  'login',
  'refresh',
  'retry',
  'logout',
  'tab',
  'state',
  'error',
  'socket',
  'message',
]);

/** Entries kept when `limit` is not set. */
const DEFAULT_LIMIT = 500;
/** Longest text shown for one field (a message body, a claim), after redaction. */
const MAX_FIELD = 200;

const REDACTED = '[redacted]';
/** A JWT (or JWE): base64url segments joined by dots, the first one a JSON header (`{"` is `eyJ`). */
const JWT = /eyJ[\w+/=-]*\.[\w+/=-]*(?:\.[\w+/=-]*)*/g;
/** Credentials by their name in a URL or a form body, whatever their shape (a ticket is not a JWT). */
const CREDENTIAL_PARAM = /\b((?:access_token|refresh_token|id_token|token|ticket)=)[^&#\s"']*/gi;
/** An `Authorization` header value. */
const BEARER = /\b(Bearer\s+)[^\s,;"']+/gi;

/**
 * The text as it may be shown: JWT-shaped strings, credential parameters and bearer values
 * replaced. No event of auth-shell holds a token today; this is what keeps the devtools safe if a
 * future event, an application's error message or a socket message ever carries one.
 */
function redact(text: string): string {
  return text.replace(JWT, REDACTED).replace(CREDENTIAL_PARAM, `$1${REDACTED}`).replace(BEARER, `$1${REDACTED}`);
}

/** A value as one short line: redacted first, so cutting it can never leave part of a token readable. */
function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === null || typeof value !== 'object') text = String(value);
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  const safe = redact(text);
  return safe.length > MAX_FIELD ? `${safe.slice(0, MAX_FIELD)}…` : safe;
}

/** `key=value` pairs of the fields that are set, for one line. */
function fields(values: Record<string, unknown>): string[] {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${key}=${show(value)}`);
}

/** An error's code, operation, status and message, read defensively: it may come from any copy or realm. */
function describeError(error: unknown): string[] {
  if (!error || typeof error !== 'object') return error === undefined ? [] : [`error=${show(error)}`];
  const { code, operation, status, message } = error as Record<string, unknown>;
  return [...fields({ error: code, operation, status }), ...(message ? [show(message)] : [])];
}

/** A socket's path: enough to tell the page's sockets apart. */
function socketName(socket: AuthSocket): string {
  try {
    return new URL(socket.url).pathname;
  } catch {
    return 'socket';
  }
}

let markup: HTMLTemplateElement | undefined;
const MARKUP = `<div part="header">
<button part="toggle" type="button" aria-expanded="true" aria-controls="body" aria-describedby="status">auth-shell devtools</button>
<span part="status" id="status"></span>
</div>
<div part="body" id="body">
<div part="toolbar">
<fieldset part="filters"><legend>Show</legend></fieldset>
<button part="clear" type="button">Clear</button>
</div>
<p part="empty" role="status"></p>
<ol part="list" tabindex="0" aria-label="Session events, newest first"></ol>
</div>`;

/**
 * A live timeline of a session, to put next to an `<auth-provider>` while building a page: every
 * step of the session (restore, login, refresh, retry, logout, with phase, reason, attempt, delay,
 * url), state changes with the user's claims, errors with code, operation, status and message,
 * what was learned from another tab, and the events of the sockets it is given with
 * {@link AuthDevtools.watch}. Filterable by kind, clearable, collapsible; times in seconds since
 * the page started; the newest entry first.
 *
 * Which session: the `session` property when set; else the `api` attribute — the page's session
 * for that api, the one its providers share (the devtools never creates one: it attaches once a
 * provider or `getSession` did); else the nearest `<auth-provider>` above it, through the context.
 *
 * It never shows a token: only selected fields are printed, and every text shown — urls, messages,
 * claims, socket messages — has JWT-shaped strings, `access_token=`/`ticket=` values and bearer
 * values replaced by `[redacted]` before it is kept.
 *
 * @summary A live timeline of a session's activity, state, errors and sockets.
 * @attr api - The api whose session to show (for a devtools outside the provider), e.g. `/api`.
 * @attr limit - Entries kept; the oldest go first. Default `500`.
 * @attr hide - Kinds not shown, space-separated, e.g. `message`. Reflected; the checkboxes set it.
 * @attr collapsed - Only the header shows. Reflected; the toggle button sets it.
 * @csspart header - The bar with the toggle and the status.
 * @csspart toggle - The button that collapses and expands the timeline.
 * @csspart status - The session's state and the number of entries.
 * @csspart body - Everything below the header; hidden while collapsed.
 * @csspart toolbar - The filters and the clear button.
 * @csspart filters - The fieldset of kind checkboxes.
 * @csspart filter - One checkbox with its label.
 * @csspart clear - The clear button.
 * @csspart empty - The text shown when no entry is shown.
 * @csspart list - The list of entries (scrolls; focusable, so the keyboard scrolls it too).
 * @csspart entry - One entry.
 * @csspart time - An entry's time, in seconds since the page started.
 * @csspart kind - An entry's kind.
 * @csspart text - An entry's fields.
 * @cssproperty [--auth-devtools-font=12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace] - The timeline's font.
 * @cssproperty [--auth-devtools-max-height=20rem] - Height of the list before it scrolls.
 * @cssproperty [--auth-devtools-color=#1f2937] - Text.
 * @cssproperty [--auth-devtools-muted=#57606a] - Times, status, hints.
 * @cssproperty [--auth-devtools-background=#fff] - Background.
 * @cssproperty [--auth-devtools-border=#d0d7de] - Borders.
 * @cssproperty [--auth-devtools-accent=#1d4ed8] - Focus ring.
 * @cssproperty [--auth-devtools-ok=#047857] - Kinds that went well.
 * @cssproperty [--auth-devtools-warn=#92400e] - Backoffs and reconnects.
 * @cssproperty [--auth-devtools-bad=#b00020] - Failures and errors.
 *
 * @example
 * ```html
 * <auth-provider api="/api">
 *   …
 *   <auth-devtools hide="message"></auth-devtools>
 * </auth-provider>
 * ```
 */
export class AuthDevtools extends ReactiveElement {
  static readonly version = VERSION;

  /** Every kind of entry, in the order of the filters. */
  static readonly kinds = KINDS;

  static override properties = {
    api: {},
    session: { attribute: false },
    limit: { type: Number },
    hide: { reflect: true },
    collapsed: { type: Boolean, reflect: true },
  } as const satisfies PropertyDeclarations;

  static override styles = css`
    :host {
      display: block;
      font: var(--auth-devtools-font, 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
      color: var(--auth-devtools-color, #1f2937);
      background: var(--auth-devtools-background, #fff);
      border: 1px solid var(--auth-devtools-border, #d0d7de);
      border-radius: 0.375rem;
    }
    :host([hidden]) {
      display: none;
    }
    [part='header'] {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem;
      padding: 0.25rem 0.5rem;
    }
    button {
      font: inherit;
      color: inherit;
      cursor: pointer;
    }
    [part='toggle'] {
      font-weight: 600;
      background: none;
      border: 0;
      padding: 0.25rem;
    }
    [part='toggle']::before {
      content: '▾ ';
    }
    :host([collapsed]) [part='toggle']::before {
      content: '▸ ';
    }
    [part='status'] {
      margin-left: auto;
      color: var(--auth-devtools-muted, #57606a);
    }
    [hidden] {
      display: none !important;
    }
    [part='toolbar'] {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem;
      padding: 0.25rem 0.5rem;
      border-top: 1px solid var(--auth-devtools-border, #d0d7de);
    }
    fieldset {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 0.75rem;
      margin: 0;
      padding: 0;
      border: 0;
    }
    legend {
      float: left;
      padding: 0;
      margin-right: 0.25rem;
      color: var(--auth-devtools-muted, #57606a);
    }
    [part='filter'] {
      display: inline-flex;
      align-items: center;
      gap: 0.2rem;
      cursor: pointer;
    }
    [part='clear'] {
      margin-left: auto;
      padding: 0.15rem 0.6rem;
      background: var(--auth-devtools-background, #fff);
      border: 1px solid var(--auth-devtools-border, #d0d7de);
      border-radius: 0.25rem;
    }
    :focus-visible {
      outline: 2px solid var(--auth-devtools-accent, #1d4ed8);
      outline-offset: 1px;
    }
    [part='empty'] {
      margin: 0;
      padding: 0.5rem;
      border-top: 1px solid var(--auth-devtools-border, #d0d7de);
      color: var(--auth-devtools-muted, #57606a);
    }
    [part='list'] {
      list-style: none;
      margin: 0;
      padding: 0;
      max-height: var(--auth-devtools-max-height, 20rem);
      overflow-y: auto;
      border-top: 1px solid var(--auth-devtools-border, #d0d7de);
    }
    [part='entry'] {
      display: grid;
      grid-template-columns: 5.5em 4.5em 1fr;
      gap: 0.5rem;
      padding: 0.2rem 0.5rem;
      border-bottom: 1px solid var(--auth-devtools-border, #d0d7de);
    }
    [part='time'] {
      text-align: right;
      color: var(--auth-devtools-muted, #57606a);
    }
    [part='kind'] {
      font-weight: 600;
    }
    [part='text'] {
      overflow-wrap: anywhere;
    }
    [data-tone='ok'] [part='kind'] {
      color: var(--auth-devtools-ok, #047857);
    }
    [data-tone='warn'] [part='kind'] {
      color: var(--auth-devtools-warn, #92400e);
    }
    [data-tone='bad'] [part='kind'],
    [data-tone='bad'] [part='text'] {
      color: var(--auth-devtools-bad, #b00020);
    }
  `;

  /**
   * The api whose session to show, e.g. `/api`: the page's session for it, shared by its providers.
   * For a devtools placed outside the provider. The devtools never creates the session (that would
   * fix its options): it attaches once a provider or `getSession` has.
   */
  declare api: string | undefined;
  /** The session to show, e.g. `getSession('/api')`. Wins over `api` and the context. */
  declare session: Session | null | undefined;
  /** Entries kept; the oldest go first. Default 500. */
  declare limit: number | undefined;
  /**
   * Kinds not shown, space-separated (e.g. `"message socket"`). The checkboxes set it; hidden
   * entries are kept and show again when their kind is checked.
   */
  declare hide: string | undefined;
  /** Only the header is shown. Reflected; the toggle button sets it. */
  declare collapsed: boolean | undefined;

  /** The nearest provider's session, through the context (shown when `session` and `api` are not set). */
  #fromContext: Session | null = null;
  /** The provider answered with a value of no session on this page (a misconfigured provider). */
  #fromContextFailed = false;
  #attached: Session | null = null;
  /** Why nothing is attached, for the status line. */
  #problem = '';
  #waiting = false;
  readonly #items: { entry: DevtoolsEntry; item: HTMLLIElement }[] = [];
  readonly #sockets = new Map<AuthSocket, () => void>();

  #list!: HTMLOListElement;
  #empty!: HTMLElement;
  #status!: HTMLElement;
  #toggle!: HTMLButtonElement;
  #body!: HTMLElement;
  #checkboxes!: HTMLInputElement[];

  constructor() {
    super();
    // Kept by the element as its controller.
    new ContextConsumer(this, {
      context: authContext,
      subscribe: true,
      // At once, not in the next update: attached before the session's restore starts.
      callback: (value) => {
        this.#fromContext = sessionOf(value);
        this.#fromContextFailed = this.#fromContext === null;
        this.#resolve();
      },
    });
  }

  /** The entries kept, oldest first, as shown (redacted). */
  get entries(): readonly DevtoolsEntry[] {
    return Object.freeze(this.#items.map(({ entry }) => entry));
  }

  /** The session shown, or `null` while there is none. */
  get attached(): Session | null {
    return this.#attached;
  }

  /** Removes every entry. */
  clear(): void {
    for (const { item } of this.#items.splice(0)) item.remove();
    this.requestUpdate();
  }

  /**
   * Shows the events of `socket` — open, message, disconnected, reconnecting, reconnected, giveup,
   * error, close — until it closes for good or the returned function is called. Sockets are the
   * application's own objects and nothing on the page lists them, so the devtools shows those it
   * is given: the ones `openSocket` returns, from the context, a provider or the core.
   */
  watch(socket: AuthSocket, name = socketName(socket)): () => void {
    const existing = this.#sockets.get(socket);
    if (existing) return existing;
    const controller = new AbortController();
    const on = <K extends keyof AuthSocketEventMap>(type: K, listener: (event: AuthSocketEventMap[K]) => void) =>
      socket.addEventListener(type, listener, { signal: controller.signal });
    const log = (kind: DevtoolsKind, parts: string[], tone: DevtoolsTone = '') =>
      this.#record(kind, [show(name), ...parts].join(' · '), tone);
    const unwatch = () => {
      controller.abort();
      this.#sockets.delete(socket);
    };
    on('open', () => log('socket', ['open'], 'ok'));
    on('message', ({ data }) => log('message', messageFields(data)));
    on('disconnected', ({ detail }) => log('socket', ['disconnected', ...fields(detail)], 'warn'));
    on('reconnecting', ({ detail: { attempt, delay, code, reason } }) =>
      log('socket', ['reconnecting', ...fields({ attempt, delay: ms(delay), code, reason })], 'warn'),
    );
    on('reconnected', ({ detail }) => log('socket', ['reconnected', ...fields(detail)], 'ok'));
    on('giveup', ({ detail }) => log('socket', ['giveup', ...fields(detail)], 'bad'));
    on('error', (event: AuthSocketErrorEvent) => log('socket', ['error', ...describeError(event.error)], 'bad'));
    on('close', (event: AuthSocketCloseEvent) => {
      const { code, reason, wasClean, unsent } = event;
      log(
        'socket',
        ['close', ...fields({ code, reason, wasClean, unsent: unsent?.length })],
        code === 1000 ? '' : 'bad',
      );
      unwatch();
    });
    this.#sockets.set(socket, unwatch);
    return unwatch;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // The context answers again on reconnection, from wherever the element is then.
    this.#fromContext = null;
    this.#fromContextFailed = false;
    this.#attach(null);
    this.#wait(false);
  }

  protected override createRenderRoot() {
    const root = super.createRenderRoot();
    markup ??= Object.assign(document.createElement('template'), { innerHTML: MARKUP });
    root.append(markup.content.cloneNode(true));
    const $ = <T extends Element>(part: string) => root.querySelector<T>(`[part="${part}"]`)!;
    this.#list = $('list');
    this.#empty = $('empty');
    this.#status = $('status');
    this.#toggle = $('toggle');
    this.#body = $('body');
    this.#checkboxes = KINDS.map((kind) => {
      const label = document.createElement('label');
      label.part.add('filter');
      const input = Object.assign(document.createElement('input'), { type: 'checkbox', value: kind, checked: true });
      label.append(input, kind);
      $('filters').append(label);
      return input;
    });
    $('filters').addEventListener('change', () => {
      this.hide = this.#checkboxes
        .filter((box) => !box.checked)
        .map((box) => box.value)
        .join(' ');
    });
    $('clear').addEventListener('click', () => this.clear());
    this.#toggle.addEventListener('click', () => (this.collapsed = !this.collapsed));
    return root;
  }

  protected override willUpdate(): void {
    if (this.isConnected) this.#resolve();
  }

  protected override update(changed: Map<PropertyKey, unknown>): void {
    super.update(changed);
    this.#trim();
    const hidden = this.#hidden();
    for (const box of this.#checkboxes) box.checked = !hidden.has(box.value);
    let shown = 0;
    for (const { entry, item } of this.#items) {
      item.hidden = hidden.has(entry.kind);
      if (!item.hidden) shown++;
    }
    this.#list.hidden = shown === 0;
    this.#empty.hidden = shown > 0;
    this.#empty.textContent = this.#items.length === 0 ? 'No events yet.' : 'No events of the kinds shown.';
    this.#toggle.setAttribute('aria-expanded', String(!this.collapsed));
    this.#body.hidden = !!this.collapsed;
    const snapshot = this.#attached?.snapshot;
    const who = snapshot?.user ? displayName(snapshot.user) : '';
    const count = shown === this.#items.length ? `${shown}` : `${shown} of ${this.#items.length}`;
    this.#status.textContent = [
      snapshot ? snapshot.state : this.#problem,
      ...(who ? [show(who)] : []),
      `${count} ${this.#items.length === 1 ? 'entry' : 'entries'}`,
    ].join(' · ');
  }

  /** The kinds unchecked. */
  #hidden(): Set<string> {
    return new Set((this.hide ?? '').split(/\s+/).filter(Boolean));
  }

  /** Finds the session to show (see the class comment) and attaches to it. */
  #resolve(): void {
    let target: Session | null = null;
    let wait = false;
    this.#problem = '';
    if (this.session) target = this.session;
    else if (this.api) {
      try {
        const key = apiKey(this.api);
        target = existingSessions().find((session) => apiKey(session.options.api) === key) ?? null;
        wait = !target;
        if (wait) this.#problem = `waiting for the session of ${show(key)}`;
      } catch {
        this.#problem = `api="${show(this.api)}" is not a URL`;
      }
    } else {
      target = this.#fromContext;
      if (!target)
        this.#problem = this.#fromContextFailed
          ? 'the provider has no session (see the console)'
          : 'no <auth-provider> above it yet (or set api)';
    }
    this.#attach(target);
    this.#wait(wait);
  }

  #attach(session: Session | null): void {
    const previous = this.#attached;
    if (session === previous) return;
    if (previous) {
      previous.removeEventListener('activity', this.#onActivity);
      previous.removeEventListener('change', this.#onChange);
      previous.removeEventListener('error', this.#onError);
      previous.removeEventListener('dispose', this.#onDispose);
    }
    this.#attached = session;
    if (session) {
      session.addEventListener('activity', this.#onActivity);
      session.addEventListener('change', this.#onChange);
      session.addEventListener('error', this.#onError);
      session.addEventListener('dispose', this.#onDispose);
      const { state, user } = session.snapshot;
      this.#record('state', [`attached to ${show(session.options.api.href)}`, state, ...claims(user)].join(' · '));
    }
    this.requestUpdate();
  }

  /**
   * With `api` and no session yet: waits for one. Any provider announces its session with its first
   * event (the restore starting), bubbling up to the window — no polling needed. A session made by
   * `getSession` alone, with no provider, is given through the `session` property instead.
   */
  #wait(on: boolean): void {
    if (on === this.#waiting) return;
    this.#waiting = on;
    for (const type of [
      'auth-activity',
      'auth-change',
      'auth-error',
    ] as const satisfies (keyof AuthProviderEventMap)[]) {
      if (on) window.addEventListener(type, this.#onProviderEvent, true);
      else window.removeEventListener(type, this.#onProviderEvent, true);
    }
  }

  // Arrow functions: the same identities are added and removed as listeners.
  #onProviderEvent = (event: Event): void => {
    this.#resolve();
    const session = this.#attached;
    // The session was dispatching this very event when the devtools attached: it missed it, so it
    // takes it from the provider's copy (the state is in the attach line already).
    if (!session || (event.target as { session?: unknown } | null)?.session !== session) return;
    const { detail } = event as CustomEvent<Activity & SessionErrorDetail>;
    if (event.type === 'auth-activity') this.#activity(detail);
    else if (event.type === 'auth-error') this.#error(detail);
  };

  #onActivity = (event: CustomEvent<Activity>): void => this.#activity(event.detail);

  #onChange = ({ detail: { state, user } }: CustomEvent<SessionSnapshot>): void =>
    this.#record('state', [state, ...claims(user)].join(' · '), state === 'authenticated' ? 'ok' : '');

  #onError = (event: CustomEvent<SessionErrorDetail>): void => this.#error(event.detail);

  #onDispose = (): void => {
    this.#record('state', 'the session was disposed');
    if (this.#fromContext === this.#attached) this.#fromContext = null;
    this.#attach(null);
    // With `api`, the next provider's session is the one to show.
    if (this.isConnected) this.#resolve();
  };

  #activity(activity: Activity): void {
    const { kind, phase, reason, attempt, delay, url, error, source } = activity;
    const fromTab = source === 'tab';
    // A kind of a later version, under `state`: named in the line, since the label does not say it.
    const known = KINDS.includes(kind);
    const parts = [
      ...(fromTab || !known ? [show(kind)] : []),
      show(phase),
      ...fields({ reason, attempt, delay: delay === undefined ? undefined : ms(delay), url }),
      ...describeError(error),
      ...(fromTab ? ['from another tab'] : []),
    ];
    // A refresh answered 401 is the server saying "no session": an answer, not a fault.
    const answered = (error as { code?: unknown } | undefined)?.code === 'unauthenticated';
    const tone: DevtoolsTone =
      phase === 'success' ? 'ok' : phase === 'backoff' ? 'warn' : phase === 'failure' && !answered ? 'bad' : '';
    this.#record(fromTab ? 'tab' : known ? kind : 'state', parts.join(' · '), tone);
  }

  #error({ error }: SessionErrorDetail): void {
    this.#record('error', describeError(error).join(' · '), 'bad');
  }

  #record(kind: DevtoolsKind, text: string, tone: DevtoolsTone = ''): void {
    // Every text is redacted where it is made; once more here, where everything passes.
    const entry: DevtoolsEntry = Object.freeze({ time: performance.now(), kind, text: redact(text), tone });
    const item = document.createElement('li');
    item.part.add('entry');
    item.dataset['kind'] = kind;
    if (tone) item.dataset['tone'] = tone;
    const cells = [`${(entry.time / 1000).toFixed(3)} s`, kind, entry.text].map((content, i) => {
      const cell = document.createElement('span');
      cell.part.add(['time', 'kind', 'text'][i]!);
      cell.textContent = content;
      return cell;
    });
    item.append(...cells);
    item.hidden = this.#hidden().has(kind);
    this.#list.prepend(item);
    this.#items.push({ entry, item });
    this.#trim();
    this.requestUpdate();
  }

  /** Keeps the newest `limit` entries. */
  #trim(): void {
    const limit = this.limit === undefined || !(this.limit >= 0) ? DEFAULT_LIMIT : Math.floor(this.limit);
    const excess = this.#items.length - limit;
    if (excess > 0) for (const { item } of this.#items.splice(0, excess)) item.remove();
  }
}

/**
 * The session behind a context value. The value holds no session, but its functions are the
 * session's own (they keep their identity), so the page's sessions are asked which one it is.
 */
function sessionOf(value: AuthValue | undefined): Session | null {
  if (!value) return null;
  return existingSessions().find((session) => session.login === value.login) ?? null;
}

/**
 * The user's claims as `key=value`, the ones that name the user first (the user holds no token
 * bookkeeping; every value is redacted all the same).
 */
function claims(user: SessionSnapshot['user']): string[] {
  if (!user) return [];
  const { name, sub, role, roles, ...rest } = user;
  return fields({ name, sub, role, roles, ...rest });
}

function displayName(user: NonNullable<SessionSnapshot['user']>): string {
  const name = user['name'] ?? user['sub'];
  return typeof name === 'string' || typeof name === 'number' ? String(name) : '';
}

function ms(delay: number): string {
  return `${Math.round(delay)} ms`;
}

/** A socket message as its size and the start of its text; binary messages by size only. */
function messageFields(data: unknown): string[] {
  if (typeof data === 'string') return [`${data.length} chars`, show(data)];
  if (data instanceof Blob) return [`${data.size} bytes`];
  if (data instanceof ArrayBuffer) return [`${data.byteLength} bytes`];
  return [show(data)];
}

declare global {
  interface HTMLElementTagNameMap {
    [TAGS.devtools]: AuthDevtools;
  }
}
