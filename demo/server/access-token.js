// @ts-check
/** Access tokens: short-lived HS256 JWTs signed and verified with jose. */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** RFC 9068 media type for JWT access tokens; verified so no other JWT kind is accepted. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const CLOCK_TOLERANCE_S = 5;

/**
 * @typedef {object} TokenKeyOptions
 * @property {Uint8Array | string} secret HMAC key.
 * @property {string} issuer
 * @property {string} audience
 * @property {() => number} [now] Clock in ms (default Date.now).
 */

/** @param {Uint8Array | string} secret */
export function toKey(secret) {
  return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
}

/**
 * Signs an access token. `claims` usually holds sub, user_id, role and name; iat, exp, iss, aud and
 * jti are set here (a `jti` in claims is kept).
 * @param {Record<string, unknown>} claims
 * @param {TokenKeyOptions & { ttl?: number }} opts `ttl` in seconds (default 60; may be negative).
 */
export async function signAccessToken(claims, { secret, issuer, audience, ttl = 60, now = Date.now }) {
  const iat = Math.floor(now() / 1000);
  return new SignJWT({ jti: randomBytes(16).toString('base64url'), ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYP })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(toKey(secret));
}

/**
 * Verifies an access token (HS256 only; typ, iss, aud, exp checked; small clock tolerance).
 * Resolves the payload or rejects.
 * @param {string} token
 * @param {TokenKeyOptions} opts
 */
export async function verifyAccessToken(token, { secret, issuer, audience, now = Date.now }) {
  const { payload } = await jwtVerify(token, toKey(secret), {
    algorithms: ['HS256'],
    typ: ACCESS_TOKEN_TYP,
    issuer,
    audience,
    clockTolerance: CLOCK_TOLERANCE_S,
    currentDate: new Date(now()),
    requiredClaims: ['sub', 'exp', 'iat'],
  });
  return payload;
}
