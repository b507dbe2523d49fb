// @ts-check
/**
 * The bench's HTTP server on 127.0.0.1 (random port): the reference backend under /api, counted
 * per path as requests arrive, plus the bench page and its in-memory bundle.
 */
import http from 'node:http';
import { createBackend } from '../demo/server/backend.js';

const HTML = '<!doctype html><meta charset="utf-8"><title>auth-shell bench</title><script type="module" src="/page.js"></script>\n';

/**
 * @param {{ pageJs: string }} assets
 * @returns {Promise<{ url: string, counts: () => Record<string, number>, close: () => Promise<void> }>}
 */
export async function startServer({ pageJs }) {
  const backend = createBackend({ base: '/api', log: () => {}, testRoutes: true });
  /** @type {Map<string, number>} */
  const counts = new Map();

  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/api/')) counts.set(path, (counts.get(path) ?? 0) + 1);
    try {
      if (await backend.handle(req, res)) return;
      if (req.method === 'GET' && path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(HTML);
      } else if (req.method === 'GET' && path === '/page.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' }).end(pageJs);
      } else {
        res.writeHead(404).end();
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${port}/`,
    counts: () => Object.fromEntries(counts),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
