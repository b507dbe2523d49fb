// @ts-check
/**
 * Authenticated WebSockets for the demo backend: `{base}/ws` on any Node http server, with a Host
 * and Origin check at the upgrade, an access token or a one-time ticket (minted and redeemed by
 * auth-shell/server) in the query string, and close codes a client can act on (1008 no credential,
 * 4001 refresh then reconnect). See README.md.
 */
import { WebSocket, WebSocketServer } from 'ws';
import { redactUrl } from '../../src/server/http.js';

/** Close codes sent by the server (1006 is never sent: it is what a client sees after terminate()). */
export const CLOSE = Object.freeze({
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  POLICY: 1008,
  SERVER_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4001,
});

/** Codes `_ws/close` and `_ws/fault` take: any code a server may send, plus 1006 for terminate(). @param {number} code */
export function isInjectableCode(code) {
  if (!Number.isInteger(code)) return false;
  if (code === 1006) return true;
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005) || (code >= 3000 && code <= 4999);
}

const MAX_PAYLOAD = 64 * 1024;
const MAX_EARLY_MESSAGES = 16;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_RECORDS_PER_SID = 200;
const MAX_SIDS_LOGGED = 1000;
const STATUS_TEXT = Object.freeze({ 400: 'Bad Request', 403: 'Forbidden', 421: 'Misdirected Request' });

/**
 * @typedef {import('node:http').IncomingMessage} Req
 * @typedef {import('node:http').Server} HttpServer
 * @typedef {import('node:stream').Duplex} Duplex
 * @typedef {{ user_id: number, name: string }} SocketUser
 * @typedef {{ valid: boolean, userId: string, sid: string | null, jti: string | null, exp: number }} RedeemedTicket
 * @typedef {{ ok: true, payload: import('jose').JWTPayload, user: SocketUser }
 *   | { ok: false, payload?: import('jose').JWTPayload }} TokenCheck
 *   `payload` on failure only when the signature verified (claims, revocation or user failed).
 *
 * @typedef {object} HubOptions
 * @property {string} base
 * @property {number} feedInterval ms between ticks; 0 disables
 * @property {number} maxSocketsPerUser open (authenticated) sockets per user
 * @property {boolean} testRoutes keep per-sid handshake records
 * @property {(line: string) => void} log
 * @property {() => number} now
 * @property {Record<string, number>} stats
 * @property {(req: Req) => boolean} isAllowedHost the Host header is one this backend answers to
 * @property {(req: Req, origin: string) => boolean} isAllowedOrigin
 * @property {(token: string) => Promise<TokenCheck>} checkToken signature, claims, revoked jti, known user
 * @property {(ticket: string) => Promise<RedeemedTicket | null>} redeemTicket spends a ticket (auth-shell/server)
 * @property {(jti: string) => boolean} isJtiRevoked
 * @property {(sid: string) => Promise<boolean>} isSessionRevoked
 * @property {(userId: string) => SocketUser | undefined} findUserById
 *
 * @typedef {{ jti: string | null, via: 'token' | 'ticket', openedAt: number, closedAt?: number,
 *   closeCode?: number, closeReason?: string, closedBy?: 'client' | 'server' }} HandshakeRecord
 *
 * @typedef {{ ok: true, via: 'token' | 'ticket', user: SocketUser, sid: string | null, jti: string | null, exp: number }
 *   | { ok: false, code: number, reason: string, via?: 'token' | 'ticket', sid?: string | null, jti?: string | null }} HandshakeAuth
 *
 * @typedef {object} Conn
 * @property {WebSocket} ws
 * @property {string} shown the request path for logs, query redacted
 * @property {boolean} authed
 * @property {number | null} userId set once authenticated
 * @property {string | null} sid
 * @property {string | null} jti
 * @property {HandshakeRecord | null} record
 * @property {{ code: number, reason: string } | null} closing set when the server starts the close
 * @property {{ code: number, reason: string, by: 'client' | 'server' } | null} closed
 * @property {Array<[import('ws').RawData, boolean]>} early messages received before authentication finished
 * @property {NodeJS.Timeout[]} timers
 */

/** http servers → socket paths attached to them, so two backends never claim the same path. */
/** @type {WeakMap<object, Set<string>>} */
const attachedPaths = new WeakMap();

/** @param {HubOptions} o */
export function createSocketHub(o) {
  const path = `${o.base}/ws`;
  /** Authenticated sockets, not yet closing. @type {Set<Conn>} */
  const live = new Set();
  /** userId → that user's live sockets (for maxSocketsPerUser). @type {Map<number, Set<Conn>>} */
  const liveByUser = new Map();
  /** sid → injected fault. @type {Map<string, { code: number, remaining: number }>} */
  const faults = new Map();
  /** sid → handshake records, oldest first (testRoutes only). @type {Map<string, HandshakeRecord[]>} */
  const records = new Map();

  // ---- handshake authentication --------------------------------------------------------------

  /**
   * @param {'token' | 'ticket'} via @param {string | null} sid @param {string | null} jti
   * @param {SocketUser | undefined} user @param {number} exp seconds
   * @returns {Promise<HandshakeAuth>}
   */
  async function checkSession(via, sid, jti, user, exp) {
    if (sid && (await o.isSessionRevoked(sid)))
      return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'session revoked', via, sid, jti };
    if (!Number.isFinite(exp) || exp * 1000 <= o.now())
      return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'token expired', via, sid, jti };
    if (!user) return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'invalid token', via, sid, jti };
    return { ok: true, via, user, sid, jti, exp };
  }

  /** @param {URLSearchParams} params @returns {Promise<HandshakeAuth>} */
  async function authenticate(params) {
    const token = params.get('access_token') ?? '';
    const ticket = params.get('ticket') ?? '';
    if (!token && !ticket) return { ok: false, code: CLOSE.POLICY, reason: 'missing token' };
    if (token && ticket) return { ok: false, code: CLOSE.POLICY, reason: 'one credential only' };

    if (token) {
      const check = await o.checkToken(token);
      const p = check.payload;
      const sid = typeof p?.sid === 'string' ? p.sid : null;
      const jti = typeof p?.jti === 'string' ? p.jti : null;
      if (!check.ok) return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'invalid token', via: 'token', sid, jti };
      return checkSession('token', sid, jti, check.user, Number(check.payload.exp));
    }

    // Spent on its first presentation, whatever follows.
    const found = await o.redeemTicket(ticket);
    if (!found) return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'invalid ticket', via: 'ticket' };
    const { sid, jti } = found;
    if (!found.valid) return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'invalid ticket', via: 'ticket', sid, jti };
    if (jti && o.isJtiRevoked(jti))
      return { ok: false, code: CLOSE.UNAUTHORIZED, reason: 'invalid token', via: 'ticket', sid, jti };
    return checkSession('ticket', sid, jti, o.findUserById(found.userId), found.exp);
  }

  // ---- records (testRoutes) ------------------------------------------------------------------

  /** @param {string | null | undefined} sid @param {'token' | 'ticket' | undefined} via @param {string | null | undefined} jti */
  function newRecord(sid, via, jti) {
    if (!o.testRoutes || !sid || !via) return null;
    let list = records.get(sid);
    if (!list) {
      if (records.size >= MAX_SIDS_LOGGED) records.delete(/** @type {string} */ (records.keys().next().value));
      records.set(sid, (list = []));
    }
    /** @type {HandshakeRecord} */
    const record = { jti: jti ?? null, via, openedAt: o.now() };
    list.push(record);
    if (list.length > MAX_RECORDS_PER_SID) list.shift();
    return record;
  }

  // ---- connections ---------------------------------------------------------------------------

  /** @param {Conn} conn @param {unknown} message */
  function sendJson(conn, message) {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(message));
  }

  /** @param {Conn} conn @param {number} userId */
  function addLive(conn, userId) {
    conn.userId = userId;
    live.add(conn);
    liveByUser.set(userId, (liveByUser.get(userId) ?? new Set()).add(conn));
  }

  /** @param {Conn} conn */
  function dropLive(conn) {
    live.delete(conn);
    if (conn.userId === null) return;
    const own = liveByUser.get(conn.userId);
    own?.delete(conn);
    if (own?.size === 0) liveByUser.delete(conn.userId);
  }

  /** Starts a server-side close; 1006 means terminate() (no close frame). @param {Conn} conn @param {number} code @param {string} [reason] */
  function serverClose(conn, code, reason = '') {
    if (conn.closing || conn.closed || conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.closing = { code, reason };
    // Recorded now: the close is the server's decision, whenever the client's reply comes back.
    if (conn.record) finishRecord(conn.record, { ...conn.closing, by: 'server' });
    dropLive(conn);
    for (const timer of conn.timers) clearTimeout(timer);
    if (code === 1006) conn.ws.terminate();
    else conn.ws.close(code, reason);
    return true;
  }

  /** @param {(conn: Conn) => boolean} match @param {number} code @param {string} reason */
  function closeWhere(match, code, reason) {
    let n = 0;
    for (const conn of [...live]) if (match(conn) && serverClose(conn, code, reason)) n++;
    return n;
  }

  /** @param {Conn} conn @param {import('ws').RawData} data @param {boolean} isBinary */
  function onMessage(conn, data, isBinary) {
    if (isBinary) return void serverClose(conn, CLOSE.UNSUPPORTED_DATA, 'text only');
    sendJson(conn, { type: 'echo', data: data.toString() });
  }

  /** @param {Conn} conn @param {number} exp seconds */
  function armExpiry(conn, exp) {
    const delay = exp * 1000 - o.now();
    const clamped = Math.min(Math.max(delay, 0), MAX_TIMER_MS);
    conn.timers.push(
      setTimeout(() => {
        if (clamped < delay)
          armExpiry(conn, exp); // beyond setTimeout's range: wait again
        else serverClose(conn, CLOSE.UNAUTHORIZED, 'token expired');
      }, clamped),
    );
  }

  /** @param {WebSocket} ws @param {string} url @param {Set<Conn>} mine */
  async function onConnection(ws, url, mine) {
    /** @type {Conn} */
    const conn = {
      ws,
      shown: `WS ${redactUrl(url)}`,
      authed: false,
      userId: null,
      sid: null,
      jti: null,
      record: null,
      closing: null,
      closed: null,
      early: [],
      timers: [],
    };
    mine.add(conn);
    o.stats.socketsOpened++;
    ws.on('error', () => {}); // protocol errors and resets; 'close' follows
    ws.on('message', (data, isBinary) => {
      if (conn.authed) return onMessage(conn, data, isBinary);
      if (conn.early.length < MAX_EARLY_MESSAGES) conn.early.push([data, isBinary]);
      else serverClose(conn, CLOSE.POLICY, 'too many messages before hello');
    });
    ws.on('close', (code, reason) => {
      mine.delete(conn);
      dropLive(conn);
      for (const timer of conn.timers) clearTimeout(timer);
      o.stats.socketsClosed++;
      conn.closed = conn.closing
        ? { ...conn.closing, by: 'server' }
        : { code, reason: reason.toString(), by: 'client' };
      if (conn.record) finishRecord(conn.record, conn.closed);
      o.log(`${conn.shown} close ${conn.closed.code} by ${conn.closed.by}`);
    });

    /** @type {HandshakeAuth} */
    let auth;
    try {
      auth = await authenticate(new URL(url, 'http://socket.invalid').searchParams);
    } catch (err) {
      o.log(`${conn.shown} error ${err instanceof Error ? err.name : 'unknown'}`);
      serverClose(conn, CLOSE.SERVER_ERROR, 'server error');
      return;
    }
    conn.record = newRecord(auth.sid, auth.via, auth.jti);
    if (conn.closed || conn.closing) {
      // The client left (or was shut out, e.g. by detach()) while the credential was being checked.
      o.log(`${conn.shown} 101 abandoned`);
      if (conn.record && conn.closed) finishRecord(conn.record, conn.closed);
      return;
    }
    // An injected fault (testRoutes) wins over the credential check, so a test can script the close
    // code of a handshake whose session it has also revoked.
    const fault = auth.sid ? faults.get(auth.sid) : undefined;
    if (fault && auth.sid) {
      if (--fault.remaining <= 0) faults.delete(auth.sid);
      o.log(`${conn.shown} 101 fault ${fault.code}`);
      serverClose(conn, fault.code, 'injected fault');
      return;
    }
    if (!auth.ok) {
      o.log(`${conn.shown} 101 reject ${auth.code}`);
      serverClose(conn, auth.code, auth.reason);
      return;
    }
    // 1013 (try again later), not 1008: the credential is fine, so a client should not refresh; it
    // should retry with backoff, and gets in once one of the user's other sockets has closed.
    if ((liveByUser.get(auth.user.user_id)?.size ?? 0) >= o.maxSocketsPerUser) {
      o.log(`${conn.shown} 101 reject ${CLOSE.TRY_AGAIN_LATER}`);
      serverClose(conn, CLOSE.TRY_AGAIN_LATER, 'too many sockets');
      return;
    }

    conn.authed = true;
    conn.sid = auth.sid;
    conn.jti = auth.jti;
    addLive(conn, auth.user.user_id);
    o.log(`${conn.shown} 101 open`);
    sendJson(conn, { type: 'hello', user_id: auth.user.user_id, name: auth.user.name });
    for (const [data, isBinary] of conn.early.splice(0)) onMessage(conn, data, isBinary);
    if (o.feedInterval > 0) {
      let n = 0;
      conn.timers.push(
        setInterval(
          () => sendJson(conn, { type: 'tick', n: ++n, at: new Date(o.now()).toISOString() }),
          o.feedInterval,
        ),
      );
    }
    armExpiry(conn, auth.exp);
  }

  /** @param {HandshakeRecord} record @param {NonNullable<Conn['closed']>} closed */
  function finishRecord(record, closed) {
    Object.assign(record, {
      closedAt: o.now(),
      closeCode: closed.code,
      closeReason: closed.reason,
      closedBy: closed.by,
    });
  }

  /** @param {Duplex} socket @param {400 | 403 | 421} status @param {string} code */
  function refuseUpgrade(socket, status, code) {
    const body = JSON.stringify({ error: code });
    socket.on('error', () => socket.destroy());
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n\r\n${body}`,
    );
  }

  /**
   * Serves `{base}/ws` on an http server. Other upgrade requests are left alone for their own
   * listeners (e.g. the dev server's `/wds`). Returns detach(): stops listening and closes this
   * server's sockets with 1001.
   * @param {HttpServer} server
   * @returns {() => void}
   */
  function attach(server) {
    let paths = attachedPaths.get(server);
    if (!paths) attachedPaths.set(server, (paths = new Set()));
    if (paths.has(path)) throw new Error(`a WebSocket endpoint is already attached at ${path} on this server`);
    paths.add(path);
    o.stats.socketsOpened ??= 0;
    o.stats.socketsClosed ??= 0;

    const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_PAYLOAD });
    wss.on('wsClientError', (_error, socket, req) => {
      o.log(`WS ${redactUrl(req.url ?? path)} 400 bad_handshake`);
      refuseUpgrade(socket, 400, 'bad_handshake');
    });
    /** @type {Set<Conn>} */
    const mine = new Set();

    /** @param {Req} req @param {Duplex} socket @param {Buffer} head */
    const onUpgrade = (req, socket, head) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q < 0 ? url : url.slice(0, q)) !== path) return; // someone else's socket
      if (!o.isAllowedHost(req)) {
        o.log(`WS ${redactUrl(url)} 421 host_not_allowed`);
        refuseUpgrade(socket, 421, 'host_not_allowed');
        return;
      }
      const origin = req.headers.origin;
      if (origin === undefined || !o.isAllowedOrigin(req, origin)) {
        o.log(`WS ${redactUrl(url)} 403 origin_not_allowed`);
        refuseUpgrade(socket, 403, 'origin_not_allowed');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => void onConnection(ws, url, mine));
    };
    server.on('upgrade', onUpgrade);

    let detached = false;
    return function detach() {
      if (detached) return;
      detached = true;
      server.off('upgrade', onUpgrade);
      paths.delete(path);
      for (const conn of [...mine]) {
        if (!serverClose(conn, CLOSE.GOING_AWAY, 'server shutting down') && !conn.closed) conn.ws.terminate();
      }
      wss.close();
    };
  }

  return {
    path,
    attach,
    /** Closes the live sockets of a session (refresh family). @param {string} sid @param {number} code @param {string} reason */
    closeSid: (sid, code, reason) => closeWhere((c) => c.sid === sid, code, reason),
    /** Closes the live sockets opened with (or with a ticket minted by) an access token. @param {string} jti @param {number} code @param {string} reason */
    closeJti: (jti, code, reason) => closeWhere((c) => c.jti === jti, code, reason),
    /** @param {string} sid */
    records: (sid) => (records.get(sid) ?? []).map((r) => ({ ...r })),
    /** @param {string} sid @param {number} code @param {number} times Infinity = until cleared */
    setFault: (sid, code, times) => void faults.set(sid, { code, remaining: times }),
    /** @param {string} sid */
    clearFault: (sid) => void faults.delete(sid),
  };
}
