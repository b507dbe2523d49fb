import type { Session } from './session.js';

const logged = new WeakSet<Session>();

/**
 * The `debug` option: logs every step of `session` — its activities, state changes and errors — to
 * `console.debug`, like the `debug` switches of other auth libraries. Nothing logged holds a token
 * (no event of the session does). Once per session.
 */
export function logSteps(session: Session): void {
  if (logged.has(session)) return;
  logged.add(session);
  const prefix = `auth-shell ${session.options.api.href}:`;
  session.addEventListener('activity', ({ detail }) => console.debug(prefix, `${detail.kind} ${detail.phase}`, detail));
  session.addEventListener('change', ({ detail }) => console.debug(prefix, `state ${detail.state}`, detail.user));
  session.addEventListener('error', ({ detail }) =>
    console.debug(prefix, `error ${detail.error.code}: ${detail.error.message}`),
  );
}
