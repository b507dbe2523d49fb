/**
 * The tags auth-shell defines, stated once: the registering entries, `HTMLElementTagNameMap`, the
 * React JSX typings, Vue's `isAuthShellElement`, the testing kit and the manifest (which reads the
 * `define` calls) all take them from here. No dependencies: framework adapters import it freely.
 */
export const TAGS = {
  provider: 'auth-provider',
  gate: 'auth-gate',
  loginForm: 'auth-login-form',
  devtools: 'auth-devtools',
} as const;

/** A tag auth-shell defines. */
export type AuthShellTag = (typeof TAGS)[keyof typeof TAGS];
