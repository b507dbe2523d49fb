import { jwtDecode } from 'jwt-decode';
import { ProtocolError, type AuthOperation } from './errors.js';

/** Decoded access-token claims. The client never authorizes from these; the server does. */
export interface Claims {
  [claim: string]: unknown;
  exp?: number;
  iat?: number;
  sub?: string;
}

/**
 * The user as the page sees it: the token's claims minus token bookkeeping, frozen. The common
 * claims are typed for convenience; what a server actually sends is up to it.
 */
export interface User {
  readonly sub?: string;
  readonly name?: string;
  readonly role?: string | number;
  readonly roles?: readonly (string | number)[];
  readonly [claim: string]: unknown;
}

/** Claims that describe the token rather than the user. */
const BOOKKEEPING = new Set(['exp', 'iat', 'nbf', 'jti']);

/** A monotonic clock in milliseconds. */
export type Clock = () => number;

/**
 * The shortest time a token just received counts as fresh, whatever lifetime the server gave it:
 * no input (a tiny `expires_in`, a skewed clock) can make the session refresh more than once per
 * this many ms on its own.
 */
export const MIN_FRESH = 5000;

/** A token answer, validated and decoded: what the session's machine judges before it is kept. */
export interface ParsedToken {
  readonly token: string;
  readonly user: User;
  /** The `sid` claim (the server's session id), or `null` when the token has none. */
  readonly sid: string | null;
  /** Clock reading when it arrived. */
  readonly receivedAt: number;
  /** ms it lives from `receivedAt`. */
  readonly remaining: number;
  /** Its whole lifetime in ms (sets the leeway). */
  readonly lifetime: number;
  /** The browser's shared time when the request that got it was sent (told to the other tabs). */
  readonly requestedAt: number;
}

/**
 * Validates and decodes a token answer. Throws {@link ProtocolError} when `token` is not a
 * decodable JWT or `expiresIn` is not a number ≥ 0.
 *
 * Expiry is a point on the session's monotonic clock: the moment the response arrived plus the
 * lifetime the response itself proves — `expires_in`, else `exp − iat`, else `exp` minus the
 * response's `Date` header (the server's own clock). The client's wall clock is never compared
 * with `exp`, so neither a client nor a server whose clock is off can shorten a lifetime. With no
 * proof at all the token is used until the server answers 401.
 *
 * @param receivedAt clock reading taken when the response arrived.
 * @param serverDate the response's `Date` header in ms, if it had a readable one.
 * @param lifetime the token's whole lifetime in ms, when `expiresIn` is only what is left of it
 *   (a token handed over by another tab).
 * @param requestedAt the browser's shared time when the request that got it was sent.
 */
export function parseToken(
  token: unknown,
  expiresIn: unknown,
  receivedAt: number,
  operation: AuthOperation,
  serverDate: number | undefined,
  lifetime: number | undefined,
  requestedAt: number,
): ParsedToken {
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new ProtocolError(`${operation}: access_token is not a JWT`, { operation });
  }
  let claims: Claims;
  try {
    claims = jwtDecode<Claims>(token);
  } catch {
    // jwt-decode's message may quote part of the token: keep only our own words, and no cause.
    throw new ProtocolError(`${operation}: access_token could not be decoded`, { operation });
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new ProtocolError(`${operation}: access_token payload is not an object`, { operation });
  }
  const remaining = lifetimeOf(claims, expiresIn, operation, serverDate);
  const { sid } = claims;
  return {
    token,
    user: userOf(claims),
    sid: typeof sid === 'string' && sid !== '' ? sid : null,
    receivedAt,
    remaining,
    lifetime: lifetime ?? remaining,
    requestedAt,
  };
}

/**
 * The one place the access token lives: a private field, never exposed as a property.
 * Freshness is measured on the session's monotonic clock (see {@link parseToken}).
 */
export class TokenStore {
  #token: string | null = null;
  #expiresAt = 0;
  #lifetime = 0;
  /** Clock reading before which the token counts as fresh anyway (see {@link MIN_FRESH}). */
  #freshUntil = 0;
  #user: User | null = null;
  #requestedAt = 0;
  readonly #clock: Clock;
  readonly #leeway: number;

  /** @param leeway ms before expiry at which a token counts as stale. */
  constructor(clock: Clock, leeway: number) {
    this.#clock = clock;
    this.#leeway = leeway;
  }

  /** Keeps a parsed token; returns its user (the previous user object when only bookkeeping changed). */
  set({ token, user, receivedAt, remaining, lifetime, requestedAt }: ParsedToken): User {
    this.#token = token;
    this.#requestedAt = requestedAt;
    this.#lifetime = lifetime;
    this.#expiresAt = receivedAt + remaining;
    this.#freshUntil = receivedAt + MIN_FRESH;
    return (this.#user = sameUser(this.#user, user));
  }

  /** The user a parsed token would be kept as: the held user object when nothing but bookkeeping differs. */
  userOf(parsed: ParsedToken): User {
    return sameUser(this.#user, parsed.user);
  }

  /** The token, for the session's own use (Authorization headers). Never expose it further. */
  get token(): string | null {
    return this.#token;
  }

  get user(): User | null {
    return this.#user;
  }

  /** The browser's shared time when the request that got the token was sent. */
  get requestedAt(): number {
    return this.#requestedAt;
  }

  /** The token's whole lifetime in ms. */
  get lifetime(): number {
    return this.#lifetime;
  }

  /** ms until expiry. */
  get remaining(): number {
    return this.#expiresAt - this.#clock();
  }

  /** Milliseconds before expiry at which the token counts as stale: the configured leeway, but at most a quarter of its lifetime. */
  get #effectiveLeeway(): number {
    return Math.min(this.#leeway, this.#lifetime / 4);
  }

  /**
   * Clock reading at which the token becomes stale (Infinity for a token without expiry): the
   * leeway before its expiry, but never sooner than {@link MIN_FRESH} after it arrived.
   */
  get staleAt(): number {
    return this.#token === null ? 0 : Math.max(this.#freshUntil, this.#expiresAt - this.#effectiveLeeway);
  }

  /** A token is held and it is not within the leeway of its expiry. */
  isFresh(): boolean {
    return this.#token !== null && this.#clock() < this.staleAt;
  }

  /** A token is held and it has not expired yet (it may be stale). */
  isUnexpired(): boolean {
    return this.#token !== null && this.#clock() < this.#expiresAt;
  }

  clear(): void {
    this.#token = null;
    this.#user = null;
    this.#expiresAt = this.#lifetime = this.#freshUntil = 0;
  }
}

function lifetimeOf(
  claims: Claims,
  expiresIn: unknown,
  operation: AuthOperation,
  serverDate: number | undefined,
): number {
  const { exp, iat } = claims;
  if (expiresIn !== undefined && expiresIn !== null) {
    const seconds = typeof expiresIn === 'string' && expiresIn.trim() !== '' ? Number(expiresIn) : expiresIn;
    if (typeof seconds !== 'number' || !(seconds >= 0)) {
      throw new ProtocolError(`${operation}: expires_in is not a number ≥ 0`, { operation });
    }
    return seconds * 1000;
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return Infinity; // used until a 401
  // Both ends measured by the server's clock: the client's never enters.
  if (typeof iat === 'number' && Number.isFinite(iat)) {
    if (!(exp > iat)) throw new ProtocolError(`${operation}: token exp is not after iat`, { operation });
    return (exp - iat) * 1000;
  }
  return serverDate === undefined ? Infinity : Math.max(0, exp * 1000 - serverDate);
}

function userOf(claims: Claims): User {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!BOOKKEEPING.has(key)) user[key] = value;
  return Object.freeze(user);
}

/** Keeps the previous user object when nothing but bookkeeping changed, so holders see no change. */
function sameUser(previous: User | null, next: User): User {
  return previous !== null && JSON.stringify(previous) === JSON.stringify(next) ? previous : next;
}
