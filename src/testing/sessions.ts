import { randomId, unsignedJwt } from './tokens.js';
import { claimsOf, type TestUser } from './users.js';

/** Why a session ended on the server. */
export type EndReason = 'logout' | 'revoked' | 'reuse';

/** One login: the refresh tokens it rotated through and the access tokens it was given. */
interface Family {
  readonly user: TestUser;
  /** The session's id: its tokens' `sid` claim and the readable session-id cookie's value. */
  readonly sid: string;
  ended: EndReason | null;
}

/** An access token as the server remembers it: it never verifies a signature, it looks tokens up. */
interface AccessRecord {
  readonly family: Family;
  /** `Date.now()` at which it expires. */
  readonly expiresAt: number;
  /** Ended early by {@link SessionStore.expireTokens}. */
  expired: boolean;
}

/** The body of a token response. */
export interface TokenBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** The outcome of checking an `Authorization` header: the user and the token, or why not. */
export type Bearer = { user: TestUser; token: string } | { error: 'missing' | 'invalid' };

/**
 * The test server's memory: sessions (refresh-token families), the access tokens it issued, socket
 * tickets — and the browser's cookie jar for the api.
 *
 * The jar is here, not in the browser, because a service worker cannot set cookies: `Set-Cookie`
 * is a forbidden header on the responses msw builds, and msw's own emulation keeps such cookies in
 * `localStorage` (HttpOnly ones too) — a refresh token in storage, visible to every script and
 * carried over to the next page. So the kit holds "the cookie the browser would send" itself, per
 * kit instance, and every request to the api presents it, as a browser presents its HttpOnly cookie
 * to every request under its path.
 */
export class SessionStore {
  #cookie: string | null = null;
  readonly #refreshTokens = new Map<string, { family: Family; used: boolean }>();
  readonly #accessTokens = new Map<string, AccessRecord>();
  /** Each ticket with the access token it was minted for: a socket opened with it lives as long as that token. */
  readonly #tickets = new Map<string, { user: TestUser; token: string; expiresAt: number }>();

  /**
   * @param accessTtl lifetime of access tokens in seconds.
   * @param sidCookie sets (or, with `null`, clears) the browser's readable session-id cookie, which
   *   a real server sets and clears beside the refresh cookie.
   */
  constructor(
    readonly accessTtl: number,
    readonly sidCookie: (sid: string | null) => void = () => {},
  ) {}

  /** The refresh cookie the browser holds for the api, or `null`. */
  get cookie(): string | null {
    return this.#cookie;
  }

  /** Puts `value` in the jar, and the session-id cookie of its session (if it lives) beside it. */
  set cookie(value: string | null) {
    this.#cookie = value;
    const family = value === null ? undefined : this.#refreshTokens.get(value)?.family;
    this.sidCookie(family && !family.ended ? family.sid : null);
  }

  /** The user whose live session the browser's cookie belongs to, or `null`. */
  get currentUser(): TestUser | null {
    const record = this.cookie === null ? undefined : this.#refreshTokens.get(this.cookie);
    return record && !record.used && !record.family.ended ? record.family.user : null;
  }

  /** A login: a new session for `user`, its refresh token in the jar (replacing any other). */
  login(user: TestUser): TokenBody {
    const family: Family = { user, sid: randomId(), ended: null };
    this.cookie = this.#issueRefresh(family);
    return this.#issueAccess(family);
  }

  /**
   * A refresh with the jar's cookie: rotated (the cookie replaced, the old one spent) while the
   * session lives. A spent cookie presented again is reuse — someone else holds a copy — and ends
   * the whole session. `null` means 401, and the jar is cleared as the server's answer would clear it.
   */
  refresh(): TokenBody | null {
    const record = this.cookie === null ? undefined : this.#refreshTokens.get(this.cookie);
    if (record?.used && !record.family.ended) record.family.ended = 'reuse';
    if (!record || record.used || record.family.ended) {
      this.cookie = null;
      return null;
    }
    record.used = true;
    this.cookie = this.#issueRefresh(record.family);
    return this.#issueAccess(record.family);
  }

  /** Ends the session of the jar's cookie (if any) and clears the jar. */
  logout(): void {
    this.#end('logout');
    this.cookie = null;
  }

  /** Ends the session of the jar's cookie, as an administrator would; the jar keeps the dead cookie. */
  revoke(): boolean {
    return this.#end('revoked');
  }

  /** Every access token issued so far is refused from now on (401, as an expired token). */
  expireTokens(): number {
    let expired = 0;
    for (const record of this.#accessTokens.values()) {
      if (!record.expired && record.expiresAt > Date.now()) expired++;
      record.expired = true;
    }
    return expired;
  }

  /** Checks an `Authorization` header: a token this server issued, unexpired, of a live session. */
  bearer(header: string | null): Bearer {
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (token === undefined) return { error: 'missing' };
    const record = this.#accessTokens.get(token);
    if (!record || record.expired || record.expiresAt <= Date.now() || record.family.ended) {
      return { error: 'invalid' };
    }
    return { user: record.family.user, token };
  }

  /** A one-time socket ticket for the holder of a valid `bearer`, valid 30 s. */
  ticket({ user, token }: { user: TestUser; token: string }): { ticket: string; expires_in: number } {
    const ticket = randomId();
    this.#tickets.set(ticket, { user, token, expiresAt: Date.now() + 30_000 });
    return { ticket, expires_in: 30 };
  }

  /** Redeems a ticket once: the access token it was minted for, or `null` when it is unknown, spent or expired. */
  redeemTicket(ticket: string): string | null {
    const found = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    return found && found.expiresAt > Date.now() ? found.token : null;
  }

  /** Forgets everything: sessions, tokens, tickets, the jar. */
  clear(): void {
    this.cookie = null;
    this.#refreshTokens.clear();
    this.#accessTokens.clear();
    this.#tickets.clear();
  }

  #end(reason: EndReason): boolean {
    const family = this.cookie === null ? undefined : this.#refreshTokens.get(this.cookie)?.family;
    if (!family || family.ended) return false;
    family.ended = reason;
    return true;
  }

  #issueRefresh(family: Family): string {
    const token = randomId();
    this.#refreshTokens.set(token, { family, used: false });
    return token;
  }

  #issueAccess(family: Family): TokenBody {
    const iat = Math.floor(Date.now() / 1000);
    const access_token = unsignedJwt({
      ...claimsOf(family.user),
      sid: family.sid,
      iat,
      exp: iat + this.accessTtl,
      jti: randomId(9),
    });
    this.#accessTokens.set(access_token, { family, expiresAt: Date.now() + this.accessTtl * 1000, expired: false });
    return { access_token, token_type: 'Bearer', expires_in: this.accessTtl };
  }
}
