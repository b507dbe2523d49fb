import { ContextConsumer } from '@lit/context';
import { TAGS } from '../tags.js';
import { DEV } from '../core/dev.js';
import { ReactiveElement, css, type PropertyDeclarations } from '@lit/reactive-element';
import { authContext } from '../context/auth-context.js';
import { hasRole } from '../core/roles.js';
import { VERSION } from '../define.js';

/** Which of the gate's slots is shown. */
export type GateView = 'pending' | 'login' | 'protected' | 'forbidden';

/**
 * Shows exactly one of its slots according to the nearest provider's session: `pending` while
 * restoring, `login` when anonymous, the default slot when authenticated (or `forbidden` when a
 * `require-role` is set and the user lacks it). Nothing of login or protected content is shown before
 * the restore settles.
 *
 * Protected content given as `<template>` children is stamped only when the user is let in, and
 * removed again when that ends, so no data of one user survives into the next session.
 *
 * Before the element is defined a browser shows all its children; hide them with
 * `auth-gate:not(:defined) > :not([slot="pending"]) { display: none !important }` in the page's CSS.
 *
 * @summary Shows pending, login or protected content by session state.
 * @slot pending - Shown while the session is restoring.
 * @slot login - Shown when anonymous.
 * @slot - Protected content, shown when authenticated (and the role matches). `<template>` children are stamped on entry and removed on exit.
 * @slot forbidden - Shown when authenticated without the required `role`.
 */
export class AuthGate extends ReactiveElement {
  static readonly version = VERSION;

  static override properties = {
    requireRole: { attribute: 'require-role' },
  } as const satisfies PropertyDeclarations;

  static override styles = css`
    :host {
      display: contents;
    }
  `;

  /**
   * Required role(s), space-separated: the user passes when the token's `role` claim (or one of its
   * `roles`) equals any of them. A client-side view choice only: the server enforces access.
   * (Not `role`: that attribute is the element's ARIA role.)
   */
  declare requireRole: string | undefined;

  readonly #auth = new ContextConsumer(this, { context: authContext, subscribe: true });
  /** The one slot in the shadow root; its name picks what is shown. Pending until the first update. */
  readonly #slot: HTMLSlotElement = Object.assign(document.createElement('slot'), { name: 'pending' });
  /** Nodes stamped from each template, to remove them again. */
  readonly #stamped = new Map<HTMLTemplateElement, Node[]>();

  /** The slot currently shown. */
  get view(): GateView {
    const auth = this.#auth.value;
    if (!auth || auth.state === 'restoring') return 'pending';
    if (auth.state === 'anonymous') return 'login';
    return hasRole(auth.user, this.requireRole) ? 'protected' : 'forbidden';
  }

  // No template library needed: one slot whose name follows the session.
  protected override createRenderRoot() {
    const root = super.createRenderRoot();
    root.append(this.#slot);
    return root;
  }

  protected override update(changed: Map<PropertyKey, unknown>): void {
    super.update(changed);
    const view = this.view;
    if (view === 'protected') {
      this.#slot.removeAttribute('name');
      this.#stamp();
    } else {
      this.#slot.name = view;
      this.#unstamp();
    }
  }

  #stamp(): void {
    for (const template of this.querySelectorAll<HTMLTemplateElement>(':scope > template:not([slot])')) {
      if (this.#stamped.has(template)) continue;
      if (!template.content.hasChildNodes() && template.hasChildNodes() && !warnedTemplate) {
        // React and Vue put a <template>'s children on the element, not in its content.
        warnedTemplate = true;
        console.warn(
          `<auth-gate>: a <template> child has children but no content${DEV ? ' (built by a framework?); render protected content by state instead.' : ''}`,
        );
      }
      const content = document.importNode(template.content, true);
      this.#stamped.set(template, [...content.childNodes]);
      template.after(content);
    }
  }

  #unstamp(): void {
    for (const nodes of this.#stamped.values()) for (const node of nodes) node.parentNode?.removeChild(node);
    this.#stamped.clear();
  }
}

let warnedTemplate = false;

declare global {
  interface HTMLElementTagNameMap {
    [TAGS.gate]: AuthGate;
  }
}
