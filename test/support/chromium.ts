import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's chromium, headless, driven by playwright-core (the web view's tests). */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's own background traffic would go nowhere on this machine: keep it on loopback only.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
