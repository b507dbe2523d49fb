/**
 * The auth-shell demo page: plain TypeScript against the public API only. Bundled by
 * demo/server/start.js into demo/dist/app.js.
 *
 * The timeline is `<auth-devtools>` (auth-shell/devtools): it shows the provider's session through
 * the context, and the live feed hands it its socket. Nothing here prints a token either: the
 * page's own status lines go through `scrub`.
 */
import '../src/index.js';
import '../src/login-form.js';
import '../src/devtools.js';
import { AuthSocket, consumeAuth, isAuthError, type AuthValue, type SessionSnapshot, type User } from '../src/index.js';

const provider = document.querySelector('auth-provider')!;
const gate = provider.querySelector('auth-gate')!;
const devtools = document.querySelector('auth-devtools')!;
const badge = document.querySelector<HTMLElement>('#state-badge')!;
const userName = document.querySelector<HTMLElement>('#user-name')!;
const logoutButton = document.querySelector<HTMLButtonElement>('#logout')!;

/** Seconds since page load (performance.now() counts from navigation start), as the timeline shows them. */
function stamp(): string {
  return `${(performance.now() / 1000).toFixed(3)} s`;
}

/** Belt and braces: nothing that looks like a JWT ever reaches the page. */
function scrub(text: string): string {
  return text.replace(/eyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '[redacted]');
}

function nameOf(user: User | null): string {
  if (!user) return '';
  const name = user['name'] ?? user['sub'];
  return typeof name === 'string' || typeof name === 'number' ? String(name) : '';
}

/** Refreshes started so far and whether one is running: how many refreshes a burst of calls waited for. */
let refreshStarts = 0;
let refreshing = false;

provider.addEventListener('auth-activity', (event) => {
  const a = event.detail;
  if (a.kind === 'refresh' && a.phase === 'start') refreshStarts++;
  if (a.kind === 'refresh') refreshing = a.phase === 'start' || a.phase === 'backoff';
});

provider.addEventListener('auth-change', (event: CustomEvent<SessionSnapshot>) =>
  showSession(event.detail.state, event.detail.user),
);

// ---- header --------------------------------------------------------------------------------------

const STATE_LABELS = { restoring: 'restoring', authenticated: 'signed in', anonymous: 'signed out' } as const;
let shownState: SessionSnapshot['state'] = 'restoring';

function showSession(state: SessionSnapshot['state'], user: User | null): void {
  const entered = state === 'authenticated' && shownState !== 'authenticated';
  shownState = state;
  badge.textContent = STATE_LABELS[state];
  userName.textContent = nameOf(user);
  if (entered) {
    // The gate stamps its template in its own update, right after this event: load once it has.
    void gate.updateComplete.then(() => loadMe());
  }
}

showSession(provider.state, provider.user);

logoutButton.addEventListener('click', () => {
  logoutButton.disabled = true;
  // Inside a promise chain: without a session the provider throws synchronously rather than rejecting.
  Promise.resolve()
    .then(() => provider.logout())
    // The timeline shows how it went: a logout the server could not hear is a `logout` failure.
    .catch(() => {})
    .finally(() => (logoutButton.disabled = false));
});

const mode = document.querySelector<HTMLElement>('#mode')!;
mode.textContent =
  provider.getAttribute('refresh-method')?.toUpperCase() === 'GET'
    ? 'Backend in seed mode: GET /api/refresh and GET /api/logout (refresh-method="GET" logout-method="GET").'
    : 'Backend in hardened mode: POST /api/refresh and POST /api/logout with a custom header (the safe default).';

// ---- protected content ---------------------------------------------------------------------------

/** Text for a failed call: the typed code when auth-shell threw, else the error's name. */
function failure(error: unknown): string {
  if (isAuthError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}

function setText(selector: string, text: string, tone: 'ok' | 'bad' | '' = ''): void {
  const element = document.querySelector<HTMLElement>(selector);
  if (!element) return; // The content was removed meanwhile (logout).
  element.textContent = scrub(text);
  element.dataset['tone'] = tone;
}

async function loadMe(): Promise<void> {
  setText('#me-status', 'Loading…');
  const started = performance.now();
  try {
    const response = await provider.authFetch('/api/me');
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      setText('#me-status', `GET /api/me → ${response.status} in ${ms} ms`, 'bad');
      return;
    }
    const me = (await response.json()) as Record<string, unknown>;
    const fields = document.querySelector('#me-fields');
    if (fields) {
      fields.replaceChildren(
        ...['name', 'login', 'role', 'user_id'].flatMap((key) => {
          const dt = document.createElement('dt');
          dt.textContent = key;
          const dd = document.createElement('dd');
          dd.textContent = String(me[key] ?? '—');
          return [dt, dd];
        }),
      );
    }
    setText('#me-status', `GET /api/me → 200 in ${ms} ms, at ${stamp()}`, 'ok');
  } catch (error) {
    setText('#me-status', `GET /api/me failed: ${failure(error)}`, 'bad');
  }
}

async function burst(): Promise<void> {
  setText('#burst-status', 'Sending five requests…');
  // A refresh already running when the burst starts counts too: the five calls join it.
  const before = refreshStarts - (refreshing ? 1 : 0);
  const started = performance.now();
  // cache: 'no-store' — otherwise Chromium's HTTP cache lock sends identical GETs one after another.
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => provider.authFetch('/api/me', { cache: 'no-store' })),
  );
  const ms = Math.round(performance.now() - started);
  const statuses = results.map((r) => (r.status === 'fulfilled' ? String(r.value.status) : 'failed'));
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.body?.cancel() : undefined)));
  const refreshes = refreshStarts - before;
  const why =
    refreshes === 0 ? 'the token was fresh' : refreshes === 1 ? 'all five waited for the same one' : 'see the timeline';
  const text = `5 × GET /api/me → ${statuses.join(', ')} in ${ms} ms · refreshes: ${refreshes} (${why})`;
  const ok = statuses.every((s) => s === '200');
  setText('#burst-status', text, ok ? 'ok' : 'bad');
}

async function loadAdmin(): Promise<void> {
  setText('#admin-status', 'Loading…');
  try {
    const response = await provider.authFetch('/api/admin');
    if (response.ok) {
      const { secret } = (await response.json()) as { secret?: string };
      setText('#admin-status', `200: ${secret ?? ''}`, 'ok');
    } else {
      const { error } = (await response.json().catch(() => ({}))) as { error?: string };
      setText('#admin-status', `${response.status}${error ? ` ${error}` : ''}: the server refused`, 'bad');
    }
  } catch (error) {
    setText('#admin-status', `GET /api/admin failed: ${failure(error)}`, 'bad');
  }
}

/** Revokes the current access token on the server: the socket gets 4001, /api/me a 401. */
async function expireToken(): Promise<void> {
  setText('#feed-status', 'Revoking the access token…');
  try {
    const response = await provider.authFetch('/api/expire-token', { method: 'POST' });
    if (response.status !== 204) {
      setText('#feed-status', `POST /api/expire-token → ${response.status}`, 'bad');
      return;
    }
    setText(
      '#feed-status',
      'POST /api/expire-token → 204: the token is revoked; the socket refreshes and reconnects, /api/me is reloaded with the old token.',
      'ok',
    );
  } catch (error) {
    setText('#feed-status', `POST /api/expire-token failed: ${failure(error)}`, 'bad');
    return;
  }
  await loadMe();
}

/** Revokes every session of the user: the socket gets 4001, its refresh a 401, the page signs out. */
async function logoutEverywhere(): Promise<void> {
  setText('#feed-status', 'Revoking every session…');
  try {
    const response = await provider.authFetch('/api/logout-everywhere', { method: 'POST' });
    const ok = response.status === 204;
    const text = ok
      ? 'POST /api/logout-everywhere → 204: every session of this user is revoked (the socket gets 4001, its refresh a 401)'
      : `POST /api/logout-everywhere → ${response.status}`;
    setText('#feed-status', text, ok ? 'ok' : 'bad');
  } catch (error) {
    setText('#feed-status', `POST /api/logout-everywhere failed: ${failure(error)}`, 'bad');
  }
}

const actions: Record<string, () => Promise<void>> = {
  'reload-me': loadMe,
  burst,
  'load-admin': loadAdmin,
  'expire-token': expireToken,
  'logout-everywhere': logoutEverywhere,
};

// One delegated listener: the protected buttons are stamped and removed with the session.
document.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-action]');
  const action = button && actions[button.dataset['action'] ?? ''];
  if (!button || !action || button.disabled) return;
  button.disabled = true;
  void action().finally(() => (button.disabled = false));
});

// ---- live feed -----------------------------------------------------------------------------------

const MAX_TICKS = 10;
const MAX_ECHOES = 5;

type FeedState = 'connecting' | 'open' | 'reconnecting' | 'gaveup' | 'closed';

/** Prepends a line to a list, keeping the newest `max`. */
function prependLine(list: Element, text: string, max: number, className = ''): void {
  const item = document.createElement('li');
  item.textContent = scrub(text);
  item.className = className;
  list.prepend(item);
  while (list.childElementCount > max) list.lastElementChild!.remove();
}

/**
 * `<live-feed>`: the authenticated socket of the protected content. It opens the socket through the
 * context (`consumeAuth`), so the socket belongs to this element and closes (1000) when the gate
 * removes it on logout; one socket per element, whatever the number of context updates.
 */
class LiveFeed extends HTMLElement {
  #stopAuth: (() => void) | undefined;
  #auth: AuthValue | null = null;
  #socket: AuthSocket | null = null;
  /** The first authenticated update opened a socket; later ones (refreshes) must not open another. */
  #opened = false;
  #state: FeedState = 'connecting';
  #stateText = 'connecting…';
  #wired = false;

  connectedCallback(): void {
    this.#wire();
    this.#stopAuth = consumeAuth(this, (auth) => {
      this.#auth = auth;
      if (auth.state === 'authenticated' && !this.#opened) this.#open();
    });
  }

  disconnectedCallback(): void {
    // The socket needs nothing here: it closes by itself when its owner leaves the DOM.
    this.#stopAuth?.();
    this.#stopAuth = undefined;
  }

  #el<T extends HTMLElement>(selector: string): T {
    return this.querySelector<T>(selector)!;
  }

  #wire(): void {
    if (this.#wired) return;
    this.#wired = true;
    this.#el<HTMLFormElement>('#feed-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.#send();
    });
    this.#el<HTMLButtonElement>('#feed-reconnect').addEventListener('click', () => this.#reconnect());
  }

  #open(): void {
    if (!this.#auth) return;
    this.#opened = true;
    let socket: AuthSocket;
    try {
      socket = this.#auth.openSocket('/api/ws');
    } catch (error) {
      this.#show('closed', `could not open: ${failure(error)}`);
      return;
    }
    this.#socket = socket;
    // The timeline shows the socket's events too; it closes by itself, and the timeline lets go then.
    devtools.watch(socket, 'live feed');
    this.#show('connecting', 'connecting…');
    let opens = 0;

    socket.addEventListener('open', () => {
      // The server counts ticks per connection: mark where a new one starts.
      if (opens++ > 0) prependLine(this.#el('#feed-ticks'), '— new connection —', MAX_TICKS, 'mark');
      this.#show('open', 'open');
    });
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('reconnecting', ({ detail: { attempt, delay, code } }) =>
      this.#show('reconnecting', `reconnecting · attempt ${attempt}, in ${Math.round(delay)} ms (after ${code})`),
    );
    socket.addEventListener('giveup', ({ detail: { attempts, code } }) =>
      this.#show('gaveup', `gave up after ${attempts} attempts (last close ${code})`),
    );
    socket.addEventListener('close', ({ code, reason, unsent }) => {
      this.#socket = null;
      const lost = unsent.length > 0 ? ` · ${unsent.length} unsent` : '';
      this.#show('closed', `closed · ${code}${reason ? ` ${reason}` : ''}${lost}`);
    });
  }

  #onMessage(data: unknown): void {
    let message: { type?: unknown; n?: unknown; at?: unknown; data?: unknown; name?: unknown };
    try {
      message = typeof data === 'string' ? JSON.parse(data) : {};
    } catch {
      return;
    }
    if (message.type === 'hello') {
      this.#show('open', `open · hello, ${String(message.name ?? '')}`);
    } else if (message.type === 'tick') {
      const at = typeof message.at === 'string' ? new Date(message.at).toLocaleTimeString() : '';
      prependLine(this.#el('#feed-ticks'), `tick #${String(message.n)} · ${at}`, MAX_TICKS);
    } else if (message.type === 'echo') {
      prependLine(this.#el('#feed-echoes'), `${stamp()} · ${String(message.data)}`, MAX_ECHOES);
      this.#result('', '');
    }
  }

  #send(): void {
    const input = this.#el<HTMLInputElement>('#feed-input');
    const text = input.value.trim();
    if (!text) return;
    if (!this.#socket) {
      this.#result('The socket is closed: nothing was sent.', 'bad');
      return;
    }
    try {
      this.#socket.send(text);
    } catch (error) {
      // queue-full, or socket-closed: the library throws rather than dropping the message.
      this.#result(`Not sent: ${failure(error)}`, 'bad');
      return;
    }
    input.value = '';
    this.#result(this.#socket.queued > 0 ? 'Queued: it goes out when the socket is open again.' : 'Sent.', '');
    this.#render();
  }

  #reconnect(): void {
    if (this.#socket) {
      this.#socket.reconnect();
      this.#show('connecting', 'connecting…');
    } else {
      // Closed for good while still signed in (a final close code): a new socket.
      this.#open();
    }
  }

  #show(state: FeedState, text: string): void {
    this.#state = state;
    this.#stateText = text;
    this.#render();
  }

  #render(): void {
    // A 4001 announces nothing until the refresh is done (then `reconnecting`): trust readyState.
    const lost = this.#state === 'open' && this.#socket !== null && this.#socket.readyState !== AuthSocket.OPEN;
    const state = lost ? 'reconnecting' : this.#state;
    const text = lost ? 'connection closed, reconnecting…' : this.#stateText;
    this.#el('#feed-state').dataset['state'] = state;
    const queued = this.#socket?.queued ?? 0;
    this.#el('#feed-state-text').textContent = scrub(queued > 0 ? `${text} · ${queued} queued` : text);
    this.#el<HTMLButtonElement>('#feed-reconnect').hidden = !(this.#state === 'gaveup' || this.#state === 'closed');
  }

  #result(text: string, tone: 'ok' | 'bad' | ''): void {
    const element = this.#el('#feed-send-status');
    element.textContent = scrub(text);
    element.dataset['tone'] = tone;
  }
}

customElements.define('live-feed', LiveFeed);
