// @ts-check
/**
 * The core (`src/core/index.ts`) bundled for Node with esbuild and imported, once per process: what
 * the fuzz test and the soak drive. Node 20 has what the core needs (fetch, BroadcastChannel,
 * AbortSignal.any, performance) and lacks what it can do without (`navigator.locks`,
 * `localStorage`, `document`): bench/web-locks.js provides the first when a run needs it.
 *
 * With `markTimers`, every `setTimeout` callback of the core runs with a counter on `globalThis`
 * raised (read it with {@link inCoreTimer}): work a callback starts synchronously — a proactive
 * refresh — can then be told from work a caller started.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TIMER_FLAG = 'auth-shell.node.in-core-timer';

// Injected into the bundle in place of the global `setTimeout` (esbuild `inject`).
const TIMER_SHIM = `
const FLAG = Symbol.for(${JSON.stringify(TIMER_FLAG)});
export function setTimeout(callback, ms, ...args) {
  return globalThis.setTimeout((...a) => {
    globalThis[FLAG] = (globalThis[FLAG] ?? 0) + 1;
    try {
      return callback(...a);
    } finally {
      globalThis[FLAG]--;
    }
  }, ms, ...args);
}
`;

/** @typedef {typeof import('../src/core/index.js')} Core */

/** @type {Map<string, Promise<Core>>} */
const loaded = new Map();

/**
 * The core as a Node module.
 * @param {{ markTimers?: boolean }} [options]
 * @returns {Promise<Core>}
 */
export function loadCore({ markTimers = false } = {}) {
  const key = String(markTimers);
  let core = loaded.get(key);
  if (!core) {
    core = bundle(markTimers);
    loaded.set(key, core);
  }
  return core;
}

/** Whether the code running now was called, synchronously, from a core `setTimeout` callback (`markTimers` bundles only). */
export function inCoreTimer() {
  return (
    /** @type {Record<symbol, number | undefined>} */ (
      /** @type {unknown} */ (globalThis)[Symbol.for(TIMER_FLAG)] ?? 0
    ) > 0
  );
}

/** @param {boolean} markTimers @returns {Promise<Core>} */
async function bundle(markTimers) {
  const dir = mkdtempSync(join(tmpdir(), 'auth-shell-core-'));
  try {
    const shim = join(dir, 'timer-shim.mjs');
    if (markTimers) writeFileSync(shim, TIMER_SHIM);
    const file = join(dir, 'core.mjs');
    await build({
      absWorkingDir: root,
      entryPoints: ['src/core/index.ts'],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      inject: markTimers ? [shim] : [],
      outfile: file,
      logLevel: 'silent',
    });
    return /** @type {Core} */ (await import(pathToFileURL(file).href));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
