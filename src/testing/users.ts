/**
 * A user the test server knows. `login` and `password` are what a login form sends; every other
 * field is a claim of the user's access tokens (what `session.user` shows) and part of what
 * `GET {api}/me` answers.
 */
export interface TestUser {
  /** What the user types as login. */
  readonly login: string;
  /** Default: the login. */
  readonly password?: string;
  /** The token's subject. Default: the login. */
  readonly sub?: string;
  readonly name?: string;
  /** Checked by `<auth-gate require-role>` and by {@link AuthServer.protect}'s `role`. */
  readonly role?: string;
  readonly roles?: readonly string[];
  /** Any other claim: `email`, `tenant`, … */
  readonly [claim: string]: unknown;
}

/** The users of a test server without a `users` option: the reference backend's demo users. */
export const DEFAULT_USERS: readonly TestUser[] = Object.freeze([
  { login: 'alice', password: 'alice', sub: '1', name: 'Alice', role: 'user' },
  { login: 'bob', password: 'bob', sub: '2', name: 'Bob', role: 'user' },
  { login: 'admin', password: 'admin', sub: '3', name: 'Ada Admin', role: 'admin' },
]);

/** The claims of `user`'s access tokens: every field but the credentials, `sub` defaulting to the login. */
export function claimsOf(user: TestUser): Record<string, unknown> {
  const { login, password: _password, ...claims } = user;
  return { ...claims, sub: user.sub ?? login };
}

/** What `GET {api}/me` answers for `user`: the claims and the login, never the password. */
export function profileOf(user: TestUser): Record<string, unknown> {
  return { ...claimsOf(user), login: user.login };
}

/** Whether `user` holds one of `roles` (its `role`, or one of its `roles`), as `<auth-gate require-role>` decides. */
export function hasRole(user: TestUser, roles: readonly string[]): boolean {
  return roles.some((role) => user.role === role || (user.roles ?? []).includes(role));
}
