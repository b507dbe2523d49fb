import {
  ChangeDetectionStrategy,
  Component,
  CUSTOM_ELEMENTS_SCHEMA,
  DestroyRef,
  effect,
  inject,
  signal,
} from '@angular/core';
import { getSession, type User } from 'auth-shell/core';

/**
 * The page's session in Angular: auth-shell's elements in the template (CUSTOM_ELEMENTS_SCHEMA
 * lets Angular's compiler accept their tags, attributes and events), and the session the
 * providers share, from `getSession`, in signals.
 */
@Component({
  selector: 'app-root',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <auth-provider api="/api" (auth-change)="changes.set(changes() + 1)">
      <auth-gate>
        <p slot="pending">Restoring your session…</p>
        <auth-login-form slot="login" submit-label="Sign in (Angular)"></auth-login-form>
        <section>
          <p>
            Signed in as <strong data-testid="user">{{ user()?.['name'] }}</strong>; the API says
            <span data-testid="me">{{ me() }}</span>.
          </p>
          <button type="button" (click)="logout()">Log out</button>
        </section>
      </auth-gate>
    </auth-provider>
    <p data-testid="state">{{ state() }}, {{ changes() }} change(s)</p>
  `,
})
export class AppComponent {
  readonly #session = getSession('/api');
  readonly state = signal(this.#session.state);
  readonly user = signal<User | null>(this.#session.user);
  /** `auth-change` events seen: the provider's events bind like any DOM event. */
  readonly changes = signal(0);
  /** Who `GET /api/me` says we are, fetched with the session's bearer token. */
  readonly me = signal('');

  constructor() {
    const stop = this.#session.subscribe(({ state, user }) => {
      this.state.set(state);
      this.user.set(user);
    });
    inject(DestroyRef).onDestroy(stop);
    effect(async () => {
      if (this.state() !== 'authenticated') return this.me.set('');
      const res = await this.#session.authFetch('/api/me');
      const body = (await res.json()) as { name?: string };
      if (this.state() === 'authenticated') this.me.set(body.name ?? `HTTP ${res.status}`);
    });
  }

  logout(): void {
    this.#session.logout().catch((error: unknown) => console.warn('logout: the server could not be told yet', error));
  }
}
