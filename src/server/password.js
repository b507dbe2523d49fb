// @ts-check
/**
 * Password hashing with Node's built-in scrypt, at the cost OWASP's Password Storage Cheat Sheet
 * recommends for scrypt (N = 2^17, r = 8, p = 1: 128 MiB and ~0.1–0.3 s per hash on one core), for
 * teams that keep their own users. Stored as a PHC string:
 * `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (salt 16 random bytes, hash 32 bytes, base64 without
 * padding), so the parameters travel with each hash and can be raised later: `needsRehash()` tells
 * when a stored hash is weaker than the current setting.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** OWASP's scrypt parameters: N = 2^ln. */
export const SCRYPT_DEFAULTS = Object.freeze({ ln: 17, r: 8, p: 1 });
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/;

/**
 * @param {string} password @param {Buffer} salt @param {{ ln: number, r: number, p: number }} params
 * @returns {Promise<Buffer>}
 */
function derive(password, salt, { ln, r, p }) {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { N, r, p, maxmem: 128 * N * r * (p + 1) + 2 ** 20 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

const b64 = (/** @type {Buffer} */ b) => b.toString('base64').replace(/=+$/, '');

/**
 * Hashes a password for storage.
 * @param {string} password
 * @param {{ ln?: number, r?: number, p?: number }} [params] default OWASP's (ln 17, r 8, p 1)
 * @returns {Promise<string>} `$scrypt$ln=17,r=8,p=1$…$…`
 */
export async function hashPassword(password, params = {}) {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  const p = { ...SCRYPT_DEFAULTS, ...params };
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, p);
  return `$scrypt$ln=${p.ln},r=${p.r},p=${p.p}$${b64(salt)}$${b64(key)}`;
}

/** Compared against when there is no stored hash, so an unknown login costs what a known one does. */
let dummy;

/**
 * Checks a password against a stored hash in constant time. With no stored hash (an unknown
 * login) it still derives one at the default cost and answers false, so the answer's timing does
 * not tell which logins exist.
 * @param {string | null | undefined} stored from hashPassword()
 * @param {string} password
 * @returns {Promise<boolean>}
 */
export async function checkPassword(stored, password) {
  const m = typeof stored === 'string' ? PHC.exec(stored) : null;
  if (!m || typeof password !== 'string') {
    dummy ??= hashPassword('auth-shell: no such user');
    const d = /** @type {RegExpExecArray} */ (PHC.exec(await dummy));
    await derive(String(password), Buffer.from(d[4], 'base64'), SCRYPT_DEFAULTS);
    return false;
  }
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5], 'base64');
  const key = await derive(password, Buffer.from(m[4], 'base64'), params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Whether a stored hash was made with weaker parameters than `params` (default OWASP's): then hash
 * the password again after a successful check and store the new hash.
 * @param {string} stored @param {{ ln?: number, r?: number, p?: number }} [params]
 */
export function needsRehash(stored, params = {}) {
  const p = { ...SCRYPT_DEFAULTS, ...params };
  const m = PHC.exec(stored);
  return !m || Number(m[1]) < p.ln || Number(m[2]) < p.r || Number(m[3]) < p.p;
}
