// @ts-check
/**
 * auth-shell/server on Node's `http`, Express, Fastify, Hono and a Next.js route handler. The
 * server itself is Web-standard (Request → Response); these convert at the edge and pass the
 * connection's address along (the login throttle's client).
 *
 * - Node `http`, Express: `toNodeHandler(auth)` → `(req, res, next?) => Promise<boolean>`; mount it at
 *   the app's root (Express rewrites `req.url` under a mount path), before any body parser (one that
 *   ran first is handled: its `req.body` is used).
 * - Fastify: `fastify.register(fastifyPlugin(auth))`: answers under basePath from an `onRequest`
 *   hook, before Fastify parses the body.
 * - Hono: `app.all('/api/*', honoHandler(auth))`.
 * - Next.js (App Router): in `app/api/[...auth]/route.js`, `export const { GET, POST, OPTIONS } =
 *   nextRouteHandlers(auth)`.
 */

/** @typedef {import('./auth-server.js').AuthServer} AuthServer */

const NO_BODY = new Set(['GET', 'HEAD']);

/** @param {string | undefined} url the request target (origin-form, or absolute-form through a proxy) */
function pathOf(url = '/') {
  const path = url.startsWith('/') ? url : new URL(url, 'http://x').pathname;
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/**
 * The request body as a Web stream, pulled as the reader asks; cancelling it (a body over the
 * limit) drains the rest without closing the connection, so the 413 can still be written.
 * @param {import('node:http').IncomingMessage} req
 */
function bodyStream(req) {
  let done = false;
  return new ReadableStream({
    start(controller) {
      req.on('data', (/** @type {Buffer} */ chunk) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.once('error', (error) => {
        if (!done) controller.error(error);
        done = true;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  });
}

/**
 * A Web `Request` for a Node request. The URL's scheme is https on a TLS socket; the `Host` header
 * travels as it came (the server checks it against its allow-list).
 * @param {import('node:http').IncomingMessage & { body?: unknown }} req
 * @returns {Request}
 */
export function toWebRequest(req) {
  const encrypted = /** @type {{ encrypted?: boolean }} */ (req.socket).encrypted;
  const scheme = encrypted ? 'https' : 'http';
  /** @type {URL} */
  let url;
  try {
    url = new URL(req.url ?? '/', `${scheme}://${req.headers.host}`);
  } catch {
    // A Host no URL can hold (a port over 65535, spaces…): the server refuses it by the header.
    url = new URL(req.url ?? '/', `${scheme}://localhost`);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  /** @type {string | Uint8Array | ReadableStream<Uint8Array> | null} */
  let body = null;
  if (!NO_BODY.has(method)) {
    if (req.readableEnded) {
      // A body parser (express.json(), …) read the stream first: what it made of it.
      const parsed = req.body;
      if (typeof parsed === 'string' || parsed instanceof Uint8Array) body = parsed;
      else if (parsed !== undefined && parsed !== null) body = JSON.stringify(parsed);
      headers.delete('content-length');
    } else if (
      req.headers['content-length'] !== '0' &&
      (req.headers['content-length'] || req.headers['transfer-encoding'])
    ) {
      body = bodyStream(req);
    }
  }
  return new Request(url, /** @type {RequestInit} */ ({ method, headers, body, duplex: 'half' }));
}

/**
 * Writes a Web `Response` to a Node response (several Set-Cookie headers kept apart).
 * @param {import('node:http').ServerResponse} res @param {Response} response
 */
export async function writeNodeResponse(res, response) {
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  if (body) headers['content-length'] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * A Node `http` (and Express) handler: answers requests under basePath and resolves true; any other
 * path calls `next()` if given (Express) and resolves false, writing nothing.
 * @param {AuthServer} server
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next?: (error?: unknown) => void) => Promise<boolean>}
 */
export function toNodeHandler(server) {
  return async (req, res, next) => {
    if (!server.owns(pathOf(req.url))) {
      next?.();
      return false;
    }
    try {
      const response = await server.handle(toWebRequest(req), { clientAddress: req.socket.remoteAddress });
      await writeNodeResponse(res, response);
    } catch {
      // handle() answers every failure itself; this is the conversion failing (never a hung request).
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"server_error"}');
      else res.destroy();
    }
    // A body nobody read (a 403 before it, a 413 past the limit): drained, so the connection is reusable.
    if (!req.readableEnded) req.resume();
    return true;
  };
}

/**
 * A Fastify plugin: `fastify.register(fastifyPlugin(auth))`. Requests under basePath are answered
 * from an `onRequest` hook (before Fastify reads the body) on the raw Node objects; the plugin is
 * not encapsulated, so the hook sees every route and unknown paths alike.
 * @param {AuthServer} server
 */
export function fastifyPlugin(server) {
  const handler = toNodeHandler(server);
  /** @param {any} fastify */
  async function authShell(fastify) {
    fastify.addHook('onRequest', async (/** @type {any} */ request, /** @type {any} */ reply) => {
      if (!server.owns(pathOf(request.raw.url))) return;
      reply.hijack();
      await handler(request.raw, reply.raw);
    });
  }
  // What the fastify-plugin package does: the hook applies outside the plugin's own context too.
  Object.assign(authShell, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'auth-shell' });
  return authShell;
}

/**
 * A Hono handler: `app.all('/api/*', honoHandler(auth))`. On @hono/node-server the connection's
 * address comes from `c.env.incoming`; elsewhere, set `trustProxy` and let your proxy's
 * X-Forwarded-For tell it.
 * @param {AuthServer} server
 * @returns {(c: any) => Promise<Response>}
 */
export function honoHandler(server) {
  return (c) => server.handle(c.req.raw, { clientAddress: c.env?.incoming?.socket?.remoteAddress });
}

/**
 * Next.js App Router route handlers for a catch-all route under basePath
 * (`app/api/[...auth]/route.js`: `export const { GET, POST, OPTIONS } = nextRouteHandlers(auth)`).
 * Next gives no connection address: behind your proxy, set `trustProxy`.
 * @param {AuthServer} server
 */
export function nextRouteHandlers(server) {
  const handler = (/** @type {Request} */ request) => server.handle(request);
  return { GET: handler, POST: handler, OPTIONS: handler, DELETE: handler };
}
