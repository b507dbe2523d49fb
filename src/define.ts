import { DEV } from './core/dev.js';
import { VERSION } from './core/version.js';

export { VERSION };

let warned = false;

/**
 * Defines `tag` unless it is defined already: the first definition wins, so two bundles that both
 * import auth-shell do not throw. Definitions from another version log one warning per copy.
 */
export function define(tag: string, element: CustomElementConstructor & { version?: string }): void {
  const existing = customElements.get(tag) as (CustomElementConstructor & { version?: string }) | undefined;
  if (!existing) {
    customElements.define(tag, element);
    return;
  }
  if (existing.version !== element.version && !warned) {
    warned = true;
    console.warn(
      `auth-shell ${element.version}: <${tag}> is already defined by auth-shell ${existing.version ?? '(unknown version)'}` +
        (DEV ? ' on this page; the first definitions are used and the session is shared.' : ''),
    );
  }
}
