import { ContextConsumer } from '@lit/context';
import { LitElement, html } from 'lit';
import { authContext } from 'auth-shell';

/** Who is signed in, and their e-mail address from `GET /api/me`. */
export class MyProfile extends LitElement {
  static override properties = { email: { state: true }, problem: { state: true } };
  declare email: string | undefined;
  declare problem: string | undefined;

  readonly #auth = new ContextConsumer(this, {
    context: authContext,
    subscribe: true,
    callback: (auth) => {
      if (auth.state === 'authenticated' && this.email === undefined) void this.load();
    },
  });

  /** Loads the profile with the session's authFetch: it sends the token, refreshes and retries on 401. */
  async load(): Promise<void> {
    try {
      const res = await this.#auth.value!.authFetch('/api/me');
      this.email = res.ok ? (await res.json()).email : undefined;
      this.problem = res.ok ? undefined : `The profile could not be loaded (${res.status}).`;
    } catch {
      this.problem = 'The server cannot be reached.';
    }
    await this.updateComplete;
  }

  override render() {
    const auth = this.#auth.value;
    if (auth?.state !== 'authenticated') return html``;
    return html`<p>Signed in as ${auth.user?.name}</p>
      <p>${this.problem ?? this.email ?? 'Loading…'}</p>`;
  }
}
customElements.define('my-profile', MyProfile);

declare global {
  interface HTMLElementTagNameMap {
    'my-profile': MyProfile;
  }
}
