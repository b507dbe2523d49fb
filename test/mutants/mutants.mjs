// The mutants `npm run mutants` plants, one at a time: the bugs a tired developer could write into
// each behaviour the product promises (its threat model, and the behaviours the suite once missed).
// Each is a small edit: `find` (a snippet that must occur exactly once in `file`) becomes `replace`.
// A mutant judged equivalent (no observable behaviour changes) says why in `equivalent` and is
// not run.
//
// `behaviour` starts with the threat-model row it attacks (T1…T31, see docs/threat-model.md) or
// the behaviour it removes.

/** @type {{ id: string, behaviour: string, file: string, find: string, replace: string, equivalent?: string }[]} */
export const MUTANTS = [
  // ---- one session, one refresh at a time ----
  {
    id: 'single-flight-removed',
    behaviour: 'T1 refresh stampede: concurrent callers share one refresh (also without the cross-tab lock)',
    file: 'src/core/refresher.ts',
    find: 'if (this.#inflight) return this.#inflight;',
    replace: '',
  },
  {
    id: 'registry-never-shares',
    behaviour: 'T2 several providers and bundled copies share one session per api',
    file: 'src/core/registry.ts',
    find: 'const found = sessions.get(key);',
    replace: 'const found = undefined as ReturnType<typeof sessions.get>;',
  },
  {
    id: 'tab-handover-ignored',
    behaviour: 'T3 a tab granted the lock after another refreshed uses the handed-over token',
    file: 'src/core/session.ts',
    find: "if (this.#tokens.token !== before && this.#tokens.isFresh()) return 'handed-over';",
    replace: "if (this.#tokens.token !== before && this.#tokens.isFresh() && false) return 'handed-over';",
  },
  {
    id: 'lock-fallback-removed',
    behaviour: 'T3 a stuck cross-tab lock delays a refresh by lockTimeout at most',
    file: 'src/core/tab-sync.ts',
    find: 'return work(); // waited long enough: go on unlocked',
    replace: 'throw error;',
  },
  // ---- faults while refreshing ----
  {
    id: 'refresh-never-retried',
    behaviour: 'T4/T6 a refresh that failed at network level is retried with backoff',
    file: 'src/core/refresher.ts',
    find: 'signal.aborted || attempt >= retries ||',
    replace: 'signal.aborted || attempt >= retries || true ||',
  },
  {
    id: 'refresh-401-keeps-session',
    behaviour: 'T5 a refresh answered 401 ends the session (memory cleared, every tab)',
    file: 'src/core/session.ts',
    find: "if (outcome === 'ended') {\n      this.#enter('ended');",
    replace: "if (outcome === 'ended') {",
  },
  {
    id: 'no-request-timeout',
    behaviour: 'T6 every session request has a timeout',
    file: 'src/core/http.ts',
    find: 'const timer = setTimeout(() => ((timedOut = true), abort()), timeout);',
    replace: 'const timer = undefined;',
  },
  {
    id: 'restore-network-failure-final',
    behaviour: 'T6 a restore that failed at network level is retried when the network is back',
    file: 'src/core/session.ts',
    find: "this.#enter(error instanceof NetworkError ? 'unreachable' : 'ended');",
    replace: "this.#enter('ended');",
  },
  {
    id: 'no-retry-after-401',
    behaviour: 'T7 a 401 is refreshed and retried once',
    file: 'src/core/fetch.ts',
    find: 'if (next === null) return response;',
    replace: 'if (next === null || (true as boolean)) return response;',
  },
  // ---- clocks ----
  {
    id: 'lifetime-from-wall-clock',
    behaviour: 'T8 the lifetime is exp − iat from receipt, never exp against the client clock',
    file: 'src/core/token-store.ts',
    find: 'return (exp - iat) * 1000;',
    replace: 'return exp * 1000 - Date.now();',
  },
  {
    id: 'authfetch-skips-freshness',
    behaviour: 'T9 every authFetch checks freshness (timers are only hints)',
    file: 'src/core/session.ts',
    find: 'if (tokens.isFresh() && tokens.token !== used) return tokens.token;',
    replace: 'if (tokens.token !== used) return tokens.token;',
  },
  {
    id: 'online-not-rechecked',
    behaviour: 'T9 online/pageshow/visibilitychange re-check the session',
    file: 'src/core/session.ts',
    find: "for (const type of ['online', 'pageshow']) globalThis[method]?.(type, this.#onResume);",
    replace: "for (const type of ['pageshow']) globalThis[method]?.(type, this.#onResume);",
  },
  {
    id: 'no-freshness-floor',
    behaviour: 'T24 a new token is fresh for at least 5 s, whatever its lifetime',
    file: 'src/core/token-store.ts',
    find: 'this.#freshUntil = receivedAt + MIN_FRESH;',
    replace: 'this.#freshUntil = receivedAt;',
  },
  {
    id: 'exp-only-against-client-clock',
    behaviour: "T24 an exp-only token is measured against the server's Date header",
    file: 'src/core/token-store.ts',
    find: 'Math.max(0, exp * 1000 - serverDate)',
    replace: 'Math.max(0, exp * 1000 - Date.now())',
  },
  {
    id: 'proactive-failure-no-backoff',
    behaviour: 'T24 a failing proactive refresh backs off and tries again',
    file: 'src/core/session.ts',
    find: 'this.#schedule(Math.min(MIN_FRESH * 2 ** this.#proactiveFailures++, MAX_PROACTIVE_BACKOFF));',
    replace: 'void [MIN_FRESH, MAX_PROACTIVE_BACKOFF, this.#proactiveFailures];',
  },
  // ---- answers ----
  {
    id: 'token-shape-unchecked',
    behaviour: 'T10 a malformed token is a ProtocolError and changes nothing',
    file: 'src/core/token-store.ts',
    find: "if (typeof token !== 'string' || token.split('.').length !== 3) {",
    replace: "if (typeof token !== 'string') {",
  },
  {
    id: 'retry-401-not-paused',
    behaviour: 'T25 a refresh that did not fix a 401 is not repeated for a while',
    file: 'src/core/fetch.ts',
    find: 'if (retried.status === 401) hooks.futile(next);',
    replace: '',
  },
  {
    id: 'insufficient-scope-refreshes',
    behaviour: 'T25 WWW-Authenticate: insufficient_scope never refreshes (RFC 6750)',
    file: 'src/core/fetch.ts',
    find: "      response.status !== 401 ||\n      /\\berror\\s*=\\s*\"?insufficient_scope\\b/i.test(response.headers.get('WWW-Authenticate') ?? '')",
    replace: '      response.status !== 401',
  },
  {
    id: 'rate-limit-untyped',
    behaviour: 'T30 a 429 is a RateLimitError carrying Retry-After',
    file: 'src/core/http.ts',
    find: 'if (status !== 429) return new NetworkError(message, { status, operation });',
    replace: 'return new NetworkError(message, { status, operation });',
  },
  // ---- where the token goes ----
  {
    id: 'bearer-to-any-origin',
    behaviour: 'T16 the bearer goes only to exact allowed origins',
    file: 'src/core/fetch.ts',
    find: 'if (!bearerOrigins.has(url.origin)) return fetch(request);',
    replace: 'if (!bearerOrigins.has(url.origin) && false) return fetch(request);',
  },
  {
    id: 'allowed-origin-with-path',
    behaviour: 'T16 allowed-origins entries must be bare origins',
    file: 'src/core/origins.ts',
    find: 'url.href !== `${url.origin}/`',
    replace: 'false',
  },
  {
    id: 'bearer-decided-on-input',
    behaviour: 'T26 the bearer is decided on the request actually sent',
    file: 'src/core/fetch.ts',
    find: 'const url = new URL(request.url);',
    replace: 'const url = new URL(String(input instanceof Request ? input.url : input), location.href);',
  },
  {
    id: 'token-in-activity',
    behaviour: 'T17 no token in events, logs or errors',
    file: 'src/core/session.ts',
    find: "this.#step('login', 'success');",
    replace: "this.#step('login', 'success', { url: String(this.#tokens.token) });",
  },
  {
    id: 'global-token-hook',
    behaviour: 'T28 no Symbol.for path yields the token',
    file: 'src/core/session.ts',
    find: '  /** `restoring`, `authenticated` or `anonymous`. */',
    replace:
      "  [Symbol.for('auth-shell.debug')]() {\n    return this.#tokens.token;\n  }\n\n  /** `restoring`, `authenticated` or `anonymous`. */",
  },
  {
    id: 'socket-error-shows-url',
    behaviour: 'T17/T18 a socket error event never carries the URL with the credential',
    file: 'src/core/link.ts',
    find: "on.error('the connection failed or was lost')",
    replace: 'on.error(`the connection to ${target} failed`)',
  },
  {
    id: 'csrf-header-dropped',
    behaviour: 'T12/T13 login, refresh and logout carry the static anti-CSRF header by default',
    file: 'src/core/options.ts',
    find: "options.csrfHeader ?? 'X-Requested-With: auth-shell'",
    replace: "options.csrfHeader ?? ''",
  },
  // ---- logout ----
  {
    id: 'logout-keeps-refresh-running',
    behaviour: 'T20 a logout aborts the refresh in flight (request and cross-tab lock)',
    file: 'src/core/session.ts',
    find: "this.#epoch++;\n    this.#refresher.abort(superseded('refresh'));",
    replace: 'this.#epoch++;',
  },
  {
    id: 'epoch-unchecked-after-lock',
    behaviour: 'T20 a logout landing while the refresh lock is released still wins',
    file: 'src/core/session.ts',
    find: '// A logout or login may land while the lock is being released: checked again after it.\n    signal.throwIfAborted();',
    replace: '',
  },
  {
    id: 'epoch-unchecked-after-answer',
    behaviour: 'T20 a refresh answer arriving after a logout is not stored',
    file: 'src/core/session.ts',
    find: "const answer = await this.#send('refresh', undefined, signal);\n      signal.throwIfAborted();",
    replace: "const answer = await this.#send('refresh', undefined, signal);",
    equivalent:
      'a logout aborts the request (its answer is never read) and the epoch is checked again after the lock; ' +
      'only a logout within the microtasks between the body being read and this line could tell, which no caller can time',
  },
  {
    id: 'login-not-superseded-by-logout',
    behaviour: 'a logout while a login request is in flight makes the login obsolete',
    file: 'src/core/session.ts',
    find: "if (this.#logouts !== logouts || this.#tabs?.loggedOutSince(requestedAt)) throw superseded('login');",
    replace:
      "if ((this.#logouts !== logouts || this.#tabs?.loggedOutSince(requestedAt)) && false) throw superseded('login');",
  },
  {
    id: 'pre-logout-token-adopted',
    behaviour: 'a token requested before a logout this tab knows of is not adopted',
    file: 'src/core/tab-sync.ts',
    find: '        if (requestedAt < this.#loggedOutAt) return;\n',
    replace: '',
  },
  {
    id: 'handover-unstamped',
    behaviour: "a login that won over another tab's logout reaches that tab, whatever each tab's clock rounding",
    file: 'src/core/tab-sync.ts',
    find: 'Math.max(offer.requestedAt, this.#logoutStamp)',
    replace: 'Math.max(offer.requestedAt, this.#logoutStamp && 0)',
  },
  {
    id: 'pagehide-keeps-refresh',
    behaviour: 'pagehide aborts a refresh in flight (no lock held in the back/forward cache)',
    file: 'src/core/session.ts',
    find: "globalThis[method]?.('pagehide', this.#onHide);",
    replace: "globalThis[method]?.('pagehide-never', this.#onHide);",
  },
  {
    id: 'logout-without-keepalive',
    behaviour: 'T31 the logout request is sent with keepalive',
    file: 'src/core/session.ts',
    find: "keepalive: operation === 'logout'",
    replace: 'keepalive: false',
  },
  {
    id: 'owed-logout-forgotten',
    behaviour: 'T31 a logout that could not reach the server is completed by the next page',
    file: 'src/core/session.ts',
    find: 'else if (epoch === this.#epoch) markLogout(this.#key, true);',
    replace: '',
  },
  // ---- tab messages and micro-frontends ----
  {
    id: 'tab-time-unchecked',
    behaviour: 'T27 a tab message time more than 1 s ahead is junk',
    file: 'src/core/tab-sync.ts',
    find: "typeof value === 'number' && Number.isFinite(value) && value <= sharedNow() + ALLOWANCE",
    replace: "typeof value === 'number' && ALLOWANCE > 0",
  },
  {
    id: 'conflicting-options-shared',
    behaviour: 'T28 conflicting security options for one api are a UsageError',
    file: 'src/core/registry.ts',
    find: 'if (conflicts.length > 0) {',
    replace: 'if (false) {',
  },
  // ---- sockets ----
  {
    id: 'socket-reconnects-forever',
    behaviour: 'T19 reconnects are capped (maxAttempts), then giveup',
    file: 'src/core/socket.ts',
    find: 'if (this.#attempts >= maxAttempts) {',
    replace: 'if (this.#attempts >= maxAttempts && false) {',
  },
  {
    id: 'socket-survives-logout',
    behaviour: 'T19/T20 the session ending closes its sockets',
    file: 'src/core/socket.ts',
    find: "this.close(1000, 'session ended');",
    replace: '',
  },
  {
    id: 'socket-close-waits-forever',
    behaviour: 'a socket whose server never answers the close frame is closed after 1 s anyway',
    file: 'src/core/socket.ts',
    find: 'this.#enter(Phase.CLOSING, () => this.#finish(code, reason, false), CLOSE_FALLBACK);',
    replace: 'void CLOSE_FALLBACK; this.#enter(Phase.CLOSING);',
  },
  {
    id: 'socket-handshake-no-timeout',
    behaviour: 'T6 a WebSocket handshake that never completes times out',
    file: 'src/core/socket.ts',
    find: 'this.#enter(Phase.CONNECTING, () => ws!.close(), connectTimeout);',
    replace: 'this.#enter(Phase.CONNECTING);',
  },
  // ---- a new tab restores from its siblings ----
  {
    id: 'new-tab-never-asks',
    behaviour: 'a new tab restores from a sibling tab that holds a fresh token, without a request',
    file: 'src/core/tab-sync.ts',
    find: 'if (!this.#channel || !locks) return null;',
    replace: 'return null;',
  },
  {
    id: 'offer-stale-token',
    behaviour: 'only a fresh token is offered to a new tab',
    file: 'src/core/session.ts',
    find: '(this.#tokens.isFresh() && !this.#refresher.busy ? this.#held() : null)',
    replace: '(this.#tokens.token !== null ? this.#held() : null)',
  },
  {
    id: 'answer-to-anyone-adopted',
    behaviour: "an answer to another tab's question is not adopted",
    file: 'src/core/tab-sync.ts',
    find: 'else if (to === this.#asking?.id) this.#asking.answer(message);',
    replace: 'else this.#asking?.answer(message);',
  },

  // ---- found by fuzzing ----
  {
    id: 'lock-fallback-after-grant',
    behaviour: 'a refresh that failed while holding the lock is not sent again unlocked',
    file: 'src/core/tab-sync.ts',
    find: 'if (granted || signal.aborted || !wait.aborted) throw error;',
    replace: 'if ((granted && false) || signal.aborted || !wait.aborted) throw error;',
  },
  {
    id: 'two-refreshes-per-call',
    behaviour: 'one authFetch refreshes at most once',
    file: 'src/core/fetch.ts',
    find: 'if (refreshed) {',
    replace: 'if (refreshed && (false as boolean)) {',
  },
  {
    id: 'logout-time-trusted',
    behaviour: "T27 a received logout's time is capped at now (a clock ahead cannot block logins)",
    file: 'src/core/tab-sync.ts',
    find: 'this.#loggedOutAt = Math.min(at, sharedNow());',
    replace: 'this.#loggedOutAt = at;',
  },
  {
    id: 'option-types-unchecked',
    behaviour: 'an option of the wrong type is a UsageError, not a TypeError or a broken session',
    file: 'src/core/options.ts',
    find: "if (options[key] != null && typeof options[key] !== 'string')",
    replace: 'if (false)',
  },
  {
    id: 'non-http-api-accepted',
    behaviour: 'an api that is not http(s) is a UsageError',
    file: 'src/core/options.ts',
    find: 'if (!/^https?:$/.test(api.protocol)) throw',
    replace: 'if (false) throw',
  },
  // ---- adoption ----
  {
    id: 'server-session-live',
    behaviour: 'on a server getSession is inert: no request, nothing keeps Node alive',
    file: 'src/core/registry.ts',
    find: "if (onServer()) return new Session({ ...opts, api: new URL(opts.api, 'http://localhost/') }, true);",
    replace:
      "if (onServer() && false) return new Session({ ...opts, api: new URL(opts.api, 'http://localhost/') }, true);",
  },
  {
    id: 'provider-failure-silent',
    behaviour: 'a provider without a usable api says which attribute to fix',
    file: 'src/elements/auth-provider.ts',
    find: "console.error(`<auth-provider${attributes.map((a) => ` ${a}`).join('')}>: ${error.message}`);",
    replace: 'void attributes;',
  },
  {
    id: 'debug-silent',
    behaviour: 'the debug option logs every step',
    file: 'src/core/session.ts',
    find: 'if (this.options.debug) logSteps(this);',
    replace: 'if (this.options.debug && false) logSteps(this);',
  },
  {
    id: 'logout-not-joined',
    behaviour: "a login right after a logout waits for the logout's answer",
    file: 'src/core/session.ts',
    find: 'return (this.#loggingOut ??= this.#logoutRequest().finally(() => (this.#loggingOut = null)));',
    replace: 'void this.#loggingOut; return this.#logoutRequest();',
  },
  {
    id: 'form-ignores-lang',
    behaviour: "the login form's defaults follow the page's lang",
    file: 'src/elements/auth-login-form.ts',
    find: "(DEFAULTS[lang] ?? DEFAULTS['en']!)[key]",
    replace: "(DEFAULTS[lang] ? DEFAULTS['en']! : DEFAULTS['en']!)[key]",
  },

  {
    id: 'network-failure-as-401',
    behaviour:
      'T11 a request that could not reach the server (fetch TypeError) is a network failure, never an auth failure',
    file: 'src/core/http.ts',
    find: 'throw new NetworkError(`${where} failed: the server could not be reached`, { operation, cause });',
    replace: "return { status: 401, text: '', receivedAt: clock(), headers: new Headers() };",
  },
  // ---- elements ----
  {
    id: 'gate-keeps-stamped-content',
    behaviour: "protected <template> content is removed when the session ends (no user's data survives)",
    file: 'src/elements/auth-gate.ts',
    find: '      this.#unstamp();',
    replace: '      void this.#unstamp;',
  },
  {
    id: 'gate-shows-login-while-restoring',
    behaviour: 'nothing but `pending` while the session restores',
    file: 'src/elements/auth-gate.ts',
    find: "if (!auth || auth.state === 'restoring') return 'pending';",
    replace: "if (!auth) return 'pending';",
  },
  // ---- auth-shell/server (the reference backend is a thin app on it) ----
  {
    id: 'cookie-not-httponly',
    behaviour: 'T14 the refresh cookie is HttpOnly',
    file: 'src/server/http.js',
    find: "const flags = readable ? 'SameSite=Strict' : 'HttpOnly; SameSite=Strict';",
    replace: "const flags = readable ? 'SameSite=Strict' : 'SameSite=Strict';",
  },
  {
    id: 'api-credential-from-query',
    behaviour: 'T15 the APIs accept a Bearer access token only (not a token in the query)',
    file: 'src/server/auth-server.js',
    find: "exec(request.headers.get('authorization') ?? '')",
    replace:
      "exec(request.headers.get('authorization') ?? `Bearer ${new URL(request.url).searchParams.get('access_token') ?? ''}`)",
  },
  {
    id: 'rotation-extends-lifetime',
    behaviour: 'T21 rotation keeps the absolute lifetime of a refresh-token family',
    file: 'src/server/stores/memory.js',
    find: '          currentHash: nextHash,\n          lastUsedAt: now,',
    replace:
      '          currentHash: nextHash,\n          lastUsedAt: now,\n          expiresAt: now + (f.expiresAt - f.createdAt),',
  },
  {
    id: 'audience-unchecked',
    behaviour: 'T22 access tokens are verified strictly (the audience too)',
    file: 'src/server/keys.js',
    find: '        issuer,\n        audience,\n        clockTolerance',
    replace: '        issuer,\n        clockTolerance',
  },
  {
    id: 'token-answers-cacheable',
    behaviour: 'T23 token answers are Cache-Control: no-store',
    file: 'src/server/auth-server.js',
    find: "const NO_STORE = Object.freeze({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });",
    replace: 'const NO_STORE = Object.freeze({});',
  },
  {
    id: 'tossed-cookie-accepted',
    behaviour: 'T29 a request with more than one refresh cookie is refused',
    file: 'src/server/auth-server.js',
    find: 'if (found.length > 1) return { ambiguous: true',
    replace: 'if (found.length > 99) return { ambiguous: true',
  },
  {
    id: 'sid-cookie-left-set',
    behaviour:
      'T33 the sid cookie is cleared with the refresh cookie (logout, a refresh answered 401, logout-everywhere)',
    file: 'src/server/auth-server.js',
    find: '            maxAge: 0,\n            readable: true,',
    replace: '            maxAge: 60,\n            readable: true,',
  },
  {
    id: 'store-down-is-401',
    behaviour: 'T36 a session store that is down is answered 503 + Retry-After, never 401',
    file: 'src/server/auth-server.js',
    find: 'if (isServiceUnavailableError(error) || isUnauthorizedError(error)) return error.toResponse();',
    replace:
      "if (isServiceUnavailableError(error)) return respond(401, { error: 'invalid_grant' });\n    if (isUnauthorizedError(error)) return error.toResponse();",
  },
  {
    id: 'locked-throttle-evicted',
    behaviour: 'T38 a locked throttle entry is never evicted to make room',
    file: 'src/server/stores/memory.js',
    find: '          counting.delete(key);\n          locked.set(key, entry);',
    replace: '          counting.set(key, entry);',
  },
  {
    id: 'secure-decided-by-host',
    behaviour: "T38 Secure follows the browser's Origin, not a Host header a proxy may rewrite",
    file: 'src/server/auth-server.js',
    find: '    const origin = browserOrigin(request);\n    if (origin) return !isLoopbackHttp(origin);',
    replace: '',
  },
];
