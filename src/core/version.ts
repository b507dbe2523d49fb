/** auth-shell's version: compared when two copies on one page meet (elements, sessions). */
export const VERSION = '0.1.0';

/** Whether version `a` is older than `b` (numeric major.minor.patch; anything else counts as 0). */
export function isOlder(a: string, b: string): boolean {
  const parts = (v: string) => v.split(/[.-]/, 3).map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  const i = x.findIndex((n, k) => n !== y[k]);
  return i >= 0 && x[i]! < y[i]!;
}
