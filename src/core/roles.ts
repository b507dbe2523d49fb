import type { User } from './token-store.js';

/**
 * Whether `user` holds one of the `wanted` roles: its `role` claim, or any entry of its `roles`
 * claim, compared as strings. `wanted` is one role, several space-separated (`'admin editor'`), or
 * a list; any of them will do. Nothing wanted: `true` for anyone, `null` included. No user: `false`.
 *
 * A view choice only — what to show, which route to offer. The server decides what a token may do.
 *
 * @example
 * ```ts
 * import { hasRole } from 'auth-shell/core';
 * hasRole(session.user, 'admin');          // role: 'admin', or roles: ['user', 'admin']
 * hasRole(session.user, 'admin editor');   // either one
 * ```
 */
export function hasRole(user: User | null | undefined, wanted: string | readonly string[] | null | undefined): boolean {
  const list = (typeof wanted === 'string' ? wanted.split(/\s+/) : (wanted ?? [])).filter(Boolean);
  if (list.length === 0) return true;
  const roles = user?.['roles'];
  const held = [user?.['role'], ...(Array.isArray(roles) ? roles : [])].filter((role) => role != null).map(String);
  return list.some((role) => held.includes(String(role)));
}
