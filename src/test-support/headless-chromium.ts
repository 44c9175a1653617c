/**
 * Debian's chromium, headless, for browser tests of pages imagine serves on 127.0.0.1.
 *
 * The test starts the browser process itself and drives it over CDP, so that it can end it for certain:
 * Chromium's own shutdown (`browser.close()`, `context.close()`) now and then never finishes on a loaded
 * machine — a known upstream hang that once held a whole CI run's teardown — while a SIGKILL to the
 * browser's process group and the wait for its exit always do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

const chromiumPath = '/usr/bin/chromium';

// Loopback only: every host name fails to resolve, so the browser cannot reach beyond 127.0.0.1. The rest
// keep Chromium from calling home at start (refused here, many at a time).
const launchFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  // Scrollbars drawn over the page, as on a phone (and as Playwright's own launch does): a classic 15 px
  // scrollbar narrows the layout, and a full-page screenshot then cuts that much off the right edge.
  '--hide-scrollbars',
];

/** A running headless Chromium: a fresh context to drive, and `stop` to end the browser and remove its profile. */
export interface HeadlessChromium {
  context: BrowserContext;
  stop(): Promise<void>;
}

/** Starts a fresh browser on its own new profile folder. */
export async function startHeadlessChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<HeadlessChromium> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-chromium-'));
  // Its own process group, so one signal reaches the renderers and helpers too.
  const child = spawn(
    chromiumPath,
    [...launchFlags, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone between the check and the signal.
      }
      await exited;
    }
    fs.rmSync(profile, { recursive: true, force: true });
  };
  let browser: Browser;
  try {
    browser = await chromium.connectOverCDP(await devToolsEndpoint(child));
  } catch (error) {
    await stop();
    throw error;
  }
  const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
  return { context, stop };
}

/** The websocket address Chromium prints on stderr once it listens for CDP. */
function devToolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let printed = '';
    const onData = (chunk: Buffer): void => {
      printed += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(printed);
      if (!match?.[1]) return;
      // Keep reading what it prints afterwards: a full pipe would block the browser.
      child.stderr?.off('data', onData);
      child.stderr?.resume();
      resolve(match[1]);
    };
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`chromium exited (${signal ?? code}) before listening: ${printed.slice(-2000)}`)),
    );
  });
}
