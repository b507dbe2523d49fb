// auth-shell/vue with the real Vue 3 (full development build: templates compiled in the browser):
// refs that follow the session wherever it changes, stable functions, one flush for every component,
// no subscription left after unmount or scope disposal, and isAuthShellElement for the compiler.
import { expect } from '@open-wc/testing';
import { HttpResponse, http } from 'msw';
import { computed, createApp, defineComponent, effectScope, nextTick, watch, type App } from 'vue';
import { compileTemplate } from 'vue/compiler-sfc';
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router';
import { createSession, getSession, isAuthError, safeReturnTo, type Session } from '../../src/core/index.js';
import type { AuthProvider } from '../../src/index.js';
import { isAuthShellElement, requireAuthGuard, useAuth, type VueAuth } from '../../src/vue.js';
import {
  closeFrames,
  countListeners,
  disposeSessions,
  forgetPageSessions,
  insideGate,
  logoutsElsewhereRender,
  providerAttached,
  providerOptionsHold,
  serverLogin,
  startAnonymous,
  startWorker,
  track,
  until,
  worker,
} from './helpers.js';

const apps: { app: App; host: HTMLElement }[] = [];
let warnings: string[] = [];

/** Mounts a component (or a template) in a new app whose compiler leaves auth-shell's tags alone. */
function mount(component: object): HTMLElement {
  const host = document.createElement('div');
  document.body.append(host);
  const app = createApp(component);
  app.config.warnHandler = (message) => void warnings.push(message);
  app.config.compilerOptions.isCustomElement = isAuthShellElement;
  app.mount(host);
  apps.push({ app, host });
  return host;
}

function unmount(host: HTMLElement): void {
  const index = apps.findIndex((entry) => entry.host === host);
  apps.splice(index, 1)[0]!.app.unmount();
  host.remove();
}

const text = (host: Element) => host.textContent?.trim() ?? '';

/** Renders `state user` from useAuth's refs and hands out what useAuth returned. */
const Status = (api?: string | Session, onSetup?: (auth: VueAuth) => void) =>
  defineComponent({
    template: `<p>{{ state }} {{ user?.name ?? '' }}</p>`,
    setup() {
      const auth = useAuth(api);
      onSetup?.(auth);
      return auth;
    },
  });

before(startWorker);

beforeEach(() => {
  warnings = [];
});

afterEach(() => {
  for (const { app, host } of apps.splice(0)) {
    app.unmount();
    host.remove();
  }
  closeFrames();
  worker.resetHandlers();
  disposeSessions();
  expect(warnings, 'Vue warnings').to.deep.equal([]);
});

describe('auth-shell/vue useAuth', () => {
  it('renders restoring until the restore decides, then the user the refresh cookie belongs to', async () => {
    await serverLogin('bob');
    const session = createSession({ api: '/api', tabSync: false });
    const host = mount(Status(session));
    expect(text(host)).to.equal('restoring');
    await session.restore();
    await nextTick();
    expect(text(host)).to.equal('authenticated Bob');
    session.dispose();
  });

  it('state, user and snapshot follow a login and a logout made with its functions; authFetch sends the bearer', async () => {
    await startAnonymous();
    let auth!: VueAuth;
    const host = mount(Status(undefined, (a) => (auth = a)));
    expect(text(host)).to.equal('anonymous');
    await auth.login('alice', 'alice');
    await nextTick();
    expect(text(host)).to.equal('authenticated Alice');
    expect(auth.snapshot.value).to.include({ state: 'authenticated' });
    expect((await auth.authFetch('/api/me')).status).to.equal(200);
    await auth.logout();
    await nextTick();
    expect(text(host)).to.equal('anonymous');
    expect(auth.user.value).to.equal(null);
  });

  it('a logout elsewhere reaches the component: another provider, another bundle, another tab', async () => {
    const session = await startAnonymous();
    const host = mount(Status());
    await logoutsElsewhereRender(session, () => text(host));
  });

  it('every component gets the same functions, which keep their identity; the refs are read-only', async () => {
    const session = await startAnonymous();
    const seen: VueAuth[] = [];
    mount(
      defineComponent({
        components: { A: Status(undefined, (a) => seen.push(a)), B: Status(session, (a) => seen.push(a)) },
        template: '<A /><B />',
      }),
    );
    await seen[0]!.login('alice', 'alice');
    await seen[1]!.logout();
    for (const name of ['login', 'logout', 'authFetch', 'ready'] as const) {
      expect(seen[0]![name], name).to.equal(session[name]);
      expect(seen[1]![name], name).to.equal(session[name]);
    }
    expect(seen[0]!.openSocket).to.equal(seen[1]!.openSocket);
    // Vue reports writes to a computed ref on the console (not through the app's warnHandler).
    const consoleWarn = console.warn;
    const logged: string[] = [];
    console.warn = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    try {
      (seen[0]!.state as { value: string }).value = 'authenticated';
    } finally {
      console.warn = consoleWarn;
    }
    expect(seen[0]!.state.value).to.equal('anonymous');
    expect(logged.join('\n')).to.match(/readonly/);
  });

  it('every component shows the new state in the same flush: no two components ever disagree', async () => {
    const session = await startAnonymous();
    const host = mount(
      defineComponent({ components: { A: Status(), B: Status() }, template: '<div><A /><B /></div>' }),
    );
    const seen: string[][] = [];
    const observer = new MutationObserver(() => seen.push([...host.querySelectorAll('p')].map(text)));
    observer.observe(host, { subtree: true, characterData: true, childList: true });
    await session.login('alice', 'alice');
    await session.logout();
    await session.login('bob', 'bob');
    await nextTick();
    observer.disconnect();
    expect(seen.map((texts) => texts[0])).to.deep.equal(['authenticated Alice', 'anonymous', 'authenticated Bob']);
    expect(seen.filter(([a, b]) => a !== b)).to.deep.equal([]);
  });

  it('unmounting the component, or stopping the effect scope, removes the subscription', async () => {
    await serverLogin('alice');
    const session = createSession({ api: '/api', tabSync: false });
    const listeners = countListeners(session);
    const host = mount(defineComponent({ components: { S: Status(session) }, template: '<S /><S />' }));
    expect(listeners.count).to.equal(2);
    unmount(host);
    expect(listeners.count).to.equal(0);

    const scope = effectScope();
    const states: string[] = [];
    scope.run(() => {
      const { state } = useAuth(session);
      watch(state, (now) => states.push(now), { flush: 'sync' });
    });
    expect(listeners.count).to.equal(1);
    await session.restore();
    expect(states).to.deep.equal(['authenticated']);
    scope.stop();
    expect(listeners.count).to.equal(0);
    await session.logout();
    expect(states, 'no change seen after stop()').to.deep.equal(['authenticated']);
    session.dispose();
  });
});

describe('auth-shell/vue isAuthShellElement', () => {
  it("leaves auth-shell's tags to the browser in Vue templates: real elements, no unresolved components", async () => {
    await import('../../src/index.js');
    await startAnonymous();
    const template = `<auth-provider api="/api"><auth-gate><p slot="login">Sign in</p><p>Welcome</p></auth-gate></auth-provider>`;
    const host = mount({ template });
    const provider = host.querySelector('auth-provider') as AuthProvider;
    expect(provider).to.be.instanceOf(customElements.get('auth-provider')!);
    await provider.ready;
    expect(provider.state).to.equal('anonymous');
    expect(warnings).to.deep.equal([]);
    expect(['auth-provider', 'auth-gate', 'auth-login-form'].map(isAuthShellElement)).to.deep.equal([true, true, true]);
    expect(['auth-other', 'div', 'my-auth-gate'].map(isAuthShellElement)).to.deep.equal([false, false, false]);
  });

  it('a compile without the browser (a build tool) resolves them as components without it, and not with it', () => {
    // In the browser Vue's runtime compiler already treats defined custom elements as such; a build
    // tool (vite, vue-loader) compiles where no element is defined, and needs the helper.
    const template =
      '<auth-provider api="/api"><auth-gate><auth-login-form slot="login" /></auth-gate></auth-provider>';
    const compile = (compilerOptions = {}) =>
      compileTemplate({ source: template, filename: 'Account.vue', id: 'account', compilerOptions }).code;
    const resolved = (code: string) => code.match(/_resolveComponent\("auth-[a-z-]+"\)/g) ?? [];
    expect(resolved(compile())).to.have.length(3);
    const code = compile({ isCustomElement: isAuthShellElement });
    expect(resolved(code)).to.deep.equal([]);
    expect(code).to.include('"auth-provider"');
  });
});

describe('auth-shell/vue inside the elements', () => {
  it("useAuth inside <auth-gate> runs before the provider attaches, and the session still has the provider's options", async () => {
    await import('../../src/index.js');
    await startAnonymous();
    forgetPageSessions('/api');
    let auth: VueAuth | undefined;
    const attachedAtSetup: boolean[] = [];
    const Account = defineComponent({
      template: '<p>{{ state }}</p>',
      setup() {
        attachedAtSetup.push(providerAttached());
        auth = useAuth('/api');
        return auth;
      },
    });
    const errors: Event[] = [];
    mount(
      defineComponent({
        components: { Account },
        template: `<auth-provider api="/api" :csrf-header="csrfHeader" :allowed-origins="allowedOrigins" @auth-error="errors.push($event)">
          <auth-gate><p slot="login">Sign in</p><Account /></auth-gate>
        </auth-provider>`,
        setup: () => ({ ...insideGate('vue'), errors }),
      }),
    );
    const handle = () =>
      auth && { state: auth.state.value, login: auth.login, authFetch: auth.authFetch, logout: auth.logout };
    await providerOptionsHold('vue', handle, errors);
    expect(attachedAtSetup, 'a provider had attached when the composable ran').to.deep.equal([false]);
  });
});

describe('auth-shell/vue useAuth: isLoading, isAuthenticated, error, hasRole', () => {
  it('isLoading while restoring, isAuthenticated once signed in; hasRole is reactive in templates', async () => {
    await serverLogin('admin');
    const session = track(createSession({ api: '/api', tabSync: false }));
    let auth!: VueAuth;
    const host = mount(
      defineComponent({
        template: `<p>{{ isLoading }} {{ isAuthenticated }} {{ hasRole('admin') }} {{ admin }}</p>`,
        setup() {
          auth = useAuth(session);
          return { ...auth, admin: computed(() => auth.hasRole('admin editor')) };
        },
      }),
    );
    expect(text(host)).to.equal('true false false false');
    await session.restore();
    await nextTick();
    expect(text(host)).to.equal('false true true true');
    const hasRole = auth.hasRole;
    await session.logout();
    await session.login('alice', 'alice');
    await nextTick();
    expect(text(host)).to.equal('false true false false');
    expect(auth.hasRole(['user']), 'the new user').to.be.true;
    expect(auth.hasRole, 'the same function').to.equal(hasRole);
    await session.logout();
  });

  it('error: the failure nobody awaited (a restore that could not reach the server), cleared by the next success', async () => {
    await serverLogin('alice');
    worker.use(http.post('/api/refresh', () => HttpResponse.error(), { once: true }));
    const session = track(createSession({ api: '/api', tabSync: false, refreshRetries: 0 }));
    let auth!: VueAuth;
    const host = mount(
      defineComponent({
        template: `<p>{{ error?.code ?? 'none' }}</p>`,
        setup: () => (auth = useAuth(session)),
      }),
    );
    await session.restore();
    await nextTick();
    expect(text(host)).to.equal('network');
    expect(isAuthError(auth.error.value, 'network')).to.be.true;
    expect(auth.isLoading.value).to.be.false;
    await session.login('alice', 'wrong').catch(() => {});
    await nextTick();
    expect(text(host), "an awaited failure is the caller's").to.equal('network');
    await session.login('alice', 'alice');
    await nextTick();
    expect(text(host), 'cleared by the login').to.equal('none');
    await session.logout();
  });
});

describe('auth-shell/vue requireAuthGuard (Vue Router)', () => {
  /** An app with a guarded `/orders` (and a guarded parent's child), a `/login` page that goes back after signing in, and `/`. */
  function app(): { router: Router; host: HTMLElement; at: () => string; signIn: () => Promise<void> } {
    let signIn!: () => Promise<void>;
    const Login = defineComponent({
      template: '<p>login</p>',
      setup() {
        const { login } = useAuth();
        signIn = async () => {
          await login('alice', 'alice');
          await router.replace(safeReturnTo(router.currentRoute.value.query['returnTo']));
        };
      },
    });
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', component: { template: '<p>home</p>' } },
        { path: '/orders', component: { template: '<p>orders</p>' }, meta: { requiresAuth: true } },
        {
          path: '/admin',
          component: { template: '<RouterView />' },
          meta: { requiresAuth: true },
          children: [{ path: 'users', component: { template: '<p>users</p>' } }],
        },
        { path: '/login', component: Login },
      ],
    });
    router.beforeEach(requireAuthGuard('/api'));
    const host = document.createElement('div');
    document.body.append(host);
    const vue = createApp({ components: { RouterView }, template: '<RouterView />' });
    vue.config.warnHandler = (message) => void warnings.push(message);
    vue.use(router);
    vue.mount(host);
    apps.push({ app: vue, host });
    return { router, host, at: () => router.currentRoute.value.fullPath, signIn: () => signIn() };
  }

  it('sends an anonymous visitor to the login route with the way back, and back there after the login', async () => {
    await startAnonymous();
    const { router, host, at, signIn } = app();
    await router.push('/');
    await router.push('/orders?page=2#top');
    // Vue Router writes the query its own way (`/login?returnTo=/orders?page=2%23top`): compare what it parsed.
    expect(router.currentRoute.value.path).to.equal('/login');
    expect(router.currentRoute.value.query).to.deep.equal({ returnTo: '/orders?page=2#top' });
    await nextTick();
    expect(text(host)).to.equal('login');
    await signIn();
    expect(at()).to.equal('/orders?page=2#top');
    await nextTick();
    expect(text(host)).to.equal('orders');
    await router.push('/admin/users');
    expect(at(), 'signed in: a child of a guarded route').to.equal('/admin/users');
    await getSession('/api').logout();
    await router.push('/');
    await router.push('/admin/users');
    expect(router.currentRoute.value.query, "a guarded parent's meta guards its children").to.deep.equal({
      returnTo: '/admin/users',
    });
    await router.push('/');
    expect(at(), 'unguarded routes need no session').to.equal('/');
  });

  it('refuses a way back to another site: the login page goes home instead', async () => {
    for (const foreign of ['https://evil.example/steal', '//evil.example/steal', 'javascript:alert(1)']) {
      await startAnonymous();
      const { router, host, at, signIn } = app();
      await router.push(`/login?returnTo=${encodeURIComponent(foreign)}`);
      await until(() => text(host) === 'login', 'the login page');
      await signIn();
      expect(at(), foreign).to.equal('/');
      await getSession('/api').logout();
    }
  });
});
