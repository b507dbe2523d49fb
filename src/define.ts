/** auth-shell's version, compared when two copies on one page define the same element. */
export const VERSION = '0.1.0';

const warned = new Set<string>();

/**
 * Defines `tag` unless it is defined already: the first definition wins, so two bundles that both
 * import auth-shell do not throw. A definition from another version logs one warning.
 */
export function define(tag: string, element: CustomElementConstructor & { version?: string }): void {
  const existing = customElements.get(tag) as (CustomElementConstructor & { version?: string }) | undefined;
  if (!existing) {
    customElements.define(tag, element);
    return;
  }
  if (existing !== element && existing.version !== element.version && !warned.has(tag)) {
    warned.add(tag);
    console.warn(`auth-shell: <${tag}> is already defined by version ${existing.version ?? 'unknown'}; this copy (${element.version}) uses it.`);
  }
}
