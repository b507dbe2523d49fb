import type { SessionEventMap } from './events.js';

/** What `logSteps` listens to: a session (typed by its events, so this module needs no session). */
interface Steps {
  addEventListener<K extends keyof SessionEventMap>(type: K, listener: (event: SessionEventMap[K]) => void): void;
}

const logged = new WeakSet<Steps>();

/**
 * The `debug` option: logs every step of `session` — its activities, state changes and errors — to
 * `console.debug`, prefixed with its `api`, like the `debug` switches of other auth libraries.
 * Nothing logged holds a token (no event of the session does). Once per session.
 */
export function logSteps(session: Steps, api: string): void {
  if (logged.has(session)) return;
  logged.add(session);
  const prefix = `auth-shell ${api}:`;
  session.addEventListener('activity', ({ detail }) => console.debug(prefix, `${detail.kind} ${detail.phase}`, detail));
  session.addEventListener('change', ({ detail }) => console.debug(prefix, `state ${detail.state}`, detail.user));
  session.addEventListener('error', ({ detail }) =>
    console.debug(prefix, `error ${detail.error.code}: ${detail.error.message}`),
  );
}
