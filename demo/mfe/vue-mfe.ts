/**
 * The Vue micro-frontend (built to dist/vue.js, with its own copy of auth-shell): Vue 3 with render
 * functions, no SFC compiler. It imports auth-shell to register the elements and reads the session
 * with auth-shell/vue's `useAuth` composable: read-only refs that follow the page's one session,
 * whichever panel logs in or out.
 */
import { createApp, defineComponent, h, ref, shallowRef, watch } from 'vue';
import '../../src/index.js';
import '../../src/login-form.js';
import { useAuth } from '../../src/vue.js';

const API = '/api';

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

const NewsPanel = defineComponent({
  name: 'NewsPanel',
  setup() {
    const { snapshot, user, authFetch, logout: endSession } = useAuth(API);
    const news = shallowRef<News | null>(null);
    const status = ref('');
    const requests = ref(0);
    /** Whose news are shown or loading: reload when another user signs in. */
    let loadedFor: string | null = null;

    async function load() {
      const who = loadedFor;
      news.value = null;
      status.value = `Loading ${API}/mfe/news…`;
      requests.value++;
      try {
        const res = await authFetch(`${API}/mfe/news`);
        if (who !== loadedFor) return; // signed out or another user meanwhile
        if (!res.ok) {
          status.value = `GET ${API}/mfe/news answered ${res.status}.`;
          return;
        }
        news.value = (await res.json()) as News;
        status.value = '';
      } catch (error) {
        if (who === loadedFor)
          status.value = `Could not load the news (${error instanceof Error ? error.message : error}).`;
      }
    }

    watch(
      snapshot,
      ({ state, user }) => {
        if (state !== 'authenticated') {
          // Signed out (or not known yet): drop the previous user's data at once.
          loadedFor = null;
          news.value = null;
          status.value = '';
          return;
        }
        const who = String(user?.['sub'] ?? user?.['user_id'] ?? '');
        if (who !== loadedFor) {
          loadedFor = who;
          void load();
        }
      },
      { immediate: true },
    );

    const logout = () =>
      endSession().catch((error: unknown) => console.warn('logout: the server could not be told yet', error));

    return () =>
      h('div', { class: 'vue-news' }, [
        h('auth-gate', null, [
          h('p', { slot: 'pending', class: 'muted', role: 'status' }, 'Restoring session…'),
          h('auth-login-form', { slot: 'login', 'submit-label': 'Sign in (Vue)' }),
          h('div', null, [
            h('p', null, [
              'Signed in as ',
              h('strong', { 'data-testid': 'user' }, String(user.value?.['name'] ?? '')),
              ' ',
              h('span', { class: 'muted' }, '(from useAuth)'),
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
      h('auth-provider', { api: API }, [h(NewsPanel)]),
      h('p', { class: 'muted' }, [
        'Bundle ',
        h('code', null, 'dist/vue.js'),
        `; <auth-provider> registered (version ${definedBy ?? '?'}); the panel reads the session with auth-shell/vue.`,
      ]),
    ];
  },
});

const mount = document.getElementById('mfe-vue');
if (mount) {
  mount.replaceChildren();
  createApp(App).mount(mount);
}
