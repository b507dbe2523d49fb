// The one source of auth-shell's version is package.json. Every build of the sources (the package,
// the standalone bundles, the test server, the demo) defines `__AUTH_SHELL_VERSION__` from it.
import { readFileSync } from 'node:fs';

export const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * esbuild `define` for a build of auth-shell's sources (`as` overrides the version, for tests;
 * `dev: false` makes the production build, whose messages say less — see src/core/dev.ts).
 */
export const versionDefine = (as = version, dev = true) => ({
  __AUTH_SHELL_VERSION__: JSON.stringify(as),
  __AUTH_SHELL_DEV__: String(dev),
});
