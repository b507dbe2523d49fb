// Lets test files import the package by its own name — `import 'auth-shell'`,
// `import { authServer } from 'auth-shell/testing'` — as a user's tests do, so the README's testing
// example runs here unchanged. Each entry of package.json's `exports` maps to its source file.
import { readFileSync } from 'node:fs';

const { name, exports } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export function selfImportPlugin() {
  return {
    name: 'auth-shell-self-import',
    resolveImport({ source }) {
      if (source !== name && !source.startsWith(`${name}/`)) return undefined;
      const entry = exports[`.${source.slice(name.length)}`];
      const built = typeof entry === 'string' ? entry : entry?.default;
      // ./dist/testing/index.js → /src/testing/index.ts
      return built?.endsWith('.js') ? built.replace(/^\.\/dist\//, '/src/').replace(/\.js$/, '.ts') : undefined;
    },
  };
}
