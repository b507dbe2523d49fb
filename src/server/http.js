// @ts-check
/** Web-standard HTTP helpers of auth-shell/server: cookies, `Host`, bodies, JSON answers. */

/** An error answered as `status` with body `{ error: code }` (and `error_description`) and extra headers. */
export class HttpError extends Error {
  /**
   * @param {number} status @param {string} code
   * @param {Record<string, string>} [headers] @param {string} [description] sent as `error_description`
   */
  constructor(status, code, headers = {}, description) {
    super(code);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.description = description;
  }
}

/**
 * Parses a `Cookie` request header into its `name=value` pairs, in order, duplicates kept: a
 * browser sends one pair per cookie it holds for the URL, and two cookies may share a name (set for
 * different paths or domains, possibly by someone else), so picking one would be a guess. Values are
 * returned as sent, without URI-decoding.
 * @param {string | null | undefined} header
 * @returns {Array<{ name: string, value: string }>}
 */
export function parseCookies(header) {
  /** @type {Array<{ name: string, value: string }>} */
  const out = [];
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name) out.push({ name, value });
  }
  return out;
}

/**
 * A `Set-Cookie` value. Always `SameSite=Strict`, never a `Domain`; `HttpOnly` unless `readable`.
 * @param {string} name @param {string} value
 * @param {{ path: string, maxAge: number, secure: boolean, readable?: boolean }} opts
 */
export function serializeCookie(name, value, { path, maxAge, secure, readable = false }) {
  const flags = readable ? 'SameSite=Strict' : 'HttpOnly; SameSite=Strict';
  let cookie = `${name}=${value}; ${flags}; Path=${path}; Max-Age=${Math.max(0, Math.floor(maxAge))}`;
  if (secure) cookie += '; Secure';
  return cookie;
}

/**
 * The host name and port of a `Host` header (or an allow-list entry), lower-cased: `[::1]:8080` →
 * `{ hostname: '[::1]', port: '8080' }`, `example.com` → `{ hostname: 'example.com', port: '' }`.
 * Undefined for anything else (a missing header, a path, userinfo, spaces, a port over 65535).
 * @param {string | null | undefined} host
 * @returns {{ hostname: string, port: string } | undefined}
 */
export function parseHost(host) {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(host ?? '');
  if (!m || Number(m[2] ?? 0) > 65535) return undefined;
  return { hostname: m[1].toLowerCase(), port: m[2] ?? '' };
}

/**
 * The media type of a Content-Type header, lower-cased and without parameters.
 * @param {string | null | undefined} header
 */
export function mediaType(header) {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * The path of a request URL with any query string replaced, for logs.
 * @param {string} url
 */
export function redactUrl(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?[redacted]`;
}

/**
 * Reads a request body up to `limit` bytes; throws HttpError(413) beyond that (declared or sent).
 * Stops reading at the limit and cancels the rest.
 * @param {Request} request @param {number} limit
 * @returns {Promise<Uint8Array>}
 */
export async function readBody(request, limit) {
  const tooLarge = () => new HttpError(413, 'payload_too_large', { Connection: 'close' });
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * A response with a JSON body (or none) and headers; `Set-Cookie` may be a list.
 * @param {number} status @param {unknown} [body]
 * @param {Record<string, string | string[]>} [headers]
 * @returns {Response}
 */
export function respond(status, body, headers = {}) {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else h.set(name, value);
  }
  if (body === undefined) return new Response(null, { status, headers: h });
  h.set('Content-Type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers: h });
}
