/**
 * The one backoff of auth-shell: `base · 2^attempt` ms, capped at `cap`, jittered over its upper
 * half so that tabs and clients retrying after the same failure spread out instead of arriving
 * together. `attempt` counts from 0.
 */
export const backoff = (attempt: number, base: number, cap = Infinity): number =>
  Math.min(cap, base * 2 ** attempt) * (0.5 + Math.random() / 2);
