/**
 * The time every tab of the browser reads alike: the shared monotonic clock of the High Resolution
 * Time standard (`timeOrigin + now()`), in ms since the epoch. Unlike `Date.now()` it does not jump
 * when the wall clock is set, so the order of logins and logouts across tabs cannot be upset by a
 * clock change.
 */
export const sharedNow = (): number => performance.timeOrigin + performance.now();
