// The same flows against both backend configurations: the default (POST + custom header, hardened
// backend) and the seed's (GET refresh/logout, seed-mode backend), each one attribute away.
import { expect, fixture, html } from '@open-wc/testing';
import { AuthProvider, SetupError, createSession } from '../../src/index.js';
import { disposeSessions, requestLog, requestsTo, startWorker, track, until, worker } from './helpers.js';

before(startWorker);
afterEach(() => {
  worker.resetHandlers();
  disposeSessions();
});

const configurations = [
  {
    name: 'default (POST + header)',
    api: '/api',
    method: 'POST',
    mount: () => html`<auth-provider api="/api"></auth-provider>`,
  },
  {
    name: 'seed (GET)',
    api: '/seed-api',
    method: 'GET',
    mount: () =>
      html`<auth-provider api="/seed-api" sid-cookie="" refresh-method="GET" logout-method="GET"></auth-provider>`,
  },
] as const;

for (const config of configurations) {
  describe(`configuration: ${config.name}`, () => {
    it('login → reload-style restore → refresh → authFetch → logout, against the real backend', async () => {
      const log = requestLog();
      const since = performance.now();
      const first = await fixture<AuthProvider>(config.mount());
      track(first.session!);
      await first.ready;
      await first.login('bob', 'bob');
      // A new page load: a fresh session restores from the HttpOnly cookie with one request.
      first.session!.dispose();
      const restored = createSession({ api: config.api, refreshMethod: config.method, logoutMethod: config.method });
      track(restored);
      await restored.restore();
      expect(restored.state).to.equal('authenticated');
      expect(restored.user).to.include({ name: 'Bob' });
      await restored.refresh();
      expect((await restored.authFetch(`${config.api}/me`)).status).to.equal(200);
      await restored.logout();
      log.stop();
      expect(log.count(`${config.method} ${config.api}/refresh`)).to.equal(3);
      // Counted by Resource Timing: the logout is a keepalive request, which Firefox sends around msw
      // (and whose entry Firefox may add a moment after the answer was read).
      await until(() => requestsTo(`${config.api}/logout`, since).length > 0, 'the logout in Resource Timing');
      expect(requestsTo(`${config.api}/logout`, since)).to.have.length(1);
      const other = config.method === 'GET' ? 'POST' : 'GET';
      expect(log.count(`${other} ${config.api}/refresh`)).to.equal(0);
      // The server revoked the family: a new load is anonymous.
      const after = createSession({ api: config.api, refreshMethod: config.method });
      track(after);
      await after.restore();
      expect(after.state).to.equal('anonymous');
    });
  });
}

describe('a mismatched configuration fails loudly, not as a logout', () => {
  it('GET refresh against the hardened backend: 405 → a SetupError (method) event, said in the console, nothing stored', async () => {
    const s = createSession({ api: '/api', refreshMethod: 'GET' });
    track(s);
    const errors: unknown[] = [];
    s.addEventListener('error', (e) => errors.push(e.detail.error));
    await s.restore();
    expect(s.state).to.equal('anonymous');
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(SetupError);
    expect(errors[0]).to.include({ code: 'setup', problem: 'method', status: 405 });
  });

  it('no anti-CSRF header against the hardened backend: 403 → a SetupError (forbidden)', async () => {
    const s = createSession({ api: '/api', csrfHeader: '' });
    track(s);
    const error = await s.login('alice', 'alice').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SetupError);
    expect(error).to.include({ code: 'setup', problem: 'forbidden', status: 403 });
    expect(s.state).not.to.equal('authenticated');
  });
});
