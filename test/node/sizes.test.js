// Size budgets are deterministic (same sources, same esbuild), so the test suite holds them too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureSizes } from '../../bench/sizes.js';

test('every bundle with a budget stays within it (min+gzip)', async () => {
  const rows = await measureSizes();
  const budgeted = rows.filter((row) => row.budget !== undefined);
  assert.deepEqual(
    budgeted.map((row) => row.name),
    ['core', 'socket chunk (on first openSocket)', 'main', 'page (main + login-form)'],
  );
  for (const row of budgeted) {
    assert.ok(row.gzipBytes <= row.budget, `${row.name}: ${row.gzipBytes} B gzip > budget ${row.budget} B`);
  }
});

test("the built package reports package.json's version (VERSION is defined by the build, not written twice)", async () => {
  const { build } = await import('esbuild');
  const { version, versionDefine } = await import('../../scripts/version.mjs');
  const result = await build({
    stdin: {
      contents: "export { VERSION } from './src/core/version.ts';",
      resolveDir: new URL('../..', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    write: false,
    define: versionDefine(),
  });
  const { VERSION } = await import(`data:text/javascript,${encodeURIComponent(result.outputFiles[0].text)}`);
  assert.equal(VERSION, version);
});
