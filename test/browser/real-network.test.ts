// Behaviour of the real network stack, with nothing in between: this file never starts msw (whose
// service worker would follow redirects itself, and whose WebSocket interceptor replaces the
// browser's). A redirect from an allowed origin to another origin must not carry the bearer —
// browsers remove `Authorization` on cross-origin redirects (Fetch standard), proven here in each
// engine the suite runs — and a WebSocket handshake that never completes must time out.
import { expect, oneEvent } from '@open-wc/testing';
import { AuthSocket, createSession, openSocket } from '../../src/core/index.js';
import { avoidedDelay, disposeSessions, serverLogout, track } from './helpers.js';

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
  it('a WebSocket handshake that never completes times out after connectTimeout and follows the reconnect policy', async () => {
    // The session's timeout (connectTimeout's default) is a minute: a socket that ignored the
    // option would wait that long for each handshake, and only its own timer can end one here
    // (/__probe/ws-hang never answers). So the giveup of both attempts coming before a 10 s timer
    // the test started first shows that connectTimeout ended each, however slow the machine.
    const tenSeconds = avoidedDelay(10_000, 'for a default handshake timeout, not connectTimeout');
    const s = track(createSession({ api: '/api', timeout: 60_000 }));
    await s.login('alice', 'alice');
    const socket = openSocket(s, '/__probe/ws-hang', { connectTimeout: 300, maxAttempts: 1, retryDelay: 20 });
    const events: string[] = [];
    for (const type of ['open', 'error', 'reconnecting', 'giveup', 'close'])
      socket.addEventListener(type, () => events.push(type));
    await tenSeconds.first(oneEvent(socket, 'giveup'));
    expect(events).to.include('reconnecting');
    expect(events).not.to.include('open');
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
    socket.close();
  });
});
