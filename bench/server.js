// @ts-check
/**
 * The bench's HTTP server on 127.0.0.1 (random port): the reference backend under /api, counted
 * per path as requests arrive, plus the bench page and its in-memory bundle, and — for the
 * multi-bundle and multi-tab scenarios — separately bundled copies of auth-shell (/bundle-<i>.js)
 * and the pages that load them (/blank, /providers?n=&m=, /tab?b=, /visit?hint=).
 */
import http from 'node:http';
import { createBackend } from '../demo/server/backend.js';

const HTML =
  '<!doctype html><meta charset="utf-8"><title>auth-shell bench</title><script type="module" src="/page.js"></script>\n';
const BLANK = '<!doctype html><meta charset="utf-8"><title>auth-shell bench: blank</title>\n';

/**
 * `n` `<auth-provider api="/api">` elements, in pairs (the second nested in the first), and `m`
 * module scripts, one per bundled copy. `window.settled` resolves once every provider's `ready`
 * has settled, with each provider's state and whether every copy's `getSession('/api')` is the
 * providers' session.
 * @param {number} n @param {number} m
 */
function providersPage(n, m) {
  let body = '';
  for (let i = 0; i < n; i += 2) {
    const inner =
      i + 1 < n
        ? `\n    <auth-provider api="/api" id="p${i + 1}"><p>provider ${i + 1} (nested)</p></auth-provider>`
        : '';
    body += `  <auth-provider api="/api" id="p${i}"><p>provider ${i}</p>${inner}\n  </auth-provider>\n`;
  }
  const scripts = Array.from({ length: m }, (_, i) => `<script type="module" src="/bundle-${i}.js"></script>`).join(
    '\n',
  );
  const copies = Array.from({ length: m }, (_, i) => `import('/bundle-${i}.js')`).join(', ');
  return `<!doctype html><meta charset="utf-8"><title>auth-shell bench: ${n} providers, ${m} bundles</title>
<body>
${body}${scripts}
<script type="module">
  window.settled = (async () => {
    await customElements.whenDefined('auth-provider');
    const providers = [...document.querySelectorAll('auth-provider')];
    await Promise.all(providers.map((p) => p.ready));
    const copies = await Promise.all([${copies}]);
    const session = providers[0].session;
    return {
      states: providers.map((p) => p.state),
      sameSession: providers.every((p) => p.session === session) && copies.every((c) => c.getSession('/api') === session),
    };
  })();
</script>
`;
}

/**
 * One tab: bundled copy `b`, `getSession('/api')` with a manual clock, driven through `window.tab`.
 * @param {number} b
 */
function tabPage(b) {
  return `<!doctype html><meta charset="utf-8"><title>auth-shell bench: tab (bundle ${b})</title>
<script type="module">
  import { getSession } from '/bundle-${b}.js';
  let offset = 0;
  const session = getSession({ api: '/api', clock: () => performance.now() + offset });
  const seen = { refreshes: 0, handedOver: 0, authenticatedAt: null, restoredFrom: null };
  session.addEventListener('activity', ({ detail }) => {
    if (detail.kind === 'refresh' && detail.phase === 'start') seen.refreshes++;
    if (detail.kind === 'refresh' && detail.phase === 'success' && detail.source === 'tab') seen.handedOver++;
    if (detail.kind === 'restore' && detail.phase === 'success') seen.restoredFrom = detail.source ?? 'network';
  });
  // ms from this tab's navigation start to its first authenticated state.
  session.addEventListener('change', ({ detail }) => {
    if (detail.state === 'authenticated') seen.authenticatedAt ??= performance.now();
  });
  window.tab = {
    state: () => session.state,
    advance: (ms) => void (offset += ms),
    me: async () => {
      try {
        const res = await session.authFetch('/api/me');
        await res.text();
        return String(res.status);
      } catch (error) {
        return 'rejected: ' + (error && error.name);
      }
    },
    login: async (user) => void (await session.login(user, user)),
    seen: () => ({ ...seen }),
  };
</script>
`;
}

/**
 * A first visit: a provider (with `session-hint` when `hint` is 1) and a gate; `window.visit` says
 * when (ms from navigation start) the login form showed.
 * @param {number} hint
 */
function visitPage(hint) {
  return `<!doctype html><meta charset="utf-8"><title>auth-shell bench: first visit</title>
<auth-provider api="/api"${hint ? ' session-hint' : ''}><auth-gate>
  <p slot="pending">…</p><p slot="login" id="login">login</p><p>in</p>
</auth-gate></auth-provider>
<script type="module">
  import '/bundle-0.js';
  window.visit = { loginAt: null };
  const gate = document.querySelector('auth-gate');
  const watch = () => {
    if (gate.view === 'login') window.visit.loginAt = performance.now();
    else requestAnimationFrame(watch);
  };
  customElements.whenDefined('auth-gate').then(watch);
</script>
`;
}

/**
 * @param {{ pageJs: string, bundles?: string[] }} assets
 * @returns {Promise<{ url: string, counts: () => Record<string, number>,
 *   stats: () => import('../demo/server/backend.js').Stats, close: () => Promise<void> }>}
 */
export async function startServer({ pageJs, bundles = [] }) {
  const backend = createBackend({ base: '/api', log: () => {}, testRoutes: true });
  /** @type {Map<string, number>} */
  const counts = new Map();

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    const path = url.pathname;
    if (path.startsWith('/api/')) counts.set(path, (counts.get(path) ?? 0) + 1);
    const html = (/** @type {string} */ text) =>
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(text);
    const int = (/** @type {string} */ name, /** @type {number} */ max) => {
      const v = Number(url.searchParams.get(name));
      return Number.isInteger(v) && v >= 0 && v <= max ? v : undefined;
    };
    try {
      if (await backend.handle(req, res)) return;
      const bundle = /^\/bundle-(\d+)\.js$/.exec(path);
      if (req.method !== 'GET') {
        res.writeHead(405).end();
      } else if (path === '/') {
        html(HTML);
      } else if (path === '/page.js') {
        res
          .writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' })
          .end(pageJs);
      } else if (bundle && Number(bundle[1]) < bundles.length) {
        res
          .writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' })
          .end(bundles[Number(bundle[1])]);
      } else if (path === '/blank') {
        html(BLANK);
      } else if (path === '/providers' && int('n', 100) !== undefined && int('m', bundles.length) !== undefined) {
        html(providersPage(/** @type {number} */ (int('n', 100)), /** @type {number} */ (int('m', bundles.length))));
      } else if (path === '/visit' && int('hint', 1) !== undefined && bundles.length > 0) {
        html(visitPage(/** @type {number} */ (int('hint', 1))));
      } else if (path === '/tab' && int('b', bundles.length - 1) !== undefined) {
        html(tabPage(/** @type {number} */ (int('b', bundles.length - 1))));
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
    stats: () => ({ ...backend.stats }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
