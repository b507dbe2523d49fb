// Compile-time checks of auth-shell/login-form's public types (npm test type-checks this file).
import type { LoginFormMessages } from '../../src/login-form.js';

const form = document.createElement('auth-login-form');
// Any subset of the texts, by key.
form.messages = {
  submit: 'Entrar',
  'rate-limited': 'Demasiados intentos: {seconds} s.',
} satisfies Partial<LoginFormMessages>;
// @ts-expect-error an unknown key is refused
form.messages = { signIn: 'Sign in' };
// @ts-expect-error a text is a string
form.messages = { submit: 1 };
export const shown: string = form.error;
