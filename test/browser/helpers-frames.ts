// Same-origin iframes as separate pages: each has its own realm (its own copies of the bundles, its
// own globalThis) while sharing cookies, BroadcastChannel and Web Locks with the others, as tabs do.

const frames: HTMLIFrameElement[] = [];

/** Loads `body` (HTML, scripts included) into a new same-origin iframe and resolves with its window. */
export async function openFrame<W = Window>(body: string): Promise<W & Window> {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width: 400px; height: 200px';
  frame.srcdoc = `<!doctype html><html><head></head><body>${body}</body></html>`;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  return frame.contentWindow as W & Window;
}

/** Removes every frame opened by the test. */
export function closeFrames(): void {
  for (const frame of frames.splice(0)) frame.remove();
}

/** Resolves once `predicate` holds (polled every 10 ms), or rejects after `timeout` ms. */
export async function waitFor(predicate: () => boolean, message: string, timeout = 3000): Promise<number> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeout) throw new Error(`Timed out after ${timeout} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

/** Script that records console.warn calls in `window.warnings`, to put before the bundles. */
export const captureWarnings = `<script>
  window.warnings = [];
  const warn = console.warn;
  console.warn = (...args) => { window.warnings.push(args.map(String).join(' ')); warn.apply(console, args); };
</script>`;
