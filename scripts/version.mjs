// The one source of auth-shell's version is package.json. Every build of the sources (the package,
// the standalone bundles, the test server, the demo) defines `__AUTH_SHELL_VERSION__` from it.
import { readFileSync } from 'node:fs';

export const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** esbuild `define` for a build of auth-shell's sources (`as` overrides the version, for tests). */
export const versionDefine = (as = version) => ({ __AUTH_SHELL_VERSION__: JSON.stringify(as) });
