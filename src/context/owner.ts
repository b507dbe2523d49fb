import type { ReactiveControllerHost } from '@lit/reactive-element';

/** Something that stops when its owner element leaves the DOM. */
export interface OwnerWatch {
  /** Aborted when the owner is disconnected. */
  readonly signal: AbortSignal;
  /** Stops watching (the socket closed first). */
  release(): void;
}

const watched = new Map<AbortController, Element>();
let observer: MutationObserver | undefined;

/**
 * Watches `owner` leaving the DOM. A Lit (ReactiveElement) owner tells us through a controller;
 * any other element is watched by one shared MutationObserver on its document and every shadow
 * root around it, which stops when nothing is watched.
 */
export function watchOwner(owner: Element): OwnerWatch {
  const controller = new AbortController();
  const host = owner as Element & Partial<ReactiveControllerHost>;
  if (host.addController && host.removeController) {
    const hook = { hostDisconnected: () => controller.abort() };
    host.addController(hook);
    return { signal: controller.signal, release: () => host.removeController!(hook) };
  }
  watched.set(controller, owner);
  observer ??= new MutationObserver(check);
  for (let node: Node = owner; ;) {
    const root = node.getRootNode();
    observer.observe(root, { childList: true, subtree: true });
    if (!(root instanceof ShadowRoot)) break;
    node = root.host;
  }
  return { signal: controller.signal, release: () => stop(controller) };
}

function check(): void {
  // Checked after the mutations of a task: an element moved within the DOM stays connected.
  for (const [controller, owner] of watched) {
    if (!owner.isConnected) {
      stop(controller);
      controller.abort();
    }
  }
}

function stop(controller: AbortController): void {
  watched.delete(controller);
  if (watched.size === 0) {
    observer?.disconnect();
    observer = undefined;
  }
}
