// @ts-check
/** Small HTTP helpers for the reference backend: cookies, bodies, JSON responses. */

/**
 * Parses a `Cookie` request header into its `name=value` pairs, in order, duplicates kept: a
 * browser sends one pair per cookie it holds for the URL, and two cookies may share a name (set for
 * different paths or domains, possibly by someone else), so picking one would be a guess. Values are
 * returned as sent, without URI-decoding.
 * @param {string | undefined} header
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
 * @param {string} name
 * @param {string} value
 * @param {{ path: string, maxAge: number, secure: boolean }} opts
 */
export function serializeCookie(name, value, { path, maxAge, secure }) {
  let cookie = `${name}=${value}; HttpOnly; SameSite=Strict; Path=${path}; Max-Age=${Math.max(0, Math.floor(maxAge))}`;
  if (secure) cookie += '; Secure';
  return cookie;
}

/**
 * The host name and port of a `Host` header (or an allow-list entry), lower-cased: `[::1]:8080` →
 * `{ hostname: '[::1]', port: '8080' }`, `example.com` → `{ hostname: 'example.com', port: '' }`.
 * Undefined for anything else (a missing header, a path, userinfo, spaces, a port over 65535).
 * @param {string | undefined} host
 * @returns {{ hostname: string, port: string } | undefined}
 */
export function parseHost(host) {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(host ?? '');
  if (!m || Number(m[2] ?? 0) > 65535) return undefined;
  return { hostname: m[1].toLowerCase(), port: m[2] ?? '' };
}

/** An error answered as `status` with body `{ error: code }` and extra `headers`. */
export class HttpError extends Error {
  /** @param {number} status @param {string} code @param {Record<string, string>} [headers] */
  constructor(status, code, headers = {}) {
    super(code);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * Reads the request body up to `limit` bytes; throws HttpError(413) beyond that.
 * @param {import('node:http').IncomingMessage} req
 * @param {number} limit
 * @returns {Promise<Buffer>}
 */
export function readBody(req, limit) {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new HttpError(413, 'payload_too_large', { Connection: 'close' }));
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop collecting but leave the socket alone so the 413 can still be written.
      req.off('data', onData).off('end', onEnd).resume();
      reject(new HttpError(413, 'payload_too_large', { Connection: 'close' }));
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData).on('end', onEnd).once('error', reject);
  });
}

/**
 * The media type of a Content-Type header, lower-cased and without parameters.
 * @param {string | undefined} header
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
