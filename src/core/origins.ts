import { UsageError } from './errors.js';

/** The URL relative URLs are resolved against: the document's base URL, else the worker's location. */
export function baseUrl(): string | undefined {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/** Resolves `url` against the page; a relative URL without a page to resolve against is a {@link UsageError}. */
export function resolveUrl(url: string | URL, what: string): URL {
  try {
    return new URL(url, baseUrl());
  } catch {
    throw new UsageError(`${what}: "${String(url)}" is not a valid URL`);
  }
}

/** Parses one `allowed-origins` entry. Only a bare http(s) origin is accepted, so a typo never widens the policy. */
export function parseOrigin(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new UsageError(`allowed-origins: "${entry}" is not an absolute URL (expected e.g. https://api.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`allowed-origins: "${entry}" is not an http(s) origin`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new UsageError(`allowed-origins: "${entry}" has a path, query or credentials (scheme://host[:port] only)`);
  }
  return url.origin;
}

/** Splits a space- or comma-separated list (the attribute form) or takes an array as it is. */
export function originList(value: string | readonly string[] | undefined | null): string[] {
  if (value == null) return [];
  const entries = typeof value === 'string' ? value.split(/[\s,]+/) : value;
  return entries.filter((entry) => entry !== '').map(parseOrigin);
}

/**
 * Which URLs may receive the bearer token: exact origins only (scheme, host and port), compared on
 * parsed URLs, so `//evil.example`, `https://api.example.com.evil.net` and an `http:` downgrade of
 * an allowed `https:` origin never match.
 */
export class OriginPolicy {
  readonly #origins: ReadonlySet<string>;

  constructor(origins: Iterable<string>) {
    this.#origins = new Set(origins);
  }

  allows(url: URL): boolean {
    return this.#origins.has(url.origin);
  }

  /** The allowed origins, for diagnostics. */
  get origins(): readonly string[] {
    return [...this.#origins];
  }
}

/** The page's own origin, when there is a page (an opaque origin counts as none). */
export function pageOrigin(): string | undefined {
  const origin = globalThis.location?.origin;
  return origin && origin !== 'null' ? origin : undefined;
}
