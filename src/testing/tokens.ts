/** Random URL-safe ids: refresh tokens, tickets, `jti`s. Not secrets — nothing here is. */
export function randomId(bytes = 16): string {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(values);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * An unsigned JWT (`alg: none`, RFC 7519 §6) carrying `claims`: the client decodes tokens but
 * never verifies a signature, so the test server needs no key, and it recognises its own tokens by
 * remembering them instead. Encoded as UTF-8, so names like "Zoë" survive.
 */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
