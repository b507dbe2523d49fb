/**
 * auth-shell/react — JSX typings for React 19: `<auth-provider>`, `<auth-gate>` and
 * `<auth-login-form>` in `React.JSX.IntrinsicElements`, with their attributes and events. Types only;
 * importing it at run time does nothing.
 *
 * The typings are derived from the elements themselves — each element's `static properties` (the
 * attribute names) and its event map — so they cannot drift from what the elements accept.
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
import type { AuthGate } from './elements/auth-gate.js';
import type { AuthLoginForm, AuthLoginFormEventMap } from './elements/auth-login-form.js';
import type { AuthProvider, AuthProviderEventMap } from './elements/auth-provider.js';

type Element<T> = DetailedHTMLProps<HTMLAttributes<T>, T>;

/** The attribute of property `K` declared as `D`: its `attribute`, else the lowercased name (ReactiveElement's rule). */
type AttributeOf<K extends string, D> = D extends { attribute: false }
  ? never
  : D extends { attribute: infer A extends string }
    ? A
    : Lowercase<K>;

/** An element's attributes in JSX, from its class's `static properties` and its instance types. */
export type AttributesOf<C extends { properties: object }, I> = {
  [K in keyof C['properties'] & keyof I & string as AttributeOf<K, C['properties'][K]>]?: I[K] | string;
};

/** An element's events as React 19 `on<event-name>` props. */
export type EventPropsOf<M> = { [K in keyof M & string as `on${K}`]?: (event: M[K]) => void };

/** Attributes and events of `<auth-provider>` in JSX. */
export interface AuthProviderJsx
  extends Element<AuthProvider>, AttributesOf<typeof AuthProvider, AuthProvider>, EventPropsOf<AuthProviderEventMap> {}

/** Attributes of `<auth-gate>` in JSX. */
export interface AuthGateJsx extends Element<AuthGate>, AttributesOf<typeof AuthGate, AuthGate> {}

/** Attributes and events of `<auth-login-form>` in JSX. */
export interface AuthLoginFormJsx
  extends
    Element<AuthLoginForm>,
    AttributesOf<typeof AuthLoginForm, AuthLoginForm>,
    EventPropsOf<AuthLoginFormEventMap> {}

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- React declares JSX as a namespace; this merges into it
  namespace JSX {
    interface IntrinsicElements {
      'auth-provider': AuthProviderJsx;
      'auth-gate': AuthGateJsx;
      'auth-login-form': AuthLoginFormJsx;
    }
  }
}
