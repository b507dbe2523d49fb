// Starts and stops what WebKitGTK needs for the browser tests: MiniBrowser has no headless mode, so
// an Xvfb display, and WebKitWebDriver (which starts MiniBrowser on it for each WebDriver session).
// Xvfb picks a free display itself (-displayfd) and the driver gets a free port, so two test runs on
// one machine never collide. Both are stopped by their own pid: by stop(), on process exit, on
// SIGTERM/SIGHUP, and through a parent-death signal if this process is killed outright.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

// Debian ships MiniBrowser with libwebkit2gtk-4.1-0 under the multiarch library folder.
const findMiniBrowser = () => {
  const dirs = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((dir) => dir.endsWith('-linux-gnu')) : [];
  const found = dirs.map((dir) => `/usr/lib/${dir}/webkit2gtk-4.1/MiniBrowser`).find((path) => existsSync(path));
  return found ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
};
export const MINIBROWSER = process.env.MINIBROWSER_PATH ?? findMiniBrowser();
const XVFB = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';
const DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
// setpriv (util-linux) gives the child a parent-death signal: it dies with this process even on SIGKILL.
const SETPRIV = '/usr/bin/setpriv';

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

function killAll() {
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  running.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  // web-test-runner handles SIGINT itself (it stops its browsers, so stop() below runs); these cover the rest.
  process.on('exit', killAll);
  for (const signal of ['SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      // Said, so that a run ended from outside is not a silent failure (straight to stderr:
      // web-test-runner buffers the console).
      process.stderr.write(`webkit-driver: ${signal} received: stopping Xvfb and WebKitWebDriver, ending the run\n`);
      killAll();
      process.exit(128 + (signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

function start(command, args, options = {}) {
  const [file, argv] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
    : [command, args];
  const child = spawn(file, argv, {
    stdio: ['ignore', 'ignore', 'pipe', ...(options.extraPipe ? ['pipe'] : [])],
    env: { ...process.env, ...options.env },
  });
  running.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  return { child, exited, stderr: () => stderr };
}

async function stopChild(proc) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    process.kill(proc.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(proc.child.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }, 3000);
  await proc.exited;
  clearTimeout(timer);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const describeExit = (result) =>
  result.error ? result.error.message : `exit code ${result.code}${result.signal ? `, signal ${result.signal}` : ''}`;

async function startXvfb() {
  const xvfb = start(XVFB, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    extraPipe: true,
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    xvfb.child.stdio[3].setEncoding('utf8');
    xvfb.child.stdio[3].on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.exited.then((result) =>
      reject(new Error(`Xvfb (${XVFB}) ended at start: ${describeExit(result)}\n${xvfb.stderr()}`)),
    );
    setTimeout(() => reject(new Error(`Xvfb (${XVFB}) gave no display within 10 s\n${xvfb.stderr()}`)), 10_000).unref();
  });
  return { ...xvfb, display };
}

async function waitForDriver(driver, port) {
  const start = Date.now();
  let ended;
  driver.exited.then((result) => (ended = result));
  while (Date.now() - start < 10_000) {
    if (ended)
      throw new Error(`WebKitWebDriver (${DRIVER}) ended at start: ${describeExit(ended)}\n${driver.stderr()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`WebKitWebDriver (${DRIVER}) did not answer on port ${port} within 10 s\n${driver.stderr()}`);
}

/**
 * Starts Xvfb and WebKitWebDriver; resolves with the driver's port and a stop function that ends both
 * (idempotent). Throws with the tool's own output if either fails to start.
 */
export async function startWebKitDriver() {
  for (const [what, path] of [
    ['Xvfb', XVFB],
    ['WebKitWebDriver', DRIVER],
    ['MiniBrowser', MINIBROWSER],
  ]) {
    if (!existsSync(path)) {
      throw new Error(
        `${what} not found at ${path}: apt-get install -y webkit2gtk-driver xvfb (or run without webkit in BROWSERS)`,
      );
    }
  }
  hookExit();
  const xvfb = await startXvfb();
  let driver;
  try {
    // A free port can be taken by someone else before the driver binds it: then try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // The driver passes its environment on to MiniBrowser: that is where DISPLAY matters.
      driver = start(DRIVER, [`--port=${port}`, '--host=local'], { env: { DISPLAY: xvfb.display } });
      try {
        await waitForDriver(driver, port);
        let stopped;
        const stop = () =>
          (stopped ??= (async () => {
            await stopChild(driver);
            await stopChild(xvfb);
          })());
        return { port, display: xvfb.display, stop };
      } catch (error) {
        await stopChild(driver);
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    await stopChild(xvfb);
    throw error;
  }
}
