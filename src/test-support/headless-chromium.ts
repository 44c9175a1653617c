/** Debian's chromium, headless, for browser tests of pages imagine serves on 127.0.0.1. */
import { type BrowserContext, chromium } from 'playwright-core';

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
];

/** A fresh browser on its own profile folder (which the caller removes when done). */
export function launchHeadlessChromium(
  profile: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: launchFlags,
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
}
