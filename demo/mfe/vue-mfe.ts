/**
 * The Vue micro-frontend (built to dist/vue.js, with its own copy of auth-shell): Vue 3 with render
 * functions, no SFC compiler. It imports auth-shell only to register the elements; it reaches the
 * session through the raw context-request event protocol (W3C Web Components Community Group,
 * implemented by @lit/context), without auth-shell's helpers — any framework can do the same.
 */
import { createApp, defineComponent, h, onBeforeUnmount, onMounted, ref, shallowRef, type Ref } from 'vue';
import '../../src/index.js';
import '../../src/login-form.js';
import type { AuthValue } from '../../src/index.js';

interface Item {
  id: string;
  title: string;
  detail: string;
}
interface News {
  name: string;
  user: { user_id: number; name: string; role: string };
  items: Item[];
}

/** The context key: `Symbol.for`, so every bundled copy of auth-shell on the page uses the same one. */
const AUTH_CONTEXT = Symbol.for('auth-shell.context');

type ContextCallback = (value: AuthValue | undefined, unsubscribe?: () => void) => void;

/**
 * Asks the nearest provider above `element` for the session, with the community protocol's
 * `context-request` event, and keeps following it. Returns the unsubscribe function.
 */
function requestAuth(element: Element, onValue: (value: AuthValue | undefined) => void): () => void {
  let unsubscribe: (() => void) | undefined;
  const callback: ContextCallback = (value, stop) => {
    // A provider that takes the subscription over hands a new unsubscribe: drop the old one.
    if (stop && unsubscribe && stop !== unsubscribe) unsubscribe();
    if (stop) unsubscribe = stop;
    onValue(value);
  };
  const event = Object.assign(new Event('context-request', { bubbles: true, composed: true }), {
    context: AUTH_CONTEXT,
    contextTarget: element,
    callback,
    subscribe: true,
  });
  element.dispatchEvent(event);
  return () => unsubscribe?.();
}

/**
 * The session value of the nearest provider above the element in `target`, from mount to unmount.
 * `onChange` runs with every new value (a new frozen object on every change).
 */
function useAuth(target: Ref<Element | null>, onChange: (value: AuthValue | undefined) => void) {
  const auth = shallowRef<AuthValue>();
  let stop = () => {};
  onMounted(() => {
    if (!target.value) return;
    stop = requestAuth(target.value, (value) => {
      auth.value = value;
      onChange(value);
    });
  });
  onBeforeUnmount(() => stop());
  return auth;
}

const NewsPanel = defineComponent({
  name: 'NewsPanel',
  setup() {
    const root = ref<HTMLElement | null>(null);
    const news = shallowRef<News | null>(null);
    const status = ref('');
    const requests = ref(0);
    /** Whose news are shown or loading: reload when another user signs in. */
    let loadedFor: string | null = null;

    async function load(auth: AuthValue) {
      const who = loadedFor;
      news.value = null;
      status.value = 'Loading /api/mfe/news…';
      requests.value++;
      try {
        const res = await auth.authFetch('/api/mfe/news');
        if (who !== loadedFor) return; // signed out or another user meanwhile
        if (!res.ok) {
          status.value = `GET /api/mfe/news answered ${res.status}.`;
          return;
        }
        news.value = (await res.json()) as News;
        status.value = '';
      } catch (error) {
        if (who === loadedFor)
          status.value = `Could not load the news (${error instanceof Error ? error.message : error}).`;
      }
    }

    const auth = useAuth(root, (value) => {
      if (value?.state !== 'authenticated') {
        // Signed out (or not known yet): drop the previous user's data at once.
        loadedFor = null;
        news.value = null;
        status.value = '';
        return;
      }
      const who = String(value.user?.['sub'] ?? value.user?.['user_id'] ?? '');
      if (who !== loadedFor) {
        loadedFor = who;
        void load(value);
      }
    });

    const logout = () =>
      auth.value?.logout().catch((error: unknown) => console.warn('logout: the server could not be told yet', error));

    return () =>
      h('div', { ref: root, class: 'vue-news' }, [
        h('auth-gate', null, [
          h('p', { slot: 'pending', class: 'muted', role: 'status' }, 'Restoring session…'),
          h('auth-login-form', { slot: 'login', 'submit-label': 'Sign in (Vue)' }),
          h('div', null, [
            h('p', null, [
              'Signed in as ',
              h('strong', { 'data-testid': 'user' }, String(auth.value?.user?.['name'] ?? '')),
              ' ',
              h('span', { class: 'muted' }, '(from a raw context-request)'),
            ]),
            news.value
              ? h(
                  'ul',
                  { class: 'items', 'data-testid': 'items' },
                  news.value.items.map((item) =>
                    h('li', { key: item.id }, [h('strong', null, item.title), ' ', h('span', null, item.detail)]),
                  ),
                )
              : null,
            status.value ? h('p', { class: 'muted', role: 'status' }, status.value) : null,
            h('div', { class: 'actions' }, [h('button', { type: 'button', onClick: logout }, 'Log out')]),
          ]),
        ]),
        h('p', { class: 'muted', 'data-testid': 'requests' }, [
          `Requests made by this panel: ${requests.value} (`,
          h('code', null, 'GET /api/mfe/news'),
          ').',
        ]),
      ]);
  },
});

/** The micro-frontend's root: its own provider around the panel. */
const App = defineComponent({
  name: 'VueNewsApp',
  setup() {
    // Which copy of <auth-provider> is registered: the first bundle on the page wins the tag.
    const definedBy = (customElements.get('auth-provider') as { version?: string } | undefined)?.version;
    return () => [
      h('auth-provider', { api: '/api' }, [h(NewsPanel)]),
      h('p', { class: 'muted' }, [
        'Bundle ',
        h('code', null, 'dist/vue.js'),
        `; <auth-provider> registered (version ${definedBy ?? '?'}); this bundle talks to it only through events.`,
      ]),
    ];
  },
});

const mount = document.getElementById('mfe-vue');
if (mount) {
  mount.replaceChildren();
  createApp(App).mount(mount);
}
