import { UsageError } from './errors.js';

/** Resolves `url` against the page (document base URL, else the worker's location). */
export function resolveUrl(
  url: string | URL,
  what: string,
  base: string | URL | undefined = globalThis.document?.baseURI ?? globalThis.location?.href,
): URL {
  try {
    return new URL(url, base);
  } catch {
    throw new UsageError(`${what}: "${String(url)}" is not a valid URL`, { option: what });
  }
}

/**
 * Parses the `allowedOrigins` option (array, or the attribute's space/comma-separated string).
 * Only bare http(s) origins are accepted, so a typo never widens the policy.
 */
export function originList(value: string | readonly string[] | undefined): string[] {
  const entries = typeof value === 'string' ? value.split(/[\s,]+/) : (value ?? []);
  if (!Array.isArray(entries))
    throw new UsageError(`allowedOrigins must be a string or an array of origins, not ${String(value)}`, {
      option: 'allowedOrigins',
    });
  return entries
    .filter((entry) => entry !== '')
    .map((entry) => {
      let url: URL | undefined;
      try {
        url = new URL(entry);
      } catch {}
      if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`) {
        throw new UsageError(`allowed-origins: "${String(entry)}" is not an origin (scheme://host[:port], no path)`, {
          option: 'allowedOrigins',
        });
      }
      return url.origin;
    });
}

/** The page's own origin, when there is a page (an opaque origin counts as none). */
export function pageOrigin(): string | undefined {
  const origin = globalThis.location?.origin;
  return origin && origin !== 'null' ? origin : undefined;
}
