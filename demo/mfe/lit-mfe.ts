/**
 * The Lit micro-frontend (built to dist/lit.js, with its own copy of auth-shell): `<mfe-lit-app>`
 * renders its own `<auth-provider api="/api">` and `<auth-gate>`; inside, `<mfe-lit-orders>`
 * consumes `authContext` with @lit/context's `ContextConsumer` and loads `GET /api/mfe/orders` with
 * the session's `authFetch` whenever a user is signed in.
 */
import { ContextConsumer } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { AuthProvider, VERSION, authContext, type AuthValue } from '../../src/index.js';
import '../../src/login-form.js';

interface Item {
  id: string;
  title: string;
  detail: string;
}
interface Orders {
  name: string;
  user: { user_id: number; name: string; role: string };
  items: Item[];
}

const panelStyles = css`
  :host {
    display: block;
  }
  button {
    font: inherit;
    padding: 0.35rem 0.75rem;
    border: 1px solid #cbd5e1;
    border-radius: 0.375rem;
    background: #fff;
    color: inherit;
    cursor: pointer;
  }
  button:hover {
    border-color: var(--accent, #1d4ed8);
    color: var(--accent, #1d4ed8);
  }
  .muted {
    color: var(--muted, #6b7280);
    font-size: 0.875rem;
    margin: 0.5rem 0 0;
  }
  ul {
    list-style: none;
    padding: 0;
    margin: 0.5rem 0;
  }
  li {
    display: grid;
    grid-template-columns: 4.5rem 1fr auto;
    gap: 0.75rem;
    padding: 0.35rem 0;
    border-bottom: 1px solid var(--line, #e5e7eb);
  }
  li span {
    color: var(--muted, #6b7280);
  }
  code {
    font:
      0.85em/1 ui-monospace,
      SFMono-Regular,
      Menlo,
      Consolas,
      monospace;
  }
`;

/** The consumer: everything it knows about the session comes through the context. */
class MfeLitOrders extends LitElement {
  static override styles = panelStyles;
  static override properties = {
    orders: { state: true },
    status: { state: true },
  };

  declare orders: Orders | null;
  declare status: string;
  /** Whose orders are shown or loading: reload when another user signs in. */
  #loadedFor: string | null = null;

  readonly #auth = new ContextConsumer(this, {
    context: authContext,
    subscribe: true,
    callback: (auth) => this.#follow(auth),
  });

  constructor() {
    super();
    this.orders = null;
    this.status = '';
  }

  #follow(auth: AuthValue | undefined): void {
    if (auth?.state !== 'authenticated') {
      // Signed out (or not known yet): drop the previous user's data at once.
      this.#loadedFor = null;
      this.orders = null;
      this.status = '';
      return;
    }
    const who = String(auth.user?.['sub'] ?? auth.user?.['user_id'] ?? '');
    if (who !== this.#loadedFor) {
      this.#loadedFor = who;
      void this.#load(auth);
    }
  }

  async #load(auth: AuthValue): Promise<void> {
    const who = this.#loadedFor;
    this.orders = null;
    this.status = 'Loading /api/mfe/orders…';
    // Counted by <mfe-lit-app>, whose line stays visible while signed out.
    this.dispatchEvent(new Event('mfe-request', { bubbles: true }));
    try {
      const res = await auth.authFetch('/api/mfe/orders');
      if (who !== this.#loadedFor) return; // signed out or another user meanwhile
      if (!res.ok) {
        this.status = `GET /api/mfe/orders answered ${res.status}.`;
        return;
      }
      this.orders = (await res.json()) as Orders;
      this.status = '';
    } catch (error) {
      if (who === this.#loadedFor)
        this.status = `Could not load the orders (${error instanceof Error ? error.message : error}).`;
    }
  }

  #logout = (): void => {
    this.#auth.value
      ?.logout()
      .catch((error: unknown) => console.warn('logout: the server could not be told yet', error));
  };

  override render() {
    const auth = this.#auth.value;
    if (auth?.state !== 'authenticated') return nothing;
    return html`
      <p>Signed in as <strong data-testid="user">${auth.user?.['name']}</strong> (from the context).</p>
      ${
        this.orders
          ? html`<ul data-testid="items">
              ${this.orders.items.map((item) => html`<li><strong>${item.id}</strong> ${item.title} <span>${item.detail}</span></li>`)}
            </ul>`
          : nothing
      }
      ${this.status ? html`<p class="muted" role="status">${this.status}</p>` : nothing}
      <button type="button" @click=${this.#logout}>Log out</button>
    `;
  }
}

/** The micro-frontend's root: its own provider and gate, in its own shadow root. */
class MfeLitApp extends LitElement {
  static override styles = [
    panelStyles,
    css`
      auth-login-form {
        --auth-login-form-accent: var(--accent, #1d4ed8);
      }
      auth-login-form::part(input) {
        border: 1px solid #cbd5e1;
        border-radius: 0.375rem;
      }
    `,
  ];

  static override properties = {
    requests: { state: true },
  };

  declare requests: number;

  constructor() {
    super();
    this.requests = 0;
  }

  override render() {
    // Which copy of <auth-provider> is registered: the first bundle on the page wins the tag.
    const own = customElements.get('auth-provider') === AuthProvider;
    return html`
      <auth-provider api="/api" @mfe-request=${() => this.requests++}>
        <auth-gate>
          <p slot="pending" class="muted" role="status">Restoring session…</p>
          <auth-login-form slot="login" submit-label="Sign in (Lit)"></auth-login-form>
          <mfe-lit-orders></mfe-lit-orders>
        </auth-gate>
      </auth-provider>
      <p class="muted" data-testid="requests">
        Requests made by this panel: ${this.requests} (<code>GET /api/mfe/orders</code>).
      </p>
      <p class="muted">
        Bundle <code>dist/lit.js</code>, auth-shell ${VERSION}; &lt;auth-provider&gt; defined by
        ${own ? 'this bundle' : 'another bundle (first definition wins)'}.
      </p>
    `;
  }
}

customElements.define('mfe-lit-orders', MfeLitOrders);
customElements.define('mfe-lit-app', MfeLitApp);

const mount = document.getElementById('mfe-lit');
if (mount) mount.replaceChildren(document.createElement('mfe-lit-app'));

declare global {
  interface HTMLElementTagNameMap {
    'mfe-lit-orders': MfeLitOrders;
    'mfe-lit-app': MfeLitApp;
  }
}
