import type { AuthError } from './errors.js';
import type { User } from './token-store.js';

/** Where a session is: restoring on load, then authenticated or anonymous. */
export type SessionState = 'restoring' | 'authenticated' | 'anonymous';

/** What holders of a session see. A new frozen object on every change, never mutated. */
export interface SessionSnapshot {
  readonly state: SessionState;
  readonly user: User | null;
}

/** Why a refresh started. */
export type RefreshReason = 'restore' | 'expiry' | 'unauthorized' | 'resume' | 'manual';

/**
 * One step of the session's work, for timelines and diagnostics. It never holds a token; `url` is
 * the request's origin and path without its query.
 */
export interface Activity {
  readonly kind: 'restore' | 'login' | 'refresh' | 'retry' | 'logout';
  readonly phase: 'start' | 'success' | 'failure' | 'backoff';
  readonly reason?: RefreshReason;
  /** Attempt number of a refresh that is backing off (1 = the first retry). */
  readonly attempt?: number;
  /** Delay in ms before the next attempt, for `backoff`. */
  readonly delay?: number;
  readonly url?: string;
  readonly error?: AuthError;
  /**
   * `tab`: learned from another tab (a token it got, a logout it did), no request made here;
   * `hint`: a restore the session hint answered (no session-id cookie: no session), no request.
   */
  readonly source?: 'tab' | 'hint';
}

/** Detail of the `error` event: a failure nobody awaited (background refresh, failed restore). */
export interface SessionErrorDetail {
  readonly error: AuthError;
}

/** Events a {@link Session} dispatches. */
export interface SessionEventMap {
  /** The state or the user changed. */
  change: CustomEvent<SessionSnapshot>;
  /** A step of the flow started, succeeded, failed or is backing off. */
  activity: CustomEvent<Activity>;
  /** Background work failed; the state is kept unless the server ended the session. */
  error: CustomEvent<SessionErrorDetail>;
  /** {@link Session.dispose} was called. */
  dispose: Event;
}

/** `EventTarget` with listeners typed by the event map `M`, as `HTMLElementEventMap` types the DOM's. */
export interface TypedEventTarget<M> extends EventTarget {
  addEventListener<K extends keyof M & string>(
    type: K,
    listener: (event: M[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof M & string>(
    type: K,
    listener: (event: M[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
