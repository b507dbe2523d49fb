// Several separately bundled copies of auth-shell on one page (each micro-frontend ships its own):
// one session per api, cross-bundle context, late provider definition, one version warning.
import { expect } from '@open-wc/testing';
import type * as AuthShell from '../../src/index.js';
import { captureWarnings, closeFrames, openFrame, serverLogin, serverLogout, until } from './helpers.js';

type Shell = typeof AuthShell;
interface Page {
  A: Shell;
  B: Shell;
  warnings: string[];
}

const refreshRequests = (win: Window) =>
  win.performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname === '/api/refresh')
    .length;
const visible = (win: Window, id: string) => win.document.getElementById(id)!.checkVisibility();

beforeEach(() => serverLogout());
afterEach(() => closeFrames());

const twoBundlesThreeProviders = `${captureWarnings}
  <auth-provider api="/api" id="p1">
    <auth-gate><p slot="pending">…</p><p slot="login" id="login1">login</p><p id="in1">in</p></auth-gate>
  </auth-provider>
  <auth-provider api="/api" id="p2">
    <auth-provider api="/api" id="p3">
      <auth-gate><p slot="login" id="login3">login</p><template><p id="in3">in</p></template></auth-gate>
      <div id="consumer"></div>
    </auth-provider>
  </auth-provider>
  <script type="module">import * as A from '/__bundles__/a.js'; window.A = A;</script>
  <script type="module">import * as B from '/__bundles__/b.js'; window.B = B;</script>`;

describe('two bundled copies on one page', () => {
  it('3 providers from 2 bundles share one session: exactly 1 restore request', async () => {
    await serverLogin('bob');
    const win = await openFrame<Page>(twoBundlesThreeProviders);
    await until(() => !!win.A && !!win.B, 'both bundles loaded');
    const [p1, p2, p3] = ['p1', 'p2', 'p3'].map((id) => win.document.getElementById(id) as AuthShell.AuthProvider);
    await Promise.all([p1!.ready, p2!.ready, p3!.ready]);
    expect(refreshRequests(win)).to.equal(1);
    // Objects of another frame are compared as booleans: on a failure chai would try to print them
    // and hang the run instead of failing it.
    expect(win.A.getSession('/api') === win.B.getSession('/api'), 'one session for both copies').to.be.true;
    expect(p1!.session === p3!.session, 'one session for every provider').to.be.true;
    expect(win.A.AuthProvider === win.B.AuthProvider, 'two real copies').to.be.false;
    expect([p1!.state, p2!.state, p3!.state]).to.deep.equal(['authenticated', 'authenticated', 'authenticated']);
  });

  it('login through one copy shows every gate protected content; logout through the other shows login everywhere', async () => {
    const win = await openFrame<Page>(twoBundlesThreeProviders);
    await until(() => !!win.A && !!win.B, 'both bundles loaded');
    await win.B.getSession('/api').ready;
    expect([visible(win, 'login1'), visible(win, 'login3')]).to.deep.equal([true, true]);
    await win.B.getSession('/api').login('alice', 'alice');
    await until(
      () => visible(win, 'in1') && !!win.document.getElementById('in3')?.checkVisibility(),
      'protected content in both gates',
    );
    await (win.document.getElementById('p1') as AuthShell.AuthProvider).logout();
    await until(() => visible(win, 'login1') && visible(win, 'login3'), 'login in both gates');
    expect(win.document.getElementById('in3')).to.equal(null);
  });

  it("a consumer using bundle B's helpers gets bundle A's provider, and B's sockets run on A's session", async () => {
    await serverLogin('alice');
    const win = await openFrame<Page>(twoBundlesThreeProviders);
    await until(() => !!win.A && !!win.B, 'both bundles loaded');
    const consumer = win.document.getElementById('consumer')!;
    const states: string[] = [];
    win.B.consumeAuth(consumer, (auth) => states.push(auth.state));
    const auth = await win.B.getAuth(consumer);
    await until(() => states.includes('authenticated'), 'authenticated through the context');
    expect((await auth.authFetch('/api/me')).status).to.equal(200);
    const socket = win.B.openSocket(win.B.getSession('/api'), '/api/ws');
    await new Promise((resolve, reject) => {
      socket.addEventListener('message', resolve, { once: true });
      socket.addEventListener('close', reject, { once: true });
    });
    socket.close();
    // The raw context-request protocol, no library code at all.
    const raw = await new Promise<{ state: string }>((resolve) => {
      const event = Object.assign(new Event('context-request', { bubbles: true, composed: true }), {
        context: Symbol.for('auth-shell.context'),
        contextTarget: consumer,
        callback: resolve,
        subscribe: false,
      });
      consumer.dispatchEvent(event);
    });
    expect(raw.state).to.equal('authenticated');
  });

  it('a copy of another version logs one warning, once', async () => {
    const win = await openFrame<Page>(twoBundlesThreeProviders);
    await until(() => !!win.A && !!win.B, 'both bundles loaded');
    const mine = win.warnings.filter((w) => w.includes('auth-shell'));
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include('9.9.9-test').and.include('0.1.0');
  });

  it('a newer copy that finds the session served by an older copy says so once; the older copy says nothing', async () => {
    const win = await openFrame<Page>(twoBundlesThreeProviders);
    await until(() => !!win.A && !!win.B, 'both bundles loaded');
    // The providers upgraded with bundle A's classes (0.1.0): A's copy created the session.
    const before = win.warnings.length;
    expect(win.A.getSession('/api') === win.B.getSession('/api'), 'one session').to.be.true;
    win.B.getSession('/api');
    const added = win.warnings.slice(before);
    expect(added).to.have.length(1);
    expect(added[0]).to.include('9.9.9-test').and.include('older copy').and.include('0.1.0');
  });

  it('a consumer that connected before the provider was defined gets the session once it is', async () => {
    await serverLogin('alice');
    const win = await openFrame<{ got: string[] }>(`
      <auth-provider api="/api"><div id="early"></div></auth-provider>
      <script type="module">
        import { consumeAuth } from '/__bundles__/ctx.js';
        window.got = [];
        consumeAuth(document.getElementById('early'), (auth) => window.got.push(auth.state));
      </script>`);
    await until(() => Array.isArray(win.got), 'the consumer ran');
    expect(win.got).to.deep.equal([]);
    expect(win.customElements.get('auth-provider')).to.equal(undefined);
    const script = win.document.createElement('script');
    script.type = 'module';
    script.textContent = "import '/__bundles__/a.js';";
    win.document.body.append(script);
    await until(() => win.got.includes('authenticated'), 'the late provider answered');
  });
});
