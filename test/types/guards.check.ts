// Compile-time checks of the route guards against the routers' own types (npm test type-checks this
// file): React Router takes requireAuthLoader as a loader, Vue Router requireAuthGuard as a
// beforeEach guard, with neither router imported by auth-shell.
import type { LoaderFunction } from 'react-router';
import { createMemoryHistory, createRouter } from 'vue-router';
import { readReturnTo, requireAuth, safeReturnTo, type Session } from '../../src/core/index.js';
import { requireAuthLoader } from '../../src/react.js';
import { requireAuthGuard } from '../../src/vue.js';

export const loader: LoaderFunction = requireAuthLoader('/api', { loginPath: '/signin' });
// @ts-expect-error the loader's only option is the login route; returnTo comes from the request
requireAuthLoader('/api', { returnTo: '/x' });

const router = createRouter({ history: createMemoryHistory(), routes: [] });
router.beforeEach(requireAuthGuard());
router.beforeEach(requireAuthGuard('/api', { loginPath: '/signin' }));

export async function generic(session: Session): Promise<string> {
  const login: string | null = await requireAuth(session, { returnTo: new URL(location.href), loginPath: '/login' });
  // @ts-expect-error a way back is a path or a URL
  await requireAuth('/api', { returnTo: 42 });
  return login ?? safeReturnTo(router.currentRoute.value.query['returnTo']) + readReturnTo();
}
