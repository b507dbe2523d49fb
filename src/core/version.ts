/** Replaced by the build with package.json's version (see scripts/version.mjs). */
declare const __AUTH_SHELL_VERSION__: string | undefined;

/**
 * auth-shell's version, compared when two copies on one page meet (elements, sessions). `dev` when
 * the sources are used without the project's build.
 */
export const VERSION: string = typeof __AUTH_SHELL_VERSION__ === 'string' ? __AUTH_SHELL_VERSION__ : 'dev';

/** Whether version `a` is older than `b` (numeric major.minor.patch; anything else counts as 0). */
export function isOlder(a: string, b: string): boolean {
  const parts = (v: string) => v.split(/[.-]/, 3).map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  const i = x.findIndex((n, k) => n !== y[k]);
  return i >= 0 && x[i]! < y[i]!;
}
