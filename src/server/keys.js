// @ts-check
/**
 * Access tokens: signing keys, signing, verification, the JWKS. Three sources of keys:
 *
 * - the store (default): an Ed25519 key pair (EdDSA) made on first start and kept in the store, so
 *   every instance sharing the store signs and verifies alike. `rotate()` adds a newer key, which
 *   signs from then on; the older one stays in the JWKS and keeps verifying until every token it can
 *   have signed has expired (another instance may sign with it until its next reload), then it is
 *   deleted. Nobody is logged out: refresh tokens are not JWTs, and every access token verifies.
 * - `keys`: private JWKs (EdDSA, ES256, RS256…) given by you; the first signs, all verify.
 * - `secret`: a shared HS256 secret (≥ 32 bytes), only as an explicit choice: anyone who can verify
 *   can also sign, and there is no JWKS.
 */
import { createHmac, createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { calculateJwkThumbprint, errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify } from 'jose';

/** RFC 9068 media type for JWT access tokens; verified, so no other JWT kind is accepted. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Leeway on `exp` and `iat`, s. */
export const CLOCK_TOLERANCE_S = 5;
const HS256_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' })).toString('base64url');
/** Unknown `kid`s make a reload from the store at most this often. */
const UNKNOWN_KID_RELOAD_MS = 1000;

/**
 * @typedef {{ kid: string, alg: string, createdAt: number, publicKey: any, publicJwk: Record<string, unknown>,
 *   signData: (data: string) => Buffer, header: string }} LoadedKey
 *   `signData` signs with Node's crypto directly (synchronous, several times faster than a WebCrypto
 *   round trip, which matters at a thousand refreshes a second); `header` the encoded JWS header
 * @typedef {import('jose').JWTPayload} Claims
 *
 * @typedef {object} KeyringOptions
 * @property {import('./store.js').Store} store
 * @property {Array<Record<string, unknown>>} [keys] private JWKs; the first signs
 * @property {string | Uint8Array} [secret] HS256
 * @property {string} issuer
 * @property {string} audience
 * @property {number} accessTokenTtl s
 * @property {number} reloadMs how often keys are reloaded from the store
 * @property {() => number} now ms
 */

/** @param {Record<string, unknown>} jwk */
function algOf(jwk) {
  if (typeof jwk.alg === 'string') return jwk.alg;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'RSA') return 'RS256';
  throw new TypeError(`keys: cannot tell the algorithm of a ${String(jwk.kty)} key; give it an "alg"`);
}

/** The public half of a private JWK. @param {Record<string, unknown>} jwk */
function publicOf(jwk) {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, key_ops: _ops, ext: _ext, ...pub } = jwk;
  return pub;
}

/** @param {Record<string, unknown>} jwk @param {number} createdAt @returns {Promise<LoadedKey>} */
async function load(jwk, createdAt) {
  if (typeof jwk.d !== 'string') throw new TypeError('keys: a signing key must be a private JWK (with "d")');
  const alg = algOf(jwk);
  const kid = typeof jwk.kid === 'string' ? jwk.kid : await calculateJwkThumbprint(/** @type {any} */ (jwk));
  const publicJwk = { ...publicOf(jwk), kid, alg, use: 'sig' };
  const privateKey = createPrivateKey({ key: /** @type {any} */ ({ ...jwk }), format: 'jwk' });
  return {
    kid,
    alg,
    createdAt,
    publicKey: await importJWK(/** @type {any} */ (publicJwk), alg),
    publicJwk,
    signData: signerFor(alg, privateKey),
    header: encode({ alg, typ: ACCESS_TOKEN_TYP, kid }),
  };
}

/** @param {unknown} value */
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A JWS signing function of Node's crypto for an algorithm.
 * @param {string} alg @param {import('node:crypto').KeyObject} key
 * @returns {(data: string) => Buffer}
 */
function signerFor(alg, key) {
  if (alg === 'EdDSA' || alg === 'Ed25519') return (data) => nodeSign(null, Buffer.from(data), key);
  const hash = /^(?:ES|RS|PS)(256|384|512)$/.exec(alg)?.[1];
  if (!hash) throw new TypeError(`keys: unsupported algorithm ${alg}`);
  if (alg.startsWith('ES'))
    return (data) => nodeSign(`sha${hash}`, Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS'))
    return (data) =>
      nodeSign(`sha${hash}`, Buffer.from(data), {
        key,
        padding: 6 /* RSA_PKCS1_PSS_PADDING */,
        saltLength: Number(hash) / 8,
      });
  return (data) => nodeSign(`sha${hash}`, Buffer.from(data), key);
}

/** A new Ed25519 key pair as a private JWK with its thumbprint as `kid`. */
export async function generateSigningKey() {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = /** @type {Record<string, unknown>} */ (await exportJWK(privateKey));
  return { ...jwk, alg: 'EdDSA', kid: await calculateJwkThumbprint(/** @type {any} */ (jwk)) };
}

/** @param {KeyringOptions} o */
export function createKeyring(o) {
  const { store, issuer, audience, now } = o;
  /** @type {'store' | 'static' | 'secret'} */
  const source = o.secret !== undefined ? 'secret' : o.keys ? 'static' : 'store';
  if (o.secret !== undefined && o.keys) throw new TypeError('give either keys or secret, not both');
  /** @type {Uint8Array | undefined} */
  let secret;
  if (o.secret !== undefined) {
    secret = typeof o.secret === 'string' ? new TextEncoder().encode(o.secret) : o.secret;
    if (!(secret instanceof Uint8Array) || secret.byteLength < 32)
      throw new RangeError('secret must be at least 32 bytes (HS256 needs a 256-bit key)');
  }
  if (o.keys && (!Array.isArray(o.keys) || o.keys.length === 0))
    throw new TypeError('keys must be a non-empty array of private JWKs');
  for (const jwk of o.keys ?? []) {
    if (typeof jwk?.d !== 'string') throw new TypeError('keys: a signing key must be a private JWK (with "d")');
    algOf(jwk);
  }

  /** Oldest first; the last one signs. @type {LoadedKey[]} */
  let keys = [];
  let loadedAt = -Infinity;
  let lastUnknownReload = -Infinity;
  /** @type {Promise<void> | undefined} */
  let reloading;

  /** How long after a newer key appeared an older one may still have signed tokens that live. */
  const retainMs = () => (o.accessTokenTtl + CLOCK_TOLERANCE_S) * 1000 + o.reloadMs;

  async function reload() {
    const stored = await store.loadKeys();
    const have = new Map(keys.map((k) => [k.kid, k]));
    keys = await Promise.all(stored.map((s) => have.get(s.kid) ?? load({ ...s.jwk, kid: s.kid }, s.createdAt)));
    loadedAt = now();
  }

  /** One reload at a time. */
  const reloadOnce = () =>
    (reloading ??= reload().finally(() => {
      reloading = undefined;
    }));

  /** Keys of the store, reloaded when stale; a store that is down leaves the cached ones in use. */
  async function fresh() {
    if (source !== 'store') return;
    if (keys.length === 0) return init();
    if (now() - loadedAt < o.reloadMs) return;
    await reloadOnce().catch(() => {});
  }

  async function init() {
    if (source === 'secret') return;
    if (source === 'static') {
      // The first given signs: it goes last.
      if (keys.length === 0) keys = (await Promise.all((o.keys ?? []).map((jwk, i) => load(jwk, -i)))).reverse();
      return;
    }
    await reloadOnce();
    if (keys.length > 0) return;
    const jwk = await generateSigningKey();
    await store.addKey({ kid: /** @type {string} */ (jwk.kid), jwk, createdAt: now() }, true);
    await reloadOnce();
    if (keys.length === 0) throw new Error('no signing key in the store after adding one');
  }

  /** @param {import('jose').JWSHeaderParameters} header */
  async function keyFor(header) {
    if (secret) return secret;
    let key = keys.find((k) => k.kid === header.kid);
    if (!key && source === 'store' && now() - lastUnknownReload >= UNKNOWN_KID_RELOAD_MS) {
      // A key another instance added since the last reload.
      lastUnknownReload = now();
      await reloadOnce().catch(() => {});
      key = keys.find((k) => k.kid === header.kid);
    }
    if (!key) throw new joseErrors.JWKSNoMatchingKey();
    return key.publicKey;
  }

  const algorithms = () => (secret ? ['HS256'] : [...new Set(keys.map((k) => k.alg))]);

  return {
    source,
    init,

    /**
     * Signs an access token: `jti` (random, unless `claims` has one), the claims, then `iss`, `aud`,
     * `iat`, `exp` set here.
     * @param {Record<string, unknown>} claims @param {number} ttl s (may be negative)
     */
    async sign(claims, ttl) {
      await fresh();
      const iat = Math.floor(now() / 1000);
      const payload = {
        jti: randomBytes(16).toString('base64url'),
        ...claims,
        iss: issuer,
        aud: audience,
        iat,
        exp: iat + ttl,
      };
      if (secret) {
        const data = `${HS256_HEADER}.${encode(payload)}`;
        return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
      }
      const signer = /** @type {LoadedKey} */ (keys.at(-1));
      const data = `${signer.header}.${encode(payload)}`;
      return `${data}.${signer.signData(data).toString('base64url')}`;
    },

    /**
     * Verifies an access token: algorithm allow-list, `typ`, `iss`, `aud`, `exp` (with leeway),
     * required `sub`, `exp`, `iat`. Resolves the claims or rejects with jose's error.
     * @param {string} token @returns {Promise<Claims>}
     */
    async verify(token) {
      await fresh();
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: algorithms(),
        typ: ACCESS_TOKEN_TYP,
        issuer,
        audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    },

    /** The public keys, for `{base}/jwks.json`; null with a shared secret. */
    async jwks() {
      if (secret) return null;
      await fresh();
      // Given keys in the order given (the signer first); store keys oldest first.
      const listed = source === 'static' ? [...keys].reverse() : keys;
      return { keys: listed.map((k) => k.publicJwk) };
    },

    /** Store keys: adds a newer key that signs from now on; returns its kid. */
    async rotate() {
      if (source !== 'store') throw new TypeError(`rotateKeys() rotates store-kept keys; these come from ${source}`);
      await reloadOnce();
      const jwk = await generateSigningKey();
      // Newer than every key in the store even when this instance's clock is behind another's: the
      // newest key signs, on every instance.
      const createdAt = Math.max(now(), (keys.at(-1)?.createdAt ?? 0) + 1);
      await store.addKey({ kid: /** @type {string} */ (jwk.kid), jwk, createdAt }, false);
      await reloadOnce();
      return /** @type {string} */ (jwk.kid);
    },

    /** Store keys: deletes keys no live token can have been signed with. */
    async cleanup() {
      if (source !== 'store') return;
      await reloadOnce();
      const t = now();
      const obsolete = keys.filter((_k, i) => i < keys.length - 1 && keys[i + 1].createdAt + retainMs() < t);
      if (obsolete.length === 0) return;
      await store.deleteKeys(obsolete.map((k) => k.kid));
      await reloadOnce();
    },
  };
}
