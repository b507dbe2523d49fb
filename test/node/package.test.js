// What `npm pack` publishes. A copy of the project (node_modules linked) is packed with
// `npm pack --dry-run --json`, which runs prepack — the whole build — in the copy, not in the
// working tree. Every file that package.json points at must be in the tarball, every script with
// its source map, the manifest and the editor data, the docs; no test, demo, bench or build file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const copy = mkdtempSync(join(tmpdir(), 'auth-shell-pack-'));
/** @type {{ size: number, unpackedSize: number, entryCount: number, files: { path: string, size: number }[] }} */
let tarball;
let files;

before(async () => {
  // Everything in the project but what is built or installed, so that a test or demo file that
  // `files` let through would show up in the tarball.
  const skip = new Set(['node_modules', 'dist', '.git', '.mutants', '.bench']);
  cpSync(root, copy, {
    recursive: true,
    filter: (path) =>
      !path
        .slice(root.length)
        .split('/')
        .some((part) => skip.has(part) || part.endsWith('.tgz')),
  });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], {
    cwd: copy,
    maxBuffer: 16 * 1024 * 1024,
  });
  // prepack's own output comes first on stdout; the JSON report is the rest.
  [tarball] = JSON.parse(stdout.slice(stdout.search(/^\[/m)));
  files = new Set(tarball.files.map((file) => file.path));
});

after(() => rmSync(copy, { recursive: true, force: true }));

const strip = (path) => path.replace(/^\.\//, '');

test('the tarball has every exports target, types, customElements and web-types', (t) => {
  t.diagnostic(`${tarball.entryCount} files, ${tarball.size} bytes packed, ${tarball.unpackedSize} unpacked`);
  const targets = Object.values(pkg.exports).flatMap((target) =>
    typeof target === 'string' ? [target] : Object.values(target),
  );
  for (const path of [...targets, pkg.main, pkg.module, pkg.types, pkg.customElements, pkg['web-types']])
    assert.ok(files.has(strip(path)), `${path} is not in the tarball`);
});

test('every script in the tarball has its source map, with the sources inside', () => {
  const scripts = [...files].filter((path) => path.endsWith('.js'));
  assert.ok(
    scripts.some((path) => path.startsWith('dist/standalone/')),
    'no standalone bundle',
  );
  for (const script of scripts) {
    assert.ok(files.has(`${script}.map`), `${script}.map is not in the tarball`);
    const code = readFileSync(join(copy, script), 'utf8');
    assert.match(code, new RegExp(`//# sourceMappingURL=${script.split('/').pop()}\\.map\\n?$`));
    const map = JSON.parse(readFileSync(join(copy, `${script}.map`), 'utf8'));
    assert.equal(map.sourcesContent?.length, map.sources.length, `${script}.map lacks the sources' text`);
  }
});

test('the manifest, the editor data, the docs, the README, the changelog and the licence are in it', () => {
  const docs = readdirSync(join(root, 'docs')).map((name) => `docs/${name}`);
  const expected = [
    'dist/custom-elements.json',
    'dist/vscode.html-custom-data.json',
    'dist/vscode.css-custom-data.json',
    'dist/web-types.json',
    'dist/vue-components.d.ts',
    'README.md',
    'CHANGELOG.md',
    'LICENSE',
    ...docs,
  ];
  for (const path of expected) assert.ok(files.has(path), `${path} is not in the tarball`);
});

test("auth-shell/vue's declarations load Vue's GlobalComponents typings for the elements", () => {
  const adapter = readFileSync(join(copy, 'dist/vue.d.ts'), 'utf8');
  assert.ok(adapter.startsWith('/// <reference path="./vue-components.d.ts" />\n'), adapter.slice(0, 200));
  assert.match(readFileSync(join(copy, 'dist/vue-components.d.ts'), 'utf8'), /interface GlobalComponents \{/);
});

test('every module the manifest and the web-types name is in the tarball', () => {
  const manifest = JSON.parse(readFileSync(join(copy, pkg.customElements), 'utf8'));
  const named = [];
  const visit = (value) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value))
      if ((key === 'path' || key === 'module') && typeof child === 'string') named.push(child);
      else visit(child);
  };
  visit(manifest.modules);
  const webTypes = JSON.parse(readFileSync(join(copy, pkg['web-types']), 'utf8'));
  named.push(...webTypes.contributions.html.elements.map((element) => element.source.module));
  assert.ok(named.length > 0);
  for (const path of named) assert.ok(files.has(path), `${path} (named by the manifest) is not in the tarball`);
  assert.equal(webTypes.version, pkg.version);
});

test('no test, demo, bench, source or build file is in the tarball', () => {
  const unwanted = [...files].filter(
    (path) =>
      /^(test|demo|bench|scripts|src|\.ci)\//.test(path) ||
      /\.test\.|\.check\.|^tsconfig|^esbuild\.config|^eslint\.config|^web-test-runner|\.tgz$/.test(path),
  );
  assert.deepEqual(unwanted, []);
});
