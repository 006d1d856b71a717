import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../harness/node.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, startTestActor, TOKENS } from '../support/api-node.ts';
import { launchChromium } from '../support/chromium.ts';

/** The web view's system state panel in headless Chromium, against a real node (one actor made to crash). */

const ARTIFACTS = join(PROJECT_ROOT, 'test/artifacts');

let n: ApiNode;
let browser: Browser;
before(async () => {
  [n, browser] = await Promise.all([startApiNode(), launchChromium()]);
});
after(async () => {
  await browser?.close();
  await n?.stop();
});

describe('the web view’s system state panel', () => {
  it('lists the deviations of the node (a crashed actor) with their severity and since, and says healthy when there are none', async () => {
    const path = await startTestActor(n, 'crashy');
    const crash = await n.call(`/api/v1/actors${path}/messages?reply=true`, {
      method: 'POST',
      body: JSON.stringify({ type: 'throw', payload: 'boom' }),
    });
    assert.equal(crash.status, 500);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${n.url}/ui#token=${TOKENS.reader}`);
    const row = page.locator(`tr.deviation[data-kind="actor-restarting"][data-source="${path}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.match(
      (await row.textContent()) ?? '',
      /warning.*mware1@main.*actor-restarting.*is restarting or restarted/,
    );
    assert.equal(await page.getAttribute('#state-summary', 'data-healthy'), 'false');
    assert.match(
      (await page.textContent('#state-summary')) ?? '',
      /deviations? · 1 node · collected by mware1/,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-system-state.png'), fullPage: true });

    // A healthy cluster, as a node would answer it.
    const healthy = await browser.newPage();
    await healthy.route('**/api/monitor/v1/system/state', (route) =>
      route.fulfill({
        json: {
          cluster: 'apitest',
          collected_by: 'mware1',
          collected_at: new Date().toISOString(),
          healthy: true,
          deviations: [],
          nodes: [{ name: 'mware1', site: 'main', group: 11120, role: 'active', reachable: true }],
        },
      }),
    );
    await healthy.goto(`${n.url}/ui#token=${TOKENS.reader}`);
    await healthy.waitForSelector('#state-summary[data-healthy="true"]');
    assert.match(
      (await healthy.textContent('#state-summary')) ?? '',
      /^healthy · 1 node · collected by mware1/,
    );
    assert.equal(await healthy.locator('tr.deviation').count(), 0);
    assert.deepEqual(errors, []);
  });
});
