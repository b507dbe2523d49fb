// The micro-frontend demo page (demo/mfe/): a plain-HTML shell and Lit, React 19 and Vue 3
// micro-frontends, four separate bundles with four copies of auth-shell, on one session.
import { expect } from '@open-wc/testing';
import { closeFrames, openFrame, serverLogin, serverLogout, until } from './helpers.js';

/**
 * Opens the demo page in an iframe (same origin: it shares the test's cookies and backend).
 * `beforeNavigation` runs just before the frame navigates to the demo page.
 */
async function openDemo(beforeNavigation?: (frame: HTMLIFrameElement) => void): Promise<Window> {
  // Navigate only once the blank frame has loaded: in Firefox a location.replace() run while the
  // frame's own page is parsed cancels that load, so the first load event is the demo's, after it rendered.
  const win = await openFrame('');
  const frame = [...document.querySelectorAll('iframe')].find((f) => f.contentWindow === win)!;
  beforeNavigation?.(frame);
  win.location.replace('/demo/mfe/index.html');
  await until(() => frame.contentWindow!.location.pathname === '/demo/mfe/index.html', 'the demo page', 5000);
  return frame.contentWindow!;
}

/** Every element matching `selector`, also inside open shadow roots. */
function deepAll(root: ParentNode, selector: string): Element[] {
  const found = [...root.querySelectorAll(selector)];
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) found.push(...deepAll(el.shadowRoot, selector));
  return found;
}

const panelUsers = (win: Window) =>
  ['#mfe-lit', '#mfe-react', '#mfe-vue'].map(
    (id) =>
      deepAll(win.document.querySelector(id)!, '[data-testid=user]')
        .find((el) => el.checkVisibility())
        ?.textContent?.trim() ?? '',
  );
const refreshRequests = (win: Window) =>
  win.performance.getEntriesByType('resource').filter((entry) => new URL(entry.name).pathname === '/api/refresh')
    .length;

beforeEach(() => serverLogout());
afterEach(() => closeFrames());

describe('micro-frontends: Lit, React, Vue on one session', () => {
  it('one restore request for the whole page; a login in one panel reaches all; a logout in another ends all', async () => {
    const win = await openDemo();
    await until(
      () =>
        deepAll(win.document, 'auth-provider').length >= 4 &&
        deepAll(win.document, 'auth-provider').every((p) => p.getAttribute('state') === 'anonymous'),
      'every provider anonymous',
      8000,
    );
    expect(refreshRequests(win)).to.equal(1);
    const vueForm = deepAll(win.document.querySelector('#mfe-vue')!, 'auth-login-form')[0]!;
    const input = (name: string) => vueForm.shadowRoot!.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
    input('login').value = 'bob';
    input('pass').value = 'bob';
    vueForm.shadowRoot!.querySelector('form')!.requestSubmit();
    await until(() => panelUsers(win).every((name) => name === 'Bob'), 'Bob in every panel', 8000);
    expect(refreshRequests(win)).to.equal(1);
    const reactLogout = [...win.document.querySelectorAll<HTMLButtonElement>('#mfe-react button')].find(
      (b) => b.textContent === 'Log out',
    )!;
    reactLogout.click();
    await until(
      () => deepAll(win.document, 'auth-provider').every((p) => p.getAttribute('state') === 'anonymous'),
      'every provider anonymous again',
      5000,
    );
    await until(() => panelUsers(win).every((name) => name === ''), 'no user data left in any panel', 5000);
  });

  it('React Router loaders: an authenticated reload never renders /auth; an anonymous one never renders /', async () => {
    for (const signedIn of [true, false]) {
      if (signedIn) await serverLogin('alice');
      else await serverLogout();
      const wrong = signedIn ? '[data-route="/auth"]' : '[data-route="/"]';
      const right = signedIn ? '[data-route="/"] [data-testid=items] li' : '[data-route="/auth"] auth-login-form';
      let frames = 0;
      let sawWrong = false;
      let sawLoginMarkup = false;
      let watched!: Promise<void>;
      // The watch starts before the navigation, on this page's animation frames (the frame's document
      // renders in the same frames), and counts the demo document's frames from its first one: started
      // after the navigation, it came too late in WebKit, where the view was already there.
      await openDemo((frame) => {
        watched = new Promise<void>((resolve, reject) => {
          const started = performance.now();
          const check = () => {
            const win = frame.contentWindow!;
            if (win.location.pathname === '/demo/mfe/index.html') {
              frames++;
              const mount = win.document.querySelector('#mfe-react');
              if (mount) {
                sawWrong ||= !!mount.querySelector(wrong);
                if (signedIn) sawLoginMarkup ||= deepAll(mount, 'auth-login-form').some((el) => el.checkVisibility());
                if (mount.querySelector(right)?.checkVisibility()) return resolve();
              }
            }
            if (performance.now() - started > 8000)
              return reject(new Error(`the ${signedIn ? 'profile' : 'login'} view never showed`));
            requestAnimationFrame(check);
          };
          requestAnimationFrame(check);
        });
      });
      await watched;
      expect(frames, 'frames watched').to.be.greaterThan(1);
      expect(sawWrong, `${wrong} rendered during the ${signedIn ? 'authenticated' : 'anonymous'} reload`).to.be.false;
      expect(sawLoginMarkup, 'login markup during the authenticated reload').to.be.false;
      closeFrames();
    }
  });
});
