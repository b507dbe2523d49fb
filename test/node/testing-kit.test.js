// auth-shell/testing outside the browser suite: the README's example is the test file the browser
// suite runs, word for word, and the kit works in Node with msw's setupServer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path) => readFileSync(join(root, path), 'utf8');

test("the README's testing example is the component and the test the browser suite runs", () => {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Testing your components'));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.equal(blocks[0], read('test/browser/testing-kit-example/my-profile.ts'));
  assert.equal(blocks[1], read('test/browser/testing-kit-example/my-profile.test.ts'));
});

test('in Node, with msw setupServer: login, an expired token refreshed once, logout', async () => {
  const result = await build({
    stdin: {
      contents: `
        import { setupServer } from 'msw/node';
        import { createSession } from './src/core/index.ts';
        import { authServer } from './src/testing/index.ts';
        const server = authServer({ api: 'http://localhost/api' });
        const node = setupServer(...server.handlers);
        node.listen({ onUnhandledRequest: 'error' });
        const session = createSession({ api: 'http://localhost/api', tabSync: false });
        await session.restore();
        const states = [session.state];
        const user = await server.signIn(session, 'bob');
        server.expireToken();
        const me = await (await session.authFetch('http://localhost/api/me')).json();
        await session.logout();
        states.push(session.state);
        const counts = ['login', 'refresh', 'me', 'logout'].map((route) => server.count(route));
        console.log(JSON.stringify({ states, user, me: me.login, counts, current: server.currentUser }));
        session.dispose();
        node.close();
      `,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'auth-shell-kit-')), 'run.mjs');
  // Packages resolve from the project, as they would from the app that installed auth-shell.
  const code = result.outputFiles[0].text.replace(
    /from "(@lit\/[^"]+|jwt-decode|msw(?:\/node)?)"/g,
    (_, p) => `from ${JSON.stringify(import.meta.resolve(p))}`,
  );
  writeFileSync(file, code);
  const run = await new Promise((resolve) =>
    execFile(process.execPath, [file], { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ code: error?.code ?? 0, stdout, stderr }),
    ),
  );
  assert.equal(run.code, 0, run.stderr);
  const outcome = JSON.parse(run.stdout);
  // The kit's tokens carry a session id as a backend's do: the sid claim, random per sign-in.
  const { sid, ...claims } = outcome.user;
  assert.match(sid, /^[\w-]{16,}$/);
  assert.deepEqual(
    { ...outcome, user: claims },
    {
      states: ['anonymous', 'anonymous'],
      user: { sub: '2', name: 'Bob', role: 'user' },
      me: 'bob',
      counts: [1, 2, 2, 1],
      current: null,
    },
  );
});
