declare const __AUTH_SHELL_DEV__: boolean | undefined;

/**
 * Whether this is auth-shell's development build. It says more: messages that explain a mistake
 * and what to do about it. The package's `development` export condition loads it (Vite's dev
 * server, webpack's development mode, `esbuild --conditions=development`); the default build keeps
 * the facts of every message (operation, method, URL, status, option) and each error's code with a
 * link to the error catalogue, as Lit's builds do. Sources used as they are count as development.
 */
export const DEV: boolean = typeof __AUTH_SHELL_DEV__ !== 'boolean' || __AUTH_SHELL_DEV__;

/** Where each error code is explained; production messages link to it. */
export const CATALOGUE = 'https://github.com/auth-shell/auth-shell/blob/main/docs/errors.md';
