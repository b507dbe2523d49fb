// The Koa-style middleware mounted in a real @web/dev-server (same model as @web/test-runner).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer } from '@web/dev-server';
import { createBackend } from '../../demo/server/backend.js';

const XRW = { 'X-Requested-With': 'auth-shell' };
/** @type {Awaited<ReturnType<typeof startDevServer>>} */
let server;
/** @type {string} */
let root;
/** @type {string} */
let origin;
const backend = createBackend({ log: () => {} });

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'auth-shell-wds-'));
  await writeFile(join(root, 'index.html'), '<p>static page</p>');
  server = await startDevServer({
    config: { rootDir: root, port: 0, hostname: '127.0.0.1', middleware: [backend.middleware] },
    readCliArgs: false,
    readFileConfig: false,
    autoExitProcess: false,
    logStartMessage: false,
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.server?.address());
  origin = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await server.stop();
  await rm(root, { recursive: true, force: true });
});

test('middleware: login, refresh and /me through @web/dev-server; Koa leaves the response alone', async () => {
  const login = await fetch(`${origin}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...XRW, Origin: origin },
    body: '{"login":"alice","pass":"alice"}',
  });
  assert.equal(login.status, 200);
  assert.equal(login.headers.get('content-type'), 'application/json');
  assert.equal(login.headers.get('cache-control'), 'no-store');
  assert.equal(login.headers.get('etag'), null, 'no etag middleware touched the response');
  const cookies = login.headers.getSetCookie();
  assert.equal(cookies.length, 2); // the refresh cookie and the readable session-id cookie
  assert.match(cookies[0], /^rt=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/api; Max-Age=28800$/);
  const { access_token: at } = await login.json();

  const refresh = await fetch(`${origin}/api/refresh`, {
    method: 'POST',
    headers: { ...XRW, Origin: origin, Cookie: cookies[0].split(';')[0] },
  });
  assert.equal(refresh.status, 200);
  assert.notEqual(refresh.headers.getSetCookie()[0], cookies[0]);

  const me = await fetch(`${origin}/api/me`, { headers: { Authorization: `Bearer ${at}` } });
  assert.deepEqual(await me.json(), { user_id: 1, role: 'user', name: 'Alice', login: 'alice' });

  const out = await fetch(`${origin}/api/logout`, { method: 'POST', headers: XRW });
  assert.equal(out.status, 204);
  const missing = await fetch(`${origin}/api/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'not_found' });
  assert.equal(backend.stats.logins, 1);
  assert.equal(backend.stats.rotations, 1);
});

test('middleware: other paths fall through to the dev server', async () => {
  const page = await fetch(`${origin}/index.html`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), '<p>static page</p>');
  const apiLike = await fetch(`${origin}/apix`);
  assert.equal(apiLike.status, 404);
  assert.notEqual(apiLike.headers.get('content-type'), 'application/json');
});
