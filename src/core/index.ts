/**
 * auth-shell/core — the framework-free session engine. No Lit, no custom elements, nothing
 * registered; safe to import from a route loader, a React or Vue app, or a worker.
 *
 * @example
 * ```ts
 * import { getSession } from 'auth-shell/core';
 * const session = getSession('/api');
 * await session.ready;
 * const res = await session.authFetch('/api/me');
 * ```
 * @module
 */
export { Session, createSession } from './session.js';
export { getSession } from './registry.js';
export { AuthSocket, openSocket } from './socket.js';
export { hasRole } from './roles.js';
export { requireAuth, firstSession, readReturnTo, safeReturnTo } from './guard.js';
export type { RequireAuthOptions, SessionSource } from './guard.js';
export {
  AuthError,
  InvalidCredentialsError,
  NetworkError,
  RateLimitError,
  TimeoutError,
  ProtocolError,
  HttpError,
  UnauthenticatedError,
  UsageError,
  SocketError,
  SetupError,
  CodeRequiredError,
  isAuthError,
} from './errors.js';
export type { SessionValue, Login, LoginFields } from './session.js';
export type { SessionApi } from './api.js';
export type { AuthFetch } from './fetch.js';
export type {
  SocketOptions,
  SocketData,
  AuthSocketEventMap,
  AuthSocketCloseEvent,
  AuthSocketErrorEvent,
} from './socket.js';
export type { SessionOptions, ResolvedOptions, EndpointMethod } from './options.js';
export type { AuthErrorCode, AuthOperation, AuthErrorOptions, SetupProblem } from './errors.js';
export type {
  Activity,
  RefreshReason,
  SessionEventMap,
  SessionSnapshot,
  SessionState,
  SessionErrorDetail,
  TypedEventTarget,
} from './events.js';
export type { User, Claims, Clock } from './token-store.js';
