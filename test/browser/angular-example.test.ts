// The Angular example (examples/angular/): compiled ahead of time by Angular's compiler with
// CUSTOM_ELEMENTS_SCHEMA, bundled with Angular's linker, loaded in a frame. The first request builds
// it (test/support/frameworks-plugin.mjs), which takes a few seconds.
import { expect } from '@open-wc/testing';
import type { AuthProvider } from '../../src/index.js';
import { closeFrames, openFrame, serverLogout, until } from './helpers.js';

async function openExample(): Promise<Window> {
  const win = await openFrame('');
  const frame = [...document.querySelectorAll('iframe')].find((f) => f.contentWindow === win)!;
  win.location.replace('/examples/angular/index.html');
  await until(() => frame.contentWindow!.location.pathname === '/examples/angular/index.html', 'the example', 5000);
  return frame.contentWindow!;
}

const byTestId = (win: Window, id: string) =>
  win.document.querySelector(`[data-testid=${id}]`)?.textContent?.trim().replace(/\s+/g, ' ') ?? '';

beforeEach(() => serverLogout());
afterEach(() => closeFrames());

describe('Angular example (AOT, CUSTOM_ELEMENTS_SCHEMA)', () => {
  it('signs in with the form in the gate, shows the user and what authFetch got, and follows the logout', async function () {
    this.timeout(90_000); // the first request compiles and bundles the example
    const win = await openExample();
    await until(() => byTestId(win, 'state').startsWith('anonymous'), 'the Angular app, anonymous', 80_000);
    const form = win.document.querySelector('auth-login-form')!;
    await until(() => form.checkVisibility() && !!form.shadowRoot?.querySelector('form'), 'the login form shown');
    const input = (name: string) => form.shadowRoot!.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
    input('login').value = 'alice';
    input('pass').value = 'alice';
    form.shadowRoot!.querySelector('form')!.requestSubmit();
    await until(() => byTestId(win, 'user') === 'Alice', 'the user from the session', 5000);
    await until(() => byTestId(win, 'me') === 'Alice', 'GET /api/me through authFetch', 5000);
    expect(byTestId(win, 'state')).to.match(/^authenticated, [1-9]\d* change\(s\)$/);
    win.document.querySelector<HTMLButtonElement>('section button')!.click();
    await until(() => byTestId(win, 'state').startsWith('anonymous'), 'anonymous after the logout', 5000);
    expect(byTestId(win, 'me')).to.equal('');
    expect(form.checkVisibility(), 'the login form again').to.be.true;
  });

  it('a logout through the provider element reaches the component', async function () {
    this.timeout(90_000);
    const win = await openExample();
    await until(() => byTestId(win, 'state').startsWith('anonymous'), 'the Angular app, anonymous', 80_000);
    const provider = win.document.querySelector('auth-provider') as AuthProvider;
    await provider.login('bob', 'bob');
    await until(() => byTestId(win, 'user') === 'Bob', 'Bob', 5000);
    await provider.logout();
    await until(() => byTestId(win, 'state').startsWith('anonymous') && byTestId(win, 'user') === '', 'signed out');
  });
});
