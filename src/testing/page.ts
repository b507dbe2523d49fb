import { apiKey } from '../core/options.js';
import { existingSessions } from '../core/registry.js';
import type { Session } from '../core/session.js';
import type { AuthProvider } from '../elements/auth-provider.js';
import { TAGS } from '../tags.js';
import type { AuthServer } from './server.js';
import { claimsOf, type TestUser } from './users.js';

/** Where and how {@link AuthServer.signedIn} mounts its provider. */
export interface SignedInOptions {
  /** The element the provider is appended to. Default `document.body`. */
  container?: ParentNode;
  /** More attributes of the provider, e.g. `{ leeway: '10' }` (`api` is the server's). */
  attributes?: Record<string, string>;
}

/**
 * The page's session for `api` (its canonical key) in auth-shell's page-global registry, without
 * creating one — `getSession` would, and start a restore.
 */
export function pageSession(api: string): Session | undefined {
  return existingSessions().find((session) => apiKey(session.options.api) === api);
}

/** See {@link AuthServer.signedIn}. `mounted` hears of the provider before it is connected. */
export async function mountSignedIn(
  server: AuthServer,
  user: TestUser,
  content: string | Node | readonly Node[] | undefined,
  options: SignedInOptions = {},
  mounted: (provider: AuthProvider) => void,
): Promise<AuthProvider> {
  if (typeof customElements === 'undefined' || !customElements.get(TAGS.provider))
    throw new Error("signedIn: <auth-provider> is not defined; import 'auth-shell' first");
  // A page without a session for the api is a fresh load: a returning user restores from the cookie.
  const fresh = !pageSession(server.api);
  if (fresh) server.seedSession(user);
  const provider = document.createElement(TAGS.provider);
  for (const [name, value] of Object.entries(options.attributes ?? {})) provider.setAttribute(name, value);
  provider.setAttribute('api', String(server.options.api));
  if (typeof content === 'string') provider.innerHTML = content;
  else if (content) provider.append(...(Array.isArray(content) ? content : [content as Node]));
  mounted(provider);
  (options.container ?? document.body).append(provider);
  await provider.ready;
  if (!fresh) await server.signIn(provider, user);
  else if (provider.state !== 'authenticated' || provider.user?.sub !== claimsOf(user).sub) {
    // Scripted faults, or a provider that could not make a session (it logged why): say so here.
    throw new Error(`signedIn: the restore did not sign ${user.login} in (the provider is ${provider.state})`);
  }
  return provider;
}
