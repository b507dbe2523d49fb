import { HttpResponse, delay, type JsonBodyType } from 'msw';

/**
 * A route of the test server: its own endpoints by name, or the path given to
 * {@link AuthServer.protect} for yours.
 */
export type Route = 'login' | 'refresh' | 'logout' | 'ws-ticket' | 'me' | 'ws' | (string & {});

/** A route, or every route of the test server. */
export type RouteOrAll = Route | 'all';

/** What to answer instead of the real thing, see {@link AuthServer.respond}. */
export interface ScriptedAnswer {
  /** Response headers, e.g. `{ 'Retry-After': '30' }`. */
  headers?: Record<string, string>;
  /** A JSON body. Default `{ "error": "scripted" }`. */
  body?: JsonBodyType;
  /** How many requests get this answer. Default 1. */
  times?: number;
}

interface Pending<T> {
  readonly route: RouteOrAll;
  left: number;
  readonly value: T;
}

/**
 * The faults a test scripts on the test server, and the request counts. Each request is counted,
 * then waits out the latency, then takes the first pending fault of its route (one for its own
 * route before one for `all`): a network failure, else a scripted answer.
 */
export class Faults {
  readonly #counts = new Map<string, number>();
  readonly #latency = new Map<RouteOrAll, number>();
  #network: Pending<true>[] = [];
  #answers: Pending<{ status: number; headers?: Record<string, string>; body?: JsonBodyType }>[] = [];

  /** Requests received for `route` (or for every route). */
  count(route: RouteOrAll): number {
    if (route !== 'all') return this.#counts.get(route) ?? 0;
    let total = 0;
    for (const n of this.#counts.values()) total += n;
    return total;
  }

  /** Counts a request the server learned of. */
  received(route: Route): void {
    this.#counts.set(route, this.count(route) + 1);
  }

  failNetwork(route: RouteOrAll, times: number): void {
    this.#network.push({ route, left: checkTimes(times), value: true });
  }

  restoreNetwork(): void {
    this.#network = [];
  }

  setLatency(ms: number, route: RouteOrAll): void {
    if (!(ms >= 0 && ms < Infinity)) throw new RangeError(`latency must be a number of ms ≥ 0, not ${ms}`);
    if (ms === 0) this.#latency.delete(route);
    else this.#latency.set(route, ms);
  }

  respond(route: Route, status: number, answer: ScriptedAnswer): void {
    if (!(Number.isInteger(status) && status >= 200 && status <= 599))
      throw new RangeError(`status must be an HTTP status (200–599), not ${status}`);
    const { headers, body } = answer;
    this.#answers.push({ route, left: checkTimes(answer.times ?? 1), value: { status, headers, body } });
  }

  /** Forgets every fault, latency and count. */
  clear(): void {
    this.#counts.clear();
    this.#latency.clear();
    this.#network = [];
    this.#answers = [];
  }

  /**
   * The latency, then what a fault makes of this request: a network error, a scripted answer, or
   * `undefined` when the server handles it.
   */
  async intercept(route: Route): Promise<Response | undefined> {
    const ms = this.#latency.get(route) ?? this.#latency.get('all') ?? 0;
    if (ms > 0) await delay(ms);
    if (take(this.#network, route)) return HttpResponse.error();
    const answer = take(this.#answers, route);
    if (!answer) return undefined;
    const { status, headers, body = { error: 'scripted' } } = answer;
    const init = { status, headers: { 'Cache-Control': 'no-store', ...headers } };
    // These statuses cannot carry a body: a Response with one would throw.
    return [204, 205, 304].includes(status) ? new HttpResponse(null, init) : HttpResponse.json(body, init);
  }
}

/** Uses up one of the first pending fault for `route` (its own before `all`); its value, or `undefined`. */
function take<T>(list: Pending<T>[], route: Route): T | undefined {
  const found = list.find((p) => p.route === route && p.left > 0) ?? list.find((p) => p.route === 'all' && p.left > 0);
  if (!found) return undefined;
  found.left--;
  return found.value;
}

function checkTimes(times: number): number {
  if (!(times === Infinity || (Number.isInteger(times) && times > 0)))
    throw new RangeError(`times must be a whole number > 0 or Infinity, not ${times}`);
  return times;
}
