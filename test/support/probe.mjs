// Test-only routes of the test server, for behaviour that needs a real server but is not part of
// the HTTP contract:
//   GET  /__probe/redirect?to=<url>   302 to <url>
//   ANY  /__probe/record/<id>          records the Authorization header it got (CORS open to any origin)
//   GET  /__probe/seen/<id>            the recorded headers, as JSON: [{ method, authorization }]
//   WS   /__probe/ws-hang              accepts the TCP connection and never answers the upgrade
//   WS   /__probe/ws-deaf              completes the handshake, then never answers anything (not even a close frame)
import { createHash } from 'node:crypto';

const seen = new Map();

export const probeMiddleware = async (ctx, next) => {
  const { path } = ctx;
  if (!path.startsWith('/__probe/')) return next();
  const origin = ctx.get('Origin');
  if (origin) {
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    ctx.set('Access-Control-Allow-Credentials', 'true');
  }
  ctx.set('Cache-Control', 'no-store');
  if (path === '/__probe/redirect') {
    ctx.status = 302;
    ctx.set('Location', ctx.query.to);
    return;
  }
  const record = /^\/__probe\/record\/([\w-]+)$/.exec(path);
  if (record) {
    if (ctx.method !== 'OPTIONS') {
      const list = seen.get(record[1]) ?? [];
      list.push({ method: ctx.method, authorization: ctx.get('Authorization') || null });
      seen.set(record[1], list);
    }
    ctx.body = { ok: true };
    return;
  }
  const lookup = /^\/__probe\/seen\/([\w-]+)$/.exec(path);
  if (lookup) {
    ctx.body = seen.get(lookup[1]) ?? [];
    return;
  }
  return next();
};

export const probePlugin = {
  name: 'probe-sockets',
  serverStart({ server }) {
    const held = new Set();
    server.on('upgrade', (req, socket) => {
      const path = req.url?.split('?')[0];
      if (path !== '/__probe/ws-hang' && path !== '/__probe/ws-deaf') return;
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => {});
      // ws-hang never answers: the client's handshake can only time out.
      if (path === '/__probe/ws-deaf') {
        const accept = createHash('sha1')
          .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        // Frames (a close frame included) are read and ignored: the closing handshake never completes.
        socket.on('data', () => {});
      }
    });
    this.held = held;
  },
  serverStop() {
    for (const socket of this.held ?? []) socket.destroy();
  },
};
