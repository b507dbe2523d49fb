// @ts-check
// A short, deterministic run of the soak (bench/soak.js; `npm run bench` runs the long one): three
// tabs for ten simulated minutes with a fault in a quarter of the auth requests, frequent logouts
// and clock jumps. A regression in the multi-tab hand-over, the refresh retries or the logout rules
// shows here as an unexpected logout, a leaked token or a reuse detection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak.js';

test('soak, 10 simulated minutes × 3 tabs with faults (fixed seed): no unexpected logout, no leaked token, no reuse', async (t) => {
  const r = await runSoak({
    seed: 1,
    minutes: 10,
    tabs: 3,
    faultRate: 0.25,
    meanInterval: 5000,
    relogEvery: 3 * 60_000,
    clockStepEvery: 2 * 60_000,
    outageEvery: 3 * 60_000,
  });
  t.diagnostic(
    `soak: ${r.api.calls} authFetch, ${r.requests.refresh} refreshes, faults ${JSON.stringify(r.faults)}, ${r.outages} outages, ${r.clockSteps} clock jumps, ` +
      `logouts ${r.logouts.commanded} commanded / ${r.logouts.serverSide} by the server / ${r.logouts.unexpected} unexpected, ` +
      `max ${r.maxRefreshesPerMinute} refreshes per minute, failed ${JSON.stringify(r.api.failed)}, ${r.realMs} ms`,
  );
  assert.deepEqual(r.errors, []);
  // What the run is about did happen: otherwise it would prove nothing.
  for (const kind of ['network', 'lost', '5xx', '429', 'outage'])
    assert.ok((r.faults[kind] ?? 0) > 0, `no ${kind} fault was injected`);
  assert.ok(r.logouts.commanded > 0 && r.clockSteps > 0, 'logouts and clock jumps happened');

  assert.equal(r.logouts.unexpected, 0, `unexpected logouts: ${r.logouts.details.join('; ')}`);
  assert.equal(r.leaks, 0, `tokens leaked: ${r.leakDetails.join('; ')}`);
  assert.equal(r.server.reuseDetections, 0, 'reuse detections at the server');
  assert.deepEqual(
    Object.keys(r.server.revoked).filter((reason) => reason !== 'logout'),
    [],
    'families revoked other than by logout',
  );
  assert.equal(r.refreshBoundExceeded, 0, 'minutes with more refresh requests than the rules allow');
  // Every failed call has a cause the run injected: a fault of the API itself, a refresh that
  // failed because of faults, or a tab that was logged out on purpose.
  for (const reason of Object.keys(r.api.failed)) {
    assert.match(
      reason,
      /^(503|TypeError: the API request failed|(network|timeout|rate-limited): the refresh it needed failed|\d{3} \(tab anonymous, logging in again\))$/,
      `unexplained failure: ${reason}`,
    );
  }
});
