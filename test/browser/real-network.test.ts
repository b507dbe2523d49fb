// Behaviour of the real network stack, with nothing in between: this file never starts msw (whose
// service worker would follow redirects itself, and whose WebSocket interceptor replaces the
// browser's). A redirect from an allowed origin to another origin must not carry the bearer —
// browsers remove `Authorization` on cross-origin redirects (Fetch standard), proven here in each
// engine the suite runs — and a WebSocket handshake that never completes must time out.
import { expect } from '@open-wc/testing';
import { AuthSocket, createSession, openSocket } from '../../src/core/index.js';
import { disposeSessions, serverLogout, track, until } from './helpers.js';

const other = `http://127.0.0.1:${location.port}`;
const seen = async (id: string): Promise<{ method: string; authorization: string | null }[]> =>
  (await fetch(`/__probe/seen/${id}`)).json();

beforeEach(() => serverLogout());
afterEach(() => {
  disposeSessions();
});

describe('redirects', () => {
  it('the bearer sent to the page origin is not forwarded by a redirect to another origin', async () => {
    const s = track(createSession({ api: '/api' }));
    await s.login('alice', 'alice');
    const id = `cross-${Math.random().toString(36).slice(2)}`;
    await s.authFetch(`/__probe/redirect?to=${encodeURIComponent(`${other}/__probe/record/${id}`)}`).catch(() => {});
    const records = await seen(id);
    expect(records.filter((r) => r.method === 'GET')).to.have.length(1);
    expect(records.map((r) => r.authorization)).to.deep.equal(records.map(() => null));
  });

  it('a same-origin redirect keeps the bearer (the probe can see it)', async () => {
    const s = track(createSession({ api: '/api' }));
    await s.login('alice', 'alice');
    const id = `same-${Math.random().toString(36).slice(2)}`;
    await s.authFetch(`/__probe/redirect?to=${encodeURIComponent(`/__probe/record/${id}`)}`);
    const records = await seen(id);
    expect(records).to.have.length(1);
    expect(records[0]!.authorization).to.match(/^Bearer eyJ/);
  });
});

describe('socket handshakes', () => {
  it('a WebSocket handshake that never completes times out and follows the reconnect policy', async () => {
    const s = track(createSession({ api: '/api' }));
    await s.login('alice', 'alice');
    const socket = openSocket(s, '/__probe/ws-hang', { connectTimeout: 300, maxAttempts: 1, retryDelay: 20 });
    const events: string[] = [];
    for (const type of ['open', 'error', 'reconnecting', 'giveup', 'close'])
      socket.addEventListener(type, () => events.push(type));
    const started = performance.now();
    await until(() => events.includes('giveup'), 'giveup after the handshake timeouts', 5000);
    expect(performance.now() - started).to.be.below(3000);
    expect(events).to.include('reconnecting');
    expect(events).not.to.include('open');
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
    socket.close();
  });
});
