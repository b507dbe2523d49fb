/**
 * auth-shell/react — JSX typings for React 19: `<auth-provider>`, `<auth-gate>` and
 * `<auth-login-form>` in `React.JSX.IntrinsicElements`, with their attributes and events. Types only;
 * importing it at run time does nothing.
 *
 * React 19 sets a custom element's known properties as properties and adds `on<event-name>`
 * function props as event listeners, so `onauth-change={…}` listens to `auth-change`.
 *
 * @example
 * ```tsx
 * import 'auth-shell';
 * import type {} from 'auth-shell/react';
 * <auth-provider api="/api" onauth-change={(e) => console.log(e.detail.state)}>
 *   <auth-gate><p slot="pending">…</p></auth-gate>
 * </auth-provider>
 * ```
 * @module
 */
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { Activity, SessionErrorDetail, SessionSnapshot } from './core/index.js';
import type { AuthGate } from './elements/auth-gate.js';
import type { AuthLoginForm } from './elements/login-form.js';
import type { AuthProvider } from './elements/auth-provider.js';

type Element<T> = DetailedHTMLProps<HTMLAttributes<T>, T>;

/** Attributes and events of `<auth-provider>` in JSX. */
export interface AuthProviderJsx extends Element<AuthProvider> {
  api?: string;
  'login-path'?: string;
  'refresh-path'?: string;
  'logout-path'?: string;
  'refresh-method'?: 'POST' | 'GET';
  'logout-method'?: 'POST' | 'GET';
  'csrf-header'?: string;
  'allowed-origins'?: string;
  leeway?: number | string;
  timeout?: number | string;
  'onauth-change'?: (event: CustomEvent<SessionSnapshot>) => void;
  'onauth-activity'?: (event: CustomEvent<Activity>) => void;
  'onauth-error'?: (event: CustomEvent<SessionErrorDetail>) => void;
}

/** Attributes of `<auth-gate>` in JSX. */
export interface AuthGateJsx extends Element<AuthGate> {
  'require-role'?: string;
}

/** Attributes and events of `<auth-login-form>` in JSX. */
export interface AuthLoginFormJsx extends Element<AuthLoginForm> {
  'login-label'?: string;
  'password-label'?: string;
  'submit-label'?: string;
  'onauth-login'?: (event: CustomEvent<{ user: Readonly<Record<string, unknown>> }>) => void;
}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'auth-provider': AuthProviderJsx;
      'auth-gate': AuthGateJsx;
      'auth-login-form': AuthLoginFormJsx;
    }
  }
}
