// `npm run mutants [-- <filter>…] [--list]`: the project's mutation practice. Applies each named
// mutant of test/mutants/mutants.mjs — a small edit anchored on a snippet of the code, so it keeps
// applying while unrelated code changes — runs the test suite against it, restores the file, and
// reports whether a test caught it (killed) or not (survived), with the catching tests and a score.
//
// The suite per mutant: the node tests of its half (the backend's for src/server and demo/server,
// the client's otherwise; never the check that every anchor applies), then — if they all passed —
// the browser suite in Chromium (web-test-runner). Not part of `npm test` or CI: it takes a while.
// A mutant whose anchor is missing or ambiguous is reported as stale and fails the run: fix its
// anchor, never delete it to make the run pass. A mutant of a TypeScript file must compile (checked
// with tsc first; one that does not is reported and fails the run): the suite's package tests build
// the package, and a build error is not a test catching the bug — write the edit so it type-checks
// (`&& false`, `void name;` for what the edit leaves unused).
//
// MUTANTS_FILES=<test file>,… narrows the suite to those files (test/node/… with node --test,
// test/browser/… with web-test-runner in Chromium), for a quick pass over the mutants of one area:
// a mutant those files kill is killed by the whole suite too, but one they let through is only
// "survived the subset" — run it again without MUTANTS_FILES before calling it a survivor.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MUTANTS } from './mutants.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const selected = MUTANTS.filter(
  (m) => filters.length === 0 || filters.some((f) => m.id.includes(f) || m.behaviour.includes(f)),
);
const port = process.env.MUTANTS_PORT ?? '8640';
const tsc = `${root}/node_modules/typescript/bin/tsc`;

/** Checks every anchor before running anything. */
function prepare(mutant) {
  const path = `${root}/${mutant.file}`;
  const original = readFileSync(path, 'utf8');
  const count = original.split(mutant.find).length - 1;
  if (count !== 1) return { error: `anchor found ${count} times in ${mutant.file}` };
  return { path, original, mutated: original.replace(mutant.find, mutant.replace) };
}

/** Runs a command; resolves with its exit code and output. */
function run(command, commandArgs, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** Names of the failed tests in node:test and web-test-runner output. */
function failures(output) {
  const names = new Set();
  for (const line of output.split('\n')) {
    const wtr = /❌ (.+)$/.exec(line);
    if (wtr) names.add(wtr[1].trim());
    const node = /^\s*not ok \d+ - (.+)$/.exec(line);
    if (node) names.add(`node: ${node[1].trim()}`);
  }
  return [...names];
}

/** The node tests of the backend half (auth-shell/server, its stores, the reference backend). */
const SERVER_TESTS = new Set([
  'server-kit.test.js',
  'stores.test.js',
  'multi-instance.test.js',
  'adapters.test.js',
  'demo-backend.test.js',
  'sockets.test.js',
]);

const focus = (process.env.MUTANTS_FILES ?? '').split(',').filter(Boolean);

/** The named test files only (MUTANTS_FILES): node's first, then the browser's in Chromium. */
async function focused() {
  const nodeFiles = focus.filter((f) => f.startsWith('test/node/'));
  const browserFiles = focus.filter((f) => f.startsWith('test/browser/'));
  if (nodeFiles.length) {
    const node = await run(process.execPath, ['--test', ...nodeFiles]);
    if (node.code !== 0) return { killed: true, by: failures(node.output) };
  }
  if (!browserFiles.length) return { killed: false, by: [] };
  const browser = await run(
    process.execPath,
    ['node_modules/@web/test-runner/dist/bin.js', ...browserFiles.flatMap((f) => ['--files', f])],
    { WTR_PORT: port, BROWSERS: 'chromium' },
  );
  return { killed: browser.code !== 0, by: failures(browser.output) };
}

/** @param {{ file: string }} mutant */
async function suite(mutant) {
  if (focus.length) return focused();
  // The node tests of the mutant's half — the backend's for src/server and demo/server, the
  // client's otherwise (the backend's take minutes and cannot see a client bug) — but the anchor
  // check, which fails for any planted mutant by design. The size budgets are not counted: a mutant
  // that adds code may outgrow them, and that is not a test catching the bug it plants. Then the
  // browser suite, which runs both halves together.
  const server = /^(src\/server|demo\/server)\//.test(mutant.file);
  const nodeTests = readdirSync(`${root}/test/node`).filter(
    (f) => f.endsWith('.test.js') && f !== 'mutants.test.js' && SERVER_TESTS.has(f) === server,
  );
  const node = await run(process.execPath, ['--test', ...nodeTests.map((f) => `test/node/${f}`)]);
  const failed = failures(node.output).filter((n) => !/^node: test\/node\//.test(n));
  const caught = failed.filter((n) => !n.startsWith('node: every bundle with a budget stays within it'));
  if (node.code !== 0 && (caught.length > 0 || failed.length === 0)) return { killed: true, by: caught };
  const browser = await run(process.execPath, ['node_modules/@web/test-runner/dist/bin.js'], {
    WTR_PORT: port,
    BROWSERS: 'chromium',
  });
  return { killed: browser.code !== 0, by: failures(browser.output) };
}

const pad = (s, n) => String(s).padEnd(n);

if (args.includes('--list')) {
  for (const m of MUTANTS) console.log(`${pad(m.id, 34)} ${m.equivalent ? '(equivalent) ' : ''}${m.behaviour}`);
  process.exit(0);
}

const prepared = selected.map((m) => ({ mutant: m, ...prepare(m) }));
const stale = prepared.filter((p) => p.error);
for (const p of stale) console.error(`stale mutant ${p.mutant.id}: ${p.error}`);

// Whatever happens, the sources are put back.
let current;
const restore = () => current && writeFileSync(current.path, current.original);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (restore(), process.exit(130)));

const results = [];
const started = performance.now();
for (const p of prepared.filter((p) => !p.error)) {
  const { mutant } = p;
  if (mutant.equivalent) {
    results.push({
      id: mutant.id,
      behaviour: mutant.behaviour,
      result: 'equivalent',
      by: [mutant.equivalent],
      seconds: 0,
    });
    console.log(`${pad(mutant.id, 34)} equivalent — ${mutant.equivalent}`);
    continue;
  }
  const t0 = performance.now();
  current = p;
  writeFileSync(p.path, p.mutated);
  let outcome;
  try {
    // A mutant must compile: a build that fails would fail the package tests, and the compiler is not a test.
    const compiled = p.path.endsWith('.ts')
      ? await run(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'])
      : null;
    outcome =
      compiled && compiled.code !== 0
        ? { invalid: true, killed: false, by: [compiled.output.split('\n')[0]] }
        : await suite(mutant);
  } finally {
    restore();
    current = undefined;
  }
  const seconds = Math.round((performance.now() - t0) / 1000);
  results.push({
    id: mutant.id,
    behaviour: mutant.behaviour,
    result: outcome.invalid ? 'invalid' : outcome.killed ? 'killed' : 'survived',
    by: outcome.by,
    seconds,
  });
  console.log(
    `${pad(mutant.id, 34)} ${outcome.invalid ? 'INVALID ' : outcome.killed ? 'killed  ' : 'SURVIVED'} ${pad(`${seconds}s`, 5)} ${outcome.by.slice(0, 2).join(' | ')}`,
  );
}

const invalid = results.filter((r) => r.result === 'invalid');
const counted = results.filter((r) => r.result !== 'equivalent' && r.result !== 'invalid');
const killed = counted.filter((r) => r.result === 'killed').length;
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
console.log(
  `\n${killed}/${counted.length} killed (score ${counted.length ? Math.round((100 * killed) / counted.length) : 0} %), ` +
    `${results.length - counted.length - invalid.length} equivalent, ${stale.length} stale, ` +
    `${invalid.length} not compiling, ${minutes} min`,
);
for (const r of invalid) console.log(`does not compile: ${r.id} — ${r.by[0]}`);
for (const r of counted.filter((r) => r.result === 'survived'))
  console.log(`survived${focus.length ? ' the subset' : ''}: ${r.id} — ${r.behaviour}`);
if (focus.length) console.log(`(only ${focus.join(', ')} ran: MUTANTS_FILES)`);
mkdirSync(`${root}/.mutants`, { recursive: true });
writeFileSync(
  `${root}/.mutants/report.json`,
  JSON.stringify({ when: new Date().toISOString(), minutes: Number(minutes), results }, null, 2),
);
process.exit(stale.length > 0 || invalid.length > 0 || killed < counted.length ? 1 : 0);
