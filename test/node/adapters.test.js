// auth-shell/server in the frameworks the README names, each for real: Node's http, Express (also
// behind a body parser that ran first), Fastify, Hono on @hono/node-server, and a Next.js App Router
// route handler called with Next's own NextRequest. Each: login, refresh (rotation), the team's own
// route with verify(), logout — the two Set-Cookie headers kept apart — and the client's address
// reaching the login throttle where the framework knows it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { NextRequest } from 'next/server.js';
import {
  createAuthServer,
  fastifyPlugin,
  honoHandler,
  isUnauthorizedError,
  memoryStore,
  nextRouteHandlers,
  toNodeHandler,
  toWebRequest,
} from '../../src/server/index.js';

const XRW = { 'X-Requested-With': 'auth-shell' };
const JSON_CT = { 'Content-Type': 'application/json' };

const makeAuth = () =>
  createAuthServer({
    store: memoryStore(),
    log: () => {},
    cleanupInterval: 0,
    loginThrottle: { maxClientFailures: 3 },
    verifyPassword: (login, pass) => (login === pass ? { id: login } : null),
  });

/**
 * The flow every adapter must carry: login, refresh, the team's route, logout.
 * @param {string} origin @param {string} [ownRoute] a route of the app that answers verify()'s claims
 */
async function flow(origin, ownRoute = '/hello') {
  const login = await fetch(`${origin}/api/login`, {
    method: 'POST',
    headers: { ...JSON_CT, ...XRW },
    body: '{"login":"alice","pass":"alice"}',
  });
  assert.equal(login.status, 200);
  const cookies = login.headers.getSetCookie();
  assert.equal(cookies.length, 2, JSON.stringify(cookies));
  assert.match(cookies[0], /^rt=[A-Za-z0-9_-]{64}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800$/);
  assert.match(cookies[1], /^auth-shell-sid=[A-Za-z0-9_-]{22}; SameSite=Strict; Path=\/; Max-Age=28800$/);
  assert.equal(login.headers.get('cache-control'), 'no-store');
  const { access_token: at } = await login.json();
  const refresh = await fetch(`${origin}/api/refresh`, {
    method: 'POST',
    headers: { ...XRW, Cookie: cookies[0].split(';')[0] },
  });
  assert.equal(refresh.status, 200);
  const next = refresh.headers.getSetCookie();
  assert.notEqual(next[0], cookies[0]);
  const again = await fetch(`${origin}/api/refresh`, {
    method: 'POST',
    headers: { ...XRW, Cookie: next[0].split(';')[0] },
  });
  assert.equal(again.status, 200, 'the rotated cookie works');
  const mine = await fetch(`${origin}${ownRoute}`, { headers: { Authorization: `Bearer ${at}` } });
  assert.equal(mine.status, 200);
  assert.deepEqual(await mine.json(), { hello: 'alice' });
  const refused = await fetch(`${origin}${ownRoute}`);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  const out = await fetch(`${origin}/api/logout`, {
    method: 'POST',
    headers: { ...XRW, Cookie: again.headers.getSetCookie()[0].split(';')[0] },
  });
  assert.equal(out.status, 204);
  assert.deepEqual(out.headers.getSetCookie(), [
    'rt=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0',
    'auth-shell-sid=; SameSite=Strict; Path=/; Max-Age=0',
  ]);
  const unknown = await fetch(`${origin}/api/nope`);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { error: 'not_found' });
}

/** Three wrong passwords from one address lock it; another address is another client. @param {string} origin */
async function clientAddressReachesTheThrottle(origin) {
  const post = (/** @type {string} */ body, /** @type {string} */ localAddress) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${origin}/api/login`,
        { method: 'POST', headers: { ...JSON_CT, ...XRW }, localAddress },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 3; i++) assert.equal(await post(`{"login":"u${i}","pass":"x"}`, '127.0.0.3'), 401);
  assert.equal(await post('{"login":"bob","pass":"bob"}', '127.0.0.3'), 429);
  assert.equal(await post('{"login":"bob","pass":"bob"}', '127.0.0.4'), 200);
}

/** @param {http.Server} server */
async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  return `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
}

/** @param {http.Server} server */
const close = (server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve(undefined)));
};

/** The team's own route in Web terms: verify() → claims, or its 401. @param {ReturnType<typeof makeAuth>} auth @param {Request} request */
async function hello(auth, request) {
  try {
    const claims = await auth.verify(request);
    return Response.json({ hello: claims.sub });
  } catch (error) {
    if (isUnauthorizedError(error)) return error.toResponse();
    throw error;
  }
}

describe('Node http', () => {
  const auth = makeAuth();
  /** @type {http.Server} */
  let server;
  /** @type {string} */
  let origin;
  before(async () => {
    const handler = toNodeHandler(auth);
    server = http.createServer(async (req, res) => {
      if (await handler(req, res)) return;
      const answer = await hello(auth, toWebRequest(req));
      res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(await answer.text());
    });
    origin = await listen(server);
  });
  after(async () => {
    await close(server);
    await auth.close();
  });

  test('login, refresh, your route, logout', () => flow(origin));
  test("the connection's address is the throttle's client", () => clientAddressReachesTheThrottle(origin));
});

describe('Express', () => {
  const auth = makeAuth();
  const parsed = makeAuth();
  /** @type {http.Server[]} */
  const servers = [];
  /** @type {string[]} */
  const origins = [];
  before(async () => {
    const app = express();
    app.use(toNodeHandler(auth));
    app.get('/hello', async (req, res) => {
      const answer = await hello(auth, toWebRequest(req));
      res
        .status(answer.status)
        .set(Object.fromEntries(answer.headers))
        .send(await answer.text());
    });
    // A body parser mounted first has read the login body: what it made of it is used.
    const second = express();
    second.use(express.json());
    second.use(toNodeHandler(parsed));
    second.get('/hello', async (req, res) => {
      const answer = await hello(parsed, toWebRequest(req));
      res
        .status(answer.status)
        .set(Object.fromEntries(answer.headers))
        .send(await answer.text());
    });
    for (const a of [app, second]) {
      const server = http.createServer(a);
      servers.push(server);
      origins.push(await listen(server));
    }
  });
  after(async () => {
    for (const server of servers) await close(server);
    await auth.close();
    await parsed.close();
  });

  test('app.use(toNodeHandler(auth)): login, refresh, your route, logout', () => flow(origins[0]));
  test('behind express.json(): the parsed body is used', () => flow(origins[1]));
  test("the connection's address is the throttle's client", () => clientAddressReachesTheThrottle(origins[0]));
});

describe('Fastify', () => {
  const auth = makeAuth();
  const fastify = Fastify();
  /** @type {string} */
  let origin;
  before(async () => {
    await fastify.register(fastifyPlugin(auth));
    fastify.get('/hello', async (request, reply) => {
      const answer = await hello(auth, toWebRequest(request.raw));
      reply.code(answer.status).headers(Object.fromEntries(answer.headers));
      return answer.text();
    });
    origin = await fastify.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await fastify.close();
    await auth.close();
  });

  test('fastify.register(fastifyPlugin(auth)): login, refresh, your route, logout', () => flow(origin));
  test("the connection's address is the throttle's client", () => clientAddressReachesTheThrottle(origin));
  test("other routes and unknown paths outside the base are still Fastify's", async () => {
    const res = await fetch(`${origin}/elsewhere`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers.get('content-type')), /json/);
    assert.equal((await res.json()).message, 'Route GET:/elsewhere not found');
  });
});

describe('Hono on @hono/node-server', () => {
  const auth = makeAuth();
  /** @type {any} */
  let server;
  /** @type {string} */
  let origin;
  before(async () => {
    const app = new Hono();
    app.all('/api/*', honoHandler(auth));
    app.get('/hello', (c) => hello(auth, c.req.raw));
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    origin = `http://127.0.0.1:${server.address().port}`;
  });
  after(async () => {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    await auth.close();
  });

  test("app.all('/api/*', honoHandler(auth)): login, refresh, your route, logout", () => flow(origin));
  test("the connection's address (c.env.incoming) is the throttle's client", () =>
    clientAddressReachesTheThrottle(origin));
});

describe('Next.js route handler', () => {
  const auth = makeAuth();
  after(() => auth.close());

  test('export const { GET, POST, OPTIONS } = nextRouteHandlers(auth): NextRequests in, both cookies out', async () => {
    const { GET, POST, OPTIONS } = nextRouteHandlers(auth);
    const base = 'http://localhost:3000';
    const login = await POST(
      new NextRequest(`${base}/api/login`, {
        method: 'POST',
        headers: { ...JSON_CT, ...XRW },
        body: '{"login":"alice","pass":"alice"}',
      }),
    );
    assert.equal(login.status, 200);
    const cookies = login.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    const refresh = await POST(
      new NextRequest(`${base}/api/refresh`, { method: 'POST', headers: { ...XRW, Cookie: cookies[0].split(';')[0] } }),
    );
    assert.equal(refresh.status, 200);
    assert.notEqual(refresh.headers.getSetCookie()[0], cookies[0]);
    const { access_token: at } = await refresh.json();
    const claims = await auth.verify(new NextRequest(`${base}/api/me`, { headers: { Authorization: `Bearer ${at}` } }));
    assert.equal(claims.sub, 'alice');
    const jwks = await GET(new NextRequest(`${base}/api/jwks.json`, {}));
    assert.equal(jwks.status, 200);
    const preflight = await OPTIONS(new NextRequest(`${base}/api/refresh`, { method: 'OPTIONS' }));
    assert.equal(preflight.status, 204);
    const rebound = await POST(
      new NextRequest('http://evil.example/api/refresh', { method: 'POST', headers: { ...XRW } }),
    );
    assert.equal(rebound.status, 421, "the Host allow-list applies (a Request without a Host header: its URL's host)");
  });
});
