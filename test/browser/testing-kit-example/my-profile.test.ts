import { expect, waitUntil } from '@open-wc/testing';
import 'auth-shell';
import { authServer } from 'auth-shell/testing';
import './my-profile.js';

const server = authServer({
  api: '/api',
  users: [{ login: 'alice', password: 'secret', name: 'Alice', email: 'alice@example.com' }],
});

before(() => server.start()); // starts msw; with a worker of your own: server.start(worker)
afterEach(() => server.reset()); // a fresh server and a fresh page session for each test
after(() => server.stop());

const text = (element: Element) => element.shadowRoot!.textContent!;

describe('<my-profile>', () => {
  it("shows the user's name, and their e-mail from /api/me", async () => {
    const provider = await server.signedIn('alice', '<my-profile></my-profile>');
    const profile = provider.querySelector('my-profile')!;
    await waitUntil(() => text(profile).includes('alice@example.com'), 'the profile loads');
    expect(text(profile)).to.include('Signed in as Alice');
    expect(server.count('me')).to.equal(1);
  });

  it('still loads once the access token has expired: one refresh, one retry', async () => {
    const provider = await server.signedIn('alice', '<my-profile></my-profile>');
    const profile = provider.querySelector('my-profile')!;
    await waitUntil(() => text(profile).includes('alice@example.com'), 'the profile loads');
    server.expireToken();
    await profile.load();
    expect(text(profile)).to.include('alice@example.com');
    expect(server.count('refresh')).to.equal(2); // the restore, then the refresh after the 401
    expect(server.count('me')).to.equal(3); // the first load, the refused one, the retry
  });

  it('says so when the server cannot be reached, and recovers', async () => {
    const provider = await server.signedIn('alice', '<my-profile></my-profile>');
    const profile = provider.querySelector('my-profile')!;
    await waitUntil(() => text(profile).includes('alice@example.com'), 'the profile loads');
    server.failNetwork('me', 1);
    await profile.load();
    expect(text(profile)).to.include('The server cannot be reached.');
    await profile.load();
    expect(text(profile)).to.include('alice@example.com');
  });

  it('gives way to the login slot once the session is revoked', async () => {
    const provider = await server.signedIn(
      'alice',
      '<auth-gate><p slot="login">Please sign in</p><my-profile></my-profile></auth-gate>',
    );
    const gate = provider.querySelector('auth-gate')!;
    server.revoke(); // an administrator ended the session: its tokens are refused, the refresh too
    await provider.querySelector('my-profile')!.load();
    expect(provider.state).to.equal('anonymous');
    expect(gate.view).to.equal('login');
  });
});
