// @ts-check
// One backoff per browser: three tabs of one browser whose app calls its API once a second, through
// a 40 s outage of the auth server (503 to every refresh), on the soak's simulated clock and fake
// server (bench/soak.js). The tabs share the outage's next attempt through the tab channel and the
// lock, so the browser sends what one tab would; after the outage the session is back by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTAGE_SCENARIO, runSoak } from '../../bench/soak.js';

const scenario = OUTAGE_SCENARIO;

for (const seed of [1, 2, 3]) {
  test(`a 40 s outage, 3 tabs polling once a second (seed ${seed}): at most 10 refresh requests, back by itself within one backoff step`, async () => {
    const report = await runSoak({ ...scenario, seed });
    const [outage] = report.scripted;
    assert.ok(outage.requests <= 10, `${outage.requests} refresh requests during the outage`);
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
