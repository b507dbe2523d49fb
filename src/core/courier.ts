import { NetworkError, type AuthError } from './errors.js';
import type { Activity } from './events.js';
import { logoutPending, markLogout } from './pending-logout.js';
import { readSid } from './sid.js';
import type { TabSync } from './tab-sync.js';

/** What the courier needs from its session. */
export interface CourierHooks {
  /** The session's generation now (see machine.ts). */
  gen(): number;
  /** Sends the logout request. */
  send(): Promise<unknown>;
  /** The server heard the logout started under `gen` (or refused it for good: asking again will not help). */
  heard(gen: number): void;
  /** The logout of `sid` started under `gen` could not reach the server. */
  lost(gen: number, sid: string | null): void;
  step(phase: Activity['phase'], extra?: { error: AuthError }): void;
}

/**
 * Delivers logouts to the server, and keeps the ones it could not deliver owed.
 *
 * - One request at a time: a second logout joins the one in flight, and a login waits for it —
 *   its answer expires the refresh cookie and must not arrive after a newer login's and wipe it.
 *   Across tabs the same holds: the request is announced on the tab channel, and a login in any
 *   tab waits for its answer (see TabSync.locked). When another tab's refresh or login is in
 *   flight, the logout waits for the lock instead of racing it.
 * - Sent at once when nothing is in flight — in the task of the call, with `keepalive`, so a
 *   navigation or a closing tab right after it does not cut it off.
 * - Only the session it ends: when the session-id cookie already names another session (a login
 *   replaced it in this browser), nothing is sent — the request would revoke the new session.
 * - Owed when it could not reach the server: sent again on wake-up, and — through a non-secret
 *   mark in `localStorage` — by the next page of the origin, before it restores or logs in.
 */
export class Courier {
  readonly #key: string;
  readonly #cookie: string;
  readonly #timeout: number;
  readonly #tabs: TabSync | null;
  readonly #on: CourierHooks;
  #inflight: Promise<void> | null = null;
  /** The session the owed logout ends (`null`: unknown). */
  #sid: string | null = null;

  /**
   * @param key the api's canonical key (the mark's name).
   * @param cookie the session-id cookie's name (`''`: none).
   */
  constructor(key: string, cookie: string, timeout: number, tabs: TabSync | null, on: CourierHooks) {
    this.#key = key;
    this.#cookie = cookie;
    this.#timeout = timeout;
    this.#tabs = tabs;
    this.#on = on;
  }

  /**
   * Sends the logout of session `sid` (or the owed one when no `sid` is given), or joins the one in
   * flight. Rejects when the server could not be told.
   */
  send(sid?: string | null): Promise<void> {
    if (sid !== undefined) this.#sid = sid;
    return (this.#inflight ??= this.#request().finally(() => (this.#inflight = null)));
  }

  /** Remembers an owed logout of `sid` for the next page (`null`: unknown session), or forgets it (`false`). */
  mark(sid: string | null | false): void {
    markLogout(this.#key, sid);
  }

  /** Sends another logout once the one in flight has settled: a login it raced set a new cookie. */
  again(): void {
    void (this.#inflight ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.send(null))
      .catch(() => {});
  }

  /**
   * Whether a logout is owed to the server for this api by an earlier page: one whose session is
   * still this browser's (or cannot be told apart). A mark about a replaced session is dropped.
   */
  owes(): boolean {
    const mark = logoutPending(this.#key);
    if (mark === false) return false;
    const cookie = readSid(this.#cookie);
    if (mark !== null && cookie !== '' && cookie !== mark) {
      markLogout(this.#key, false);
      return false;
    }
    this.#sid = mark;
    return true;
  }

  /** Sends the owed logout (before a restore or a login); only a network failure rejects. */
  settle(): Promise<void> {
    return this.send().catch((error: unknown) => {
      if (error instanceof NetworkError) throw error;
    });
  }

  /** Whether `sid`'s session was replaced in this browser: the session-id cookie names another. */
  #replaced(sid: string | null): boolean {
    const cookie = readSid(this.#cookie);
    return sid !== null && cookie !== '' && cookie !== sid;
  }

  async #request(): Promise<void> {
    const gen = this.#on.gen();
    const sid = this.#sid;
    const tabs = this.#tabs;
    const send = async () => void (this.#replaced(sid) || (await this.#on.send()));
    this.#on.step('start');
    try {
      if (tabs?.busy) {
        // Another tab's refresh or login is in flight: wait for the lock, owed meanwhile (the page
        // may go away), and check again which session the cookie names once it is free.
        markLogout(this.#key, sid);
        await tabs.locked(send);
      } else {
        const done = tabs?.announce(this.#timeout);
        await send().finally(done);
      }
    } catch (error) {
      // Not heard by the server (offline, 5xx): owed. Any other answer (a 403, a 405) will not
      // change by asking again.
      if (error instanceof NetworkError) this.#on.lost(gen, sid);
      else this.#on.heard(gen);
      this.#on.step('failure', { error: error as AuthError });
      throw error;
    }
    this.#on.heard(gen);
    this.#on.step('success');
  }
}
