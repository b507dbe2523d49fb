// Shared by the framework adapters' tests (react-, vue-, svelte-adapter.test.ts): the ways a session
// changes "elsewhere", and a count of who listens to a session.
import { getSession, type Session } from '../../src/core/index.js';
import type { AuthProvider } from '../../src/index.js';
import { openFrame, waitFor } from './helpers-frames.js';
import { serverLogout } from './helpers.js';

/** Starts the test anonymous: no refresh cookie on the server, nothing in the page's `/api` session. */
export async function startAnonymous(): Promise<Session> {
  await serverLogout();
  const session = getSession('/api');
  await session.ready;
  if (session.state !== 'anonymous') await session.logout().catch(() => {});
  return session;
}

/**
 * Counts the `change` listeners `session` holds: each subscription is one. Observed on the
 * instance's own add/removeEventListener, which `subscribe` and its unsubscribe go through.
 */
export function countListeners(session: Session): { readonly count: number } {
  const listeners = new Set<unknown>();
  const add = session.addEventListener.bind(session);
  const remove = session.removeEventListener.bind(session);
  Object.assign(session, {
    addEventListener(type: string, listener: EventListener, options?: AddEventListenerOptions) {
      if (type === 'change') listeners.add(listener);
      add(type, listener, options);
    },
    removeEventListener(type: string, listener: EventListener, options?: EventListenerOptions) {
      if (type === 'change') listeners.delete(listener);
      remove(type, listener, options);
    },
  });
  return {
    get count() {
      return listeners.size;
    },
  };
}

/**
 * Logs the page's `/api` session out through another `<auth-provider api="/api">` of the page —
 * not an ancestor of anything the test renders.
 */
export async function logoutThroughAnotherProvider(): Promise<void> {
  await import('../../src/index.js');
  const provider = document.createElement('auth-provider') as AuthProvider;
  provider.api = '/api';
  document.body.append(provider);
  try {
    await provider.ready;
    await provider.logout();
  } finally {
    provider.remove();
  }
}

/**
 * Logs out through a separately bundled copy of auth-shell on this page (as another
 * micro-frontend's bundle would): its own `getSession`, its own modules.
 */
export async function logoutThroughAnotherBundle(): Promise<void> {
  const other = (await import(/* @vite-ignore */ '/__bundles__/a.js' as string)) as { getSession: typeof getSession };
  if (other.getSession === getSession) throw new Error('the bundle is not another copy');
  await other.getSession('/api').logout();
}

/**
 * Logs out in another tab (a same-origin iframe with its own copy of auth-shell): it restores from
 * this tab, then logs out, which every tab hears over the BroadcastChannel.
 */
export async function logoutInAnotherTab(): Promise<void> {
  const tab = await openFrame<{ session?: Session }>(`
    <script type="module">
      import { getSession } from '/__bundles__/a.js';
      window.session = getSession('/api');
    </script>`);
  await waitFor(() => tab.session?.state === 'authenticated', 'the other tab authenticated', 5000);
  await tab.session!.logout();
}
