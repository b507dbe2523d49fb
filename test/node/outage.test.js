// @ts-check
// One backoff per browser: three tabs of one browser whose app calls its API once a second, through
// a 40 s outage of the auth server (503 to every refresh), on the soak's simulated clock and fake
// server (bench/soak.js). The tabs share the outage's next attempt through the tab channel and the
// lock, so the browser sends what one tab would; after the outage the session is back by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTAGE_SCENARIO, runSoak } from '../../bench/soak.js';

const scenario = OUTAGE_SCENARIO;

/**
 * The most refresh requests one tab's own schedule can send in `window` ms, every wait jittered down
 * to its least (half): the first try and its quick retries (`refreshRetries` 3, from `retryDelay`
 * 250 ms, doubling), then the outage's steps (5 s doubling, capped at 60 s). Tabs that share one
 * backoff send no more than that together — 8 in 40 s (the goal was 10; 6–7 are measured).
 */
function oneTabAtMost(window, retries = 3, delay = 250) {
  let at = 0;
  let requests = 1;
  for (let i = 0; i < retries; i++, requests++) at += (delay * 2 ** i) / 2;
  for (let i = 0; ; i++, requests++) {
    at += Math.min(60_000, 5000 * 2 ** i) / 2;
    if (at > window) return requests;
  }
}
const bound = oneTabAtMost(scenario.outageFor);

for (const seed of [1, 2, 3]) {
  test(`a 40 s outage, 3 tabs polling once a second (seed ${seed}): at most one tab's schedule of refresh requests (${bound}), back by itself within one backoff step`, async () => {
    const report = await runSoak({ ...scenario, seed });
    const [outage] = report.scripted;
    assert.ok(outage.requests <= bound, `${outage.requests} refresh requests during the outage (one tab: ${bound})`);
    assert.ok(outage.requests >= 2, 'the browser kept trying');
    assert.notEqual(outage.recoveredAfter, null, 'the session came back');
    // The longest step of the backoff is 60 s (5 s doubling, jittered): back within it.
    assert.ok(
      /** @type {number} */ (outage.recoveredAfter) <= 60_000,
      `back ${outage.recoveredAfter} ms after the outage`,
    );
    assert.equal(report.logouts.unexpected, 0, 'an outage is never a logout');
    assert.deepEqual(report.errors, []);
  });
}

test("a 503's Retry-After is honoured by every tab: no refresh request before it has passed", async () => {
  const report = await runSoak({ ...scenario, seed: 4, outageRetryAfter: 30 });
  const [outage] = report.scripted;
  // The first 503 says 30 s: the next attempt (any tab's) comes then, and one more at most before the end.
  assert.ok(outage.requests <= 3, `${outage.requests} refresh requests during a 40 s outage with Retry-After: 30`);
  assert.equal(report.logouts.unexpected, 0);
});
