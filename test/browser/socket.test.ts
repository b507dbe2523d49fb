// AuthSocket against the reference backend's real WebSocket endpoint (/api/ws). The test routes
// /_ws/log, /_ws/close and /_ws/fault are scoped by the session id (`sid` claim), so files running
// in parallel never touch each other's sockets.
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { ContextConsumer } from '@lit/context';
import { ReactiveElement } from '@lit/reactive-element';
import {
  AuthProvider,
  AuthSocket,
  SocketError,
  UnauthenticatedError,
  UsageError,
  authContext,
  consumeAuth,
  createSession,
  openSocket,
  type Activity,
  type AuthSocketCloseEvent,
  type Session,
  type SocketOptions,
} from '../../src/index.js';
import {
  avoidedDelay,
  disposeSessions,
  hello,
  JWT_PATTERN,
  loggedIn,
  manualClock,
  serverLogout,
  sleep,
  track,
  uniqueTag,
  until,
} from './helpers.js';

interface Handshake {
  jti: string;
  via: 'token' | 'ticket';
  openedAt: number;
  closedAt?: number;
  closeCode?: number;
  closeReason?: string;
  closedBy?: 'client' | 'server';
}

const sockets: AuthSocket[] = [];

function open(session: Session, options: SocketOptions = {}): AuthSocket {
  const socket = openSocket(session, '/api/ws', { retryDelay: 20, ...options });
  sockets.push(socket);
  return socket;
}
const sidOf = (session: Session) => String(session.user!['sid']);
const wsLogOf = async (sid: string): Promise<Handshake[]> => (await fetch(`/api/_ws/log?sid=${sid}`)).json();
const wsLog = (session: Session) => wsLogOf(sidOf(session));
const serverClose = (session: Session, code: number) =>
  fetch(`/api/_ws/close?sid=${sidOf(session)}&code=${code}&reason=test`, { method: 'POST' });
const fault = (session: Session, code: number, times?: number) =>
  fetch(`/api/_ws/fault?sid=${sidOf(session)}&code=${code}${times ? `&times=${times}` : ''}`, { method: 'POST' });
const clearFault = (session: Session) => fetch(`/api/_ws/fault?sid=${sidOf(session)}`, { method: 'DELETE' });

/** Collects the JSON messages of a socket. */
function messages(socket: AuthSocket) {
  const seen: { type: string; [key: string]: unknown }[] = [];
  socket.addEventListener('message', (e) => seen.push(JSON.parse(e.data as string)));
  return seen;
}
const echoes = (seen: { type: string; data?: unknown }[]) => seen.filter((m) => m.type === 'echo').map((m) => m.data);

function refreshCounter(session: Session) {
  const starts: Activity[] = [];
  session.addEventListener(
    'activity',
    (e) => e.detail.kind === 'refresh' && e.detail.phase === 'start' && starts.push(e.detail),
  );
  return starts;
}

beforeEach(() => serverLogout());
afterEach(async () => {
  for (const socket of sockets.splice(0)) if (socket.readyState !== AuthSocket.CLOSED) socket.close();
  disposeSessions();
});

describe('AuthSocket: connecting', () => {
  it('connects with the token in the URL, exchanges messages, and never exposes the token', async () => {
    const session = await loggedIn();
    const socket = open(session);
    const seen = messages(socket);
    expect(socket.readyState).to.equal(AuthSocket.CONNECTING);
    await oneEvent(socket, 'open');
    expect(socket.readyState).to.equal(AuthSocket.OPEN);
    expect(socket.url).to.equal(`ws://${location.host}/api/ws`);
    socket.send('ping');
    await until(() => echoes(seen).includes('ping'), 'the echo');
    expect(seen[0]).to.include({ type: 'hello', user_id: 1 });
    const log = await wsLog(session);
    expect(log).to.have.length(1);
    expect(log[0]!.via).to.equal('token');
  });

  it('while the session restores it waits, then connects', async () => {
    const first = await loggedIn();
    first.dispose();
    const session = track(createSession({ api: '/api' }));
    const socket = open(session);
    void session.restore();
    await oneEvent(socket, 'open');
    expect(session.state).to.equal('authenticated');
  });

  it('opened while anonymous: an UnauthenticatedError, then closed; nothing connects', async () => {
    const session = track(createSession({ api: '/api' }));
    await session.restore();
    const socket = open(session);
    const error = oneEvent<Event & { error: unknown }>(socket, 'error');
    const closed = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    expect((await error).error).to.be.instanceOf(UnauthenticatedError);
    expect((await closed).code).to.equal(1000);
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
    expect(() => socket.send('x')).to.throw(SocketError, /closed/);
  });

  it('refuses an origin that may not receive the token', async () => {
    const session = await loggedIn();
    expect(() => openSocket(session, 'wss://evil.example/ws')).to.throw(UsageError);
    expect(() => openSocket(session, `ws://127.0.0.1:${location.port}/api/ws`)).to.throw(UsageError);
    expect(() => openSocket(session, 'ftp://x/ws')).to.throw(UsageError);
    expect(() => openSocket(session, '/api/ws', { maxAttempts: -1 })).to.throw(UsageError, /maxAttempts/);
  });

  it('takes a fresh token at every connect: a stale token is refreshed before reconnecting', async () => {
    const clock = manualClock();
    const session = await loggedIn({ clock: clock.now });
    const socket = open(session);
    await hello(socket);
    const refreshes = refreshCounter(session);
    clock.advance(10 * 60_000); // the token is now expired as far as the client knows
    const greeted = hello(socket);
    await serverClose(session, 1012);
    await greeted;
    expect(refreshes).to.have.length(1);
    const log = await wsLog(session);
    expect(log).to.have.length(2);
    expect(log[1]!.jti).not.to.equal(log[0]!.jti);
  });
});

describe('AuthSocket: close codes', () => {
  it('4001 → exactly one refresh → reconnect with the new token → messages resume', async () => {
    const session = await loggedIn();
    const socket = open(session);
    const seen = messages(socket);
    await hello(socket);
    const refreshes = refreshCounter(session);
    const reconnecting = oneEvent<CustomEvent>(socket, 'reconnecting');
    const reconnected = oneEvent(socket, 'reconnected');
    const greeted = hello(socket);
    await serverClose(session, 4001);
    expect((await reconnecting).detail).to.include({ attempt: 1, code: 4001, delay: 0 });
    await reconnected;
    await greeted;
    expect(refreshes.map((r) => r.reason)).to.deep.equal(['unauthorized']);
    const log = await wsLog(session);
    expect(log.map((h) => h.closeCode)).to.deep.equal([4001, undefined]);
    expect(log[1]!.jti).not.to.equal(log[0]!.jti);
    socket.send('after');
    await until(() => echoes(seen).includes('after'), 'messages after the reconnect');
  });

  it('1008 whose refresh answers 401: no reconnect, the session is anonymous, the socket closed', async () => {
    // carol: "log out everywhere" revokes every session of the user, in every test file.
    const session = await loggedIn({}, 'carol');
    const sid = sidOf(session);
    const socket = open(session, { retryDelay: 400 });
    await hello(socket);
    // The next handshake is refused with 1008; while the socket waits to reconnect, the session is
    // revoked elsewhere ("log out everywhere" from another device), so the refresh will answer 401.
    await fault(session, 1008, 1);
    const reconnecting = oneEvent<CustomEvent>(socket, 'reconnecting');
    await serverClose(session, 1011);
    await reconnecting;
    const closing = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    // From another device: carol signs in there and logs out everywhere; nothing reaches this
    // browser's cookies (which would tell the session before its refresh).
    const elsewhere = {
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'auth-shell' },
    } as const;
    const { access_token: token } = await (
      await fetch('/api/login', {
        ...elsewhere,
        method: 'POST',
        body: JSON.stringify({ login: 'carol', pass: 'carol' }),
      })
    ).json();
    const everywhere = { method: 'POST', credentials: 'omit', headers: { Authorization: `Bearer ${token}` } } as const;
    expect((await fetch('/api/logout-everywhere', everywhere)).status).to.equal(204);
    const closed = await closing;
    expect(closed.code).to.equal(1000);
    expect(session.state).to.equal('anonymous');
    // No reconnect after it. A wrong one would be a handshake, which reaches the server on a
    // connection of its own: nothing the page can await is ordered after it, so time is the signal.
    await sleep(200);
    expect((await wsLogOf(sid)).map((h) => h.closeCode)).to.deep.equal([1011, 1008]);
  });

  it('1000 from the server: closed for good, no reconnect', async () => {
    const session = await loggedIn();
    const socket = open(session);
    await hello(socket);
    // Listen first: the socket can close before the test route's HTTP answer arrives.
    const closing = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    await serverClose(session, 1000);
    const closed = await closing;
    expect(closed.code).to.equal(1000);
    // No reconnect. A wrong one would be a handshake, which reaches the server on a connection of
    // its own: nothing the page can await is ordered after it, so time is the signal.
    await sleep(150);
    expect(await wsLog(session)).to.have.length(1);
  });

  it('a server that always closes 4001: at most maxAttempts reconnects, then giveup; reconnect() by hand', async () => {
    const session = await loggedIn();
    await fault(session, 4001);
    const socket = open(session, { maxAttempts: 3 });
    const attempts: number[] = [];
    socket.addEventListener('reconnecting', (e) => attempts.push(e.detail.attempt));
    const giveup = await oneEvent<CustomEvent>(socket, 'giveup');
    expect(giveup.detail).to.deep.equal({ attempts: 3, code: 4001, reason: 'injected fault' });
    expect(attempts).to.deep.equal([1, 2, 3]);
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
    // No attempt after giveup. A wrong one would be a handshake, which reaches the server on a
    // connection of its own: nothing the page can await is ordered after it, so time is the signal.
    await sleep(150);
    expect(await wsLog(session)).to.have.length(4);
    await clearFault(session);
    socket.reconnect();
    await oneEvent(socket, 'open');
    expect(socket.readyState).to.equal(AuthSocket.OPEN);
  });

  it('abnormal closes back off exponentially with jitter, capped, then give up', async () => {
    const session = await loggedIn();
    await fault(session, 1011);
    const socket = open(session, { retryDelay: 40, maxRetryDelay: 100, maxAttempts: 4 });
    const schedule: { attempt: number; delay: number; code: number }[] = [];
    socket.addEventListener('reconnecting', (e) => schedule.push(e.detail));
    await oneEvent(socket, 'giveup');
    expect(schedule.map((s) => [s.attempt, s.code])).to.deep.equal([
      [1, 1011],
      [2, 1011],
      [3, 1011],
      [4, 1011],
    ]);
    // [0.5, 1] × min(cap, base × 2^(attempt−1))
    const bounds = [40, 80, 100, 100];
    schedule.forEach(({ delay }, i) => expect(delay).to.be.within(bounds[i]! / 2, bounds[i]!));
    expect(new Set(schedule.map((s) => s.delay)).size).to.be.greaterThan(1);
  });

  it('an abrupt loss (1006) reconnects; `online` skips the wait', async () => {
    const session = await loggedIn();
    const socket = open(session, { retryDelay: 60_000 });
    await hello(socket);
    const reconnecting = oneEvent<CustomEvent>(socket, 'reconnecting');
    await serverClose(session, 1006);
    expect((await reconnecting).detail.code).to.equal(1006);
    window.dispatchEvent(new Event('online'));
    await oneEvent(socket, 'reconnected');
  });

  it('the attempt counter resets once a connection stayed open long enough', async () => {
    const session = await loggedIn();
    const socket = open(session, { stableAfter: 100, maxAttempts: 1 });
    await hello(socket);
    for (let i = 0; i < 3; i++) {
      const greeted = hello(socket);
      const reconnected = oneEvent(socket, 'reconnected');
      await serverClose(session, 1011);
      await reconnected;
      await greeted;
      await sleep(150); // the scenario: the connection stays open longer than stableAfter
    }
    expect(socket.readyState).to.equal(AuthSocket.OPEN);
  });
});

describe('AuthSocket: logout and lifetime', () => {
  it('logout closes the socket with 1000 at once and stops reconnecting', async () => {
    const session = await loggedIn();
    const socket = open(session);
    await oneEvent(socket, 'open');
    const closed = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    void session.logout();
    // At once: the memory is cleared in the call, and the socket starts closing in the same task —
    // before the logout request is even answered, not at a later check.
    expect(socket.readyState).to.equal(AuthSocket.CLOSING);
    const event = await closed;
    expect(event.code).to.equal(1000);
    // By the close handshake, not by the 1 s fallback for a server that does not answer it.
    expect(event.wasClean).to.be.true;
    // Listeners run within dispatchEvent, and a socket that reconnects leaves CLOSED at once.
    window.dispatchEvent(new Event('online'));
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
  });

  it('the server saw the client close with 1000 after logout', async () => {
    const session = await loggedIn();
    const sid = sidOf(session);
    const socket = open(session);
    await hello(socket);
    const closed = oneEvent(socket, 'close');
    await session.logout();
    // The server answered the close frame; it records the close when its side of the connection
    // has closed too, about then: asked until it has.
    await closed;
    let log = await wsLogOf(sid);
    for (const giveUp = performance.now() + 5000; log[0]?.closedAt === undefined; log = await wsLogOf(sid))
      if (performance.now() > giveUp) throw new Error('the server never recorded the close of the socket');
    expect(log[0]!.closeCode).to.equal(1000);
    expect(log[0]!.closedBy).to.equal('client');
  });

  it('queues messages while not open, sends them in order on open; overflow is a typed error; unsent ones come back on close', async () => {
    const session = await loggedIn();
    const socket = open(session, { queueLimit: 3 });
    const seen = messages(socket);
    socket.send('a');
    socket.send('b');
    socket.send('c');
    expect(socket.queued).to.equal(3);
    expect(() => socket.send('d'))
      .to.throw(SocketError)
      .with.property('code', 'queue-full');
    await until(() => echoes(seen).length === 3, 'three echoes');
    expect(echoes(seen)).to.deep.equal(['a', 'b', 'c']);

    const other = open(session);
    other.send('never sent');
    const closed = oneEvent<AuthSocketCloseEvent>(other, 'close');
    other.close();
    expect((await closed).unsent).to.deep.equal(['never sent']);
  });

  it('an aborted signal closes the socket; no timer or listener brings it back', async () => {
    const session = await loggedIn();
    const controller = new AbortController();
    const socket = open(session, { signal: controller.signal });
    await hello(socket);
    const closed = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    controller.abort();
    expect((await closed).code).to.equal(1000);
    window.dispatchEvent(new Event('online'));
    document.dispatchEvent(new Event('visibilitychange'));
    await session.refresh();
    // No reconnect. A wrong one would be a handshake, which reaches the server on a connection of
    // its own: nothing the page can await is ordered after it, so time is the signal.
    await sleep(150);
    expect(await wsLog(session)).to.have.length(1);
  });
});

describe('AuthSocket: the queue and `open`', () => {
  /** The next `count` echoes of `socket`, in the order the server received the messages. */
  const nextEchoes = (socket: AuthSocket, count: number) =>
    new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      const listener = (e: MessageEvent) => {
        const message = JSON.parse(e.data as string) as { type: string; data?: unknown };
        if (message.type === 'echo') got.push(message.data);
        if (got.length < count) return;
        socket.removeEventListener('message', listener);
        resolve(got);
      };
      socket.addEventListener('message', listener);
    });
  /** On the next `open`: what the page sees then, and a message it sends from its listener. */
  const atNextOpen = (socket: AuthSocket, message: string) =>
    new Promise<{ queued: number; readyState: number }>((resolve) => {
      socket.addEventListener(
        'open',
        () => {
          resolve({ queued: socket.queued, readyState: socket.readyState });
          socket.send(message);
        },
        { once: true },
      );
    });

  it('messages sent while connecting reach the server in order and before what the `open` listener sends; `open` comes with the queue flushed', async () => {
    const session = await loggedIn();
    const socket = open(session);
    const echoed = nextEchoes(socket, 4);
    const opened = atNextOpen(socket, 'from open');
    for (const message of ['q1', 'q2', 'q3']) socket.send(message);
    expect(socket.queued).to.equal(3);
    expect(await opened).to.deep.equal({ queued: 0, readyState: AuthSocket.OPEN });
    expect(await echoed).to.deep.equal(['q1', 'q2', 'q3', 'from open']);
  });

  it('so does every reconnection: what was queued while reconnecting goes out first, then `open`', async () => {
    const session = await loggedIn();
    const socket = open(session);
    await hello(socket);
    // Sent from `disconnected`: the connection is gone, the next one not there yet.
    socket.addEventListener('disconnected', () => ['r1', 'r2'].forEach((message) => socket.send(message)), {
      once: true,
    });
    const echoed = nextEchoes(socket, 3);
    const reopened = atNextOpen(socket, 'from reopen');
    await serverClose(session, 1012);
    expect(await reopened).to.deep.equal({ queued: 0, readyState: AuthSocket.OPEN });
    expect(await echoed).to.deep.equal(['r1', 'r2', 'from reopen']);
  });
});

describe('AuthSocket: ticket mode', () => {
  it('connects with a one-time ticket instead of the token', async () => {
    const session = await loggedIn();
    const socket = open(session, { ticket: true });
    await hello(socket);
    const log = await wsLog(session);
    expect(log.map((h) => h.via)).to.deep.equal(['ticket']);
  });

  it('a ticket cannot be used twice', async () => {
    const session = await loggedIn();
    const res = await session.authFetch('/api/ws-ticket', { method: 'POST' });
    const { ticket } = await res.json();
    const first = new WebSocket(`/api/ws?ticket=${ticket}`);
    await oneEvent(first, 'open');
    const second = new WebSocket(`/api/ws?ticket=${ticket}`);
    const closed = await oneEvent<CloseEvent>(second, 'close');
    expect(closed.code).to.equal(4001);
    first.close();
  });
});

describe('sockets through the context', () => {
  it('closes when the consuming element leaves the DOM, unless it opted out', async () => {
    const tag = uniqueTag('socket-owner');
    class Owner extends ReactiveElement {
      auth = new ContextConsumer(this, { context: authContext, subscribe: true });
    }
    customElements.define(tag, Owner);
    await serverLogoutThenLogin();
    const provider = await fixture<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    track(provider.session!);
    await provider.ready;
    const owner = document.createElement(tag) as Owner;
    const keeper = document.createElement(tag) as Owner;
    provider.append(owner, keeper);
    const owned = owner.auth.value!.openSocket('/api/ws');
    const kept = keeper.auth.value!.openSocket('/api/ws', { closeOnDisconnect: false });
    sockets.push(owned, kept);
    await Promise.all([oneEvent(owned, 'open'), oneEvent(kept, 'open')]);
    const closed = oneEvent<AuthSocketCloseEvent>(owned, 'close');
    owner.remove();
    keeper.remove();
    // The owned socket's close is the signal: one for the kept socket would have started with it,
    // at the removal, and a closing socket is no longer OPEN.
    expect((await closed).code).to.equal(1000);
    expect(kept.readyState).to.equal(AuthSocket.OPEN);
  });

  it('a plain element (no Lit) that opened a socket through consumeAuth closes it when removed', async () => {
    await serverLogoutThenLogin();
    const provider = await fixture<AuthProvider>(
      html`<auth-provider api="/api"
        ><section><div id="plain"></div></section
      ></auth-provider>`,
    );
    track(provider.session!);
    await provider.ready;
    const plain = provider.querySelector('#plain')!;
    let socket: AuthSocket | undefined;
    consumeAuth(plain, (auth) => (socket ??= auth.openSocket('/api/ws')));
    sockets.push(socket!);
    await oneEvent(socket!, 'open');
    const closed = oneEvent<AuthSocketCloseEvent>(socket!, 'close');
    provider.querySelector('section')!.remove();
    expect((await closed).code).to.equal(1000);
  });

  it('the provider opens sockets too, and its logout closes them', async () => {
    await serverLogoutThenLogin();
    const provider = await fixture<AuthProvider>(html`<auth-provider api="/api"></auth-provider>`);
    track(provider.session!);
    await provider.ready;
    const socket = provider.openSocket('/api/ws');
    sockets.push(socket);
    await oneEvent(socket, 'open');
    const closed = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    await provider.logout();
    expect((await closed).code).to.equal(1000);
  });
});

describe('AuthSocket: no token leaks', () => {
  it('no token in any socket event, error or URL — failed connections and error events included', async () => {
    const session = await loggedIn();
    const socket = open(session, { maxAttempts: 1 });
    // A second socket whose handshake never completes: its attempts fail with error events.
    const hanging = openSocket(session, '/__probe/ws-hang', { maxAttempts: 1, connectTimeout: 200, retryDelay: 20 });
    sockets.push(hanging);
    const texts: string[] = [socket.url, hanging.url];
    let errors = 0;
    const record = (e: Event) => {
      const error = (e as { error?: Error }).error;
      if (e.type === 'error') errors++;
      texts.push(
        JSON.stringify({
          ...(e as CustomEvent).detail,
          code: (e as CloseEvent).code,
          reason: (e as CloseEvent).reason,
          data: (e as MessageEvent).data,
          origin: (e as MessageEvent).origin,
          error: `${String(error ?? '')} ${error?.message ?? ''} ${String(error?.cause ?? '')}`,
        }),
      );
    };
    for (const target of [socket, hanging]) {
      for (const type of ['open', 'message', 'close', 'error', 'disconnected', 'reconnecting', 'reconnected', 'giveup'])
        target.addEventListener(type, record);
    }
    await hello(socket);
    const greeted = hello(socket);
    const reconnected = oneEvent(socket, 'reconnected');
    await serverClose(session, 4001);
    await reconnected;
    await greeted;
    await fault(session, 1011);
    const gaveUp = oneEvent(socket, 'giveup');
    await serverClose(session, 1011);
    await gaveUp;
    await until(() => errors >= 2, 'error events from the hanging handshakes');
    const closed = oneEvent(socket, 'close');
    socket.close();
    await closed;
    expect(texts.length).to.be.greaterThan(5);
    for (const text of texts) expect(text).not.to.match(JWT_PATTERN);
  });
});

describe('AuthSocket: closing', () => {
  it('a server that never answers the close frame: `close` comes by the close fallback anyway, not clean', async () => {
    // The fallback's 1 s is pinned by the socket table's test (test/node/socket-machine.test.js).
    // Here: the close the page gets is the fallback's — the code and reason it asked for, not clean
    // — not the browser's own give-up on the handshake (1006, no reason, after many seconds), and
    // it comes before a 10 s timer the test started first.
    const tenSeconds = avoidedDelay(10_000, "for the browser's own close timeout, not the fallback");
    const session = await loggedIn();
    const socket = openSocket(session, '/__probe/ws-deaf', { retryDelay: 20 });
    sockets.push(socket);
    await oneEvent(socket, 'open');
    const closed = oneEvent<AuthSocketCloseEvent>(socket, 'close');
    socket.close(1000, 'bye');
    expect(socket.readyState).to.equal(AuthSocket.CLOSING);
    const event = await tenSeconds.first(closed);
    expect(event.wasClean).to.be.false;
    expect(event.code).to.equal(1000);
    expect(event.reason).to.equal('bye');
    expect(socket.readyState).to.equal(AuthSocket.CLOSED);
  });
});

async function serverLogoutThenLogin(): Promise<void> {
  await serverLogout();
  await fetch('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'auth-shell' },
    body: JSON.stringify({ login: 'alice', pass: 'alice' }),
    credentials: 'include',
  });
}
