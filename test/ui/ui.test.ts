import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { MwareClient } from '../../src/client/client.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import { PROJECT_ROOT } from '../harness/node.ts';

/** The web view at /ui in headless Chromium (Debian's chromium, driven by playwright-core). */

const ARTIFACTS = join(PROJECT_ROOT, 'test/artifacts');
const CHROMIUM = '/usr/bin/chromium';

let n: ApiNode;
let browser: Browser;
before(async () => {
  n = await startApiNode();
  browser = await chromium.launch({
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
});
after(async () => {
  await browser?.close();
  await n?.stop();
});

describe('the web view', () => {
  it('draws the live tree, and shows an actor restart as it happens', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${n.url}/ui#token=${TOKENS.reader}`);
    await page.waitForSelector('body[data-loaded="true"]');
    const row = (path: string) => page.locator(`.actor[data-path="${path}"]`);
    for (const path of [
      '/cluster',
      '/api',
      '/domains',
      '/domains/rootdomain.ru',
      '/domains/sales.test.rootdomain.ru',
      '/mutexes',
    ]) {
      assert.equal(await row(path).getAttribute('data-state'), 'running', path);
    }
    assert.equal(
      await page.locator('.member.active').getAttribute('data-member'),
      'mware1',
      'the active instance is highlighted',
    );
    await page.waitForSelector('#connection.connected');

    await new MwareClient({ url: n.url, token: TOKENS.admin }).restart('/domains/test.rootdomain.ru');
    await page.waitForSelector(
      '.actor[data-path="/domains/test.rootdomain.ru"][data-restarts="1"][data-state="running"]',
      { timeout: 10_000 },
    );
    assert.match((await row('/domains/test.rootdomain.ru').textContent()) ?? '', /↻ 1/);

    await new MwareClient({ url: n.url, token: TOKENS.admin }).stop('/domains/sales.test.rootdomain.ru');
    await page.waitForSelector(
      '.actor[data-path="/domains/sales.test.rootdomain.ru"][data-state="stopped"]',
      { timeout: 10_000 },
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui.png'), fullPage: true });
    assert.deepEqual(errors, []);
    assert.ok(
      requests.every((u) => u.startsWith(n.url)),
      `requests left the node: ${requests.filter((u) => !u.startsWith(n.url)).join(', ')}`,
    );
    assert.ok(
      requests.every((u) => !u.includes(TOKENS.reader)),
      'the token travelled in a URL',
    );
  });

  it('asks for a token when it has none, and refuses a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${n.url}/ui`);
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', 'wrong-token-0123456789');
    await page.click('#token-form button');
    await page.waitForSelector('#token-form:not([hidden])');
    assert.match((await page.textContent('#token-form .hint')) ?? '', /refused/);
  });
});
