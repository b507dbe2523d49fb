// A reporter that closes the run with one line per engine: its test counts and how long it took from
// its first test file starting to its last one finishing (the engines run one after the other).

const countTests = (suite, counts = { passed: 0, failed: 0, skipped: 0 }) => {
  if (!suite) return counts;
  for (const test of suite.tests) {
    if (test.skipped) counts.skipped++;
    else if (test.passed) counts.passed++;
    else counts.failed++;
  }
  for (const child of suite.suites) countTests(child, counts);
  return counts;
};

export function engineSummary() {
  /** @type {Map<string, { first: number, last: number }>} */
  const times = new Map();
  return {
    start({ sessions }) {
      sessions.on('session-status-updated', (session) => {
        const name = session.browser.name;
        const now = Date.now();
        const entry = times.get(name) ?? { first: now, last: now };
        entry.last = now;
        times.set(name, entry);
      });
    },
    stop({ sessions }) {
      const byEngine = new Map();
      for (const session of sessions) {
        const name = session.browser.name;
        const counts = byEngine.get(name) ?? { passed: 0, failed: 0, skipped: 0, files: 0, errors: 0 };
        countTests(session.testResults, counts);
        counts.files++;
        if (session.errors?.length) counts.errors++;
        byEngine.set(name, counts);
      }
      const lines = [];
      for (const [name, c] of byEngine) {
        const time = times.get(name);
        const seconds = time ? ((time.last - time.first) / 1000).toFixed(1) : '?';
        const errors = c.errors ? `, ${c.errors} file(s) with errors` : '';
        lines.push(
          `  ${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${c.files} files, ${seconds} s${errors}`,
        );
      }
      console.log(`\nPer engine:\n${lines.join('\n')}\n`);
    },
  };
}
