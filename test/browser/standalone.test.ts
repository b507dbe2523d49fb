// The quick start without a bundler: the standalone build (everything bundled, as `npm run build`
// writes dist/standalone/) mapped by an import map, the first-frame stylesheet linked, plain markup
// and `import 'auth-shell'` in a module script. Served here from the same build definition.
import { expect } from '@open-wc/testing';
import { closeFrames, openFrame, serverLogout, until } from './helpers.js';

const page = `
  <link rel="stylesheet" href="/src/auth-shell.css">
  <script type="importmap">
    { "imports": { "auth-shell": "/__standalone__/auth-shell.js", "auth-shell/login-form": "/__standalone__/login-form.js" } }
  </script>
  <auth-provider api="/api">
    <auth-gate>
      <p slot="pending" id="pending">Restoring your session…</p>
      <auth-login-form slot="login"></auth-login-form>
      <template><p id="in">Welcome</p></template>
    </auth-gate>
  </auth-provider>
  <script type="module">
    import { getSession } from 'auth-shell';
    import 'auth-shell/login-form';
    window.session = getSession('/api');
  </script>`;

beforeEach(() => serverLogout());
afterEach(() => closeFrames());

describe('the standalone build through an import map', () => {
  it('restores, shows the login form, signs in through it and shows the protected content', async () => {
    const win = await openFrame<{ session: { state: string } }>(page);
    await until(() => win.session?.state === 'anonymous', 'restored: anonymous');
    const form = win.document.querySelector('auth-login-form')!;
    await until(
      () => !!form.shadowRoot?.querySelector('input[name=pass]') && form.checkVisibility(),
      'the login form shown',
    );
    const root = form.shadowRoot!;
    root.querySelector<HTMLInputElement>('input[name=login]')!.value = 'alice';
    root.querySelector<HTMLInputElement>('input[name=pass]')!.value = 'alice';
    root.querySelector('form')!.requestSubmit();
    await until(() => !!win.document.getElementById('in')?.checkVisibility(), 'the protected content shown');
    expect(win.session.state).to.equal('authenticated');
    expect(win.document.getElementById('pending')!.checkVisibility()).to.be.false;
  });
});
