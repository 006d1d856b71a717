import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../harness/node.ts';
import type { ApiNode } from '../support/api-node.ts';
import { launchChromium } from '../support/chromium.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import type { ControllerNode } from '../support/controller-node.ts';
import { pgFailover, pgServer } from '../support/pg-status.ts';
import { CONTROLLER_SECRETS, startControllerNode } from '../support/controller-node.ts';

/**
 * The web view's PostgreSQL and backup panels in headless Chromium (Debian's chromium, driven by playwright-core):
 * against a real node with both controllers and no server behind them (test/support/controller-node.ts), with a
 * standby's lag fed to the page by intercepting its polls (no real standby here), and on a node without them.
 */

const ARTIFACTS = join(PROJECT_ROOT, 'test/artifacts');

let cn: ControllerNode;
let bare: ApiNode;
let browser: Browser;
before(async () => {
  cn = await startControllerNode();
  bare = await startApiNode();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await cn?.stop();
  await bare?.stop();
});

async function open(node: ApiNode): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${node.url}/ui#token=${TOKENS.reader}`);
  await page.waitForSelector('body[data-loaded="true"]');
  return { page, errors };
}

describe('the web view’s controller panels', () => {
  it('shows each replicated cluster with its servers and phase, and the backup status, with no secret', async () => {
    const { page, errors } = await open(cn.n);
    const panel = page.locator('.pg-cluster[data-cluster="general"]');
    await panel.waitFor({ timeout: 10_000 });
    assert.equal(await panel.getAttribute('data-primary'), '');
    assert.match((await panel.getAttribute('data-phase')) ?? '', /^(starting|no-primary|isolated)$/);
    for (const s of cn.servers)
      assert.match(
        (await panel.locator(`tr.server[data-server="${s}"]`).getAttribute('data-role')) ?? '',
        /^(down|unknown)$/,
      );
    assert.match((await panel.textContent()) ?? '', /no failover yet/);
    await page.waitForSelector('#backup-section:not([hidden]) dd[data-field="phase"]');
    assert.equal(await page.textContent('dd[data-field="phase"]'), 'idle');
    assert.equal(await page.textContent('dd[data-field="last-success"]'), 'never');
    const text = (await page.textContent('body')) ?? '';
    for (const secret of Object.values(CONTROLLER_SECRETS)) assert.ok(!text.includes(secret));
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('charts a standby’s lag as it moves, and lists the failover history newest first', async () => {
    const { page, errors } = await open(cn.n);
    let lag = 0;
    await page.route('**/api/v1/pg', async (route) => {
      lag += 4096;
      const history = [
        pgFailover(Date.UTC(2026, 11, 6, 10), 'db2:5441', 'db1:5441', 'switchover'),
        pgFailover(Date.UTC(2026, 11, 6, 11), 'db1:5441', 'db2:5441', 'host-lost'),
      ];
      await route.fulfill({
        json: {
          clusters: [
            {
              key: 'general',
              status: {
                key: 'general',
                phase: 'watching',
                reason: null,
                primary: 'db2:5441',
                epoch: 5,
                referee: null,
                servers: [pgServer('db1:5441', 'standby', lag), pgServer('db2:5441', 'primary')],
                history,
                last_failover: history[1],
              },
              error: null,
            },
          ],
        },
      });
    });
    const chart = page.locator(
      '.pg-cluster[data-cluster="general"] figure.chart[data-metric="lag:db1:5441"]',
    );
    // Polled every 2 s: three samples, each larger than the one before.
    await page.waitForFunction(
      () =>
        Number(
          (
            globalThis as unknown as {
              document: { querySelector(s: string): { dataset: { samples?: string } } | null };
            }
          ).document.querySelector('figure.chart[data-metric="lag:db1:5441"]')?.dataset.samples ?? 0,
        ) >= 3,
      undefined,
      { timeout: 15_000 },
    );
    const last = Number(await chart.getAttribute('data-last'));
    assert.ok(last >= 3 * 4096 && last % 4096 === 0, String(last));
    const panel = page.locator('.pg-cluster[data-cluster="general"]');
    assert.equal(await panel.getAttribute('data-phase'), 'watching');
    assert.equal(
      await panel.locator('tr.server[data-server="db2:5441"]').getAttribute('data-role'),
      'primary',
    );
    const kinds = await panel.locator('tr.failover td.kind').allTextContents();
    assert.deepEqual(kinds, ['host-lost', 'switchover']);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-controllers.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('hides both panels on a node whose role has neither controller, without errors', async () => {
    const asked: string[] = [];
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path === '/api/v1/pg' || path === '/api/v1/backup') asked.push(path);
    });
    await page.goto(`${bare.url}/ui#token=${TOKENS.reader}`);
    await page.waitForSelector('body[data-loaded="true"]');
    // Past two poll periods: each facade was asked once, answered 404, and is not asked again.
    await new Promise((r) => setTimeout(r, 4_500));
    assert.deepEqual(asked.sort(), ['/api/v1/backup', '/api/v1/pg']);
    assert.equal(await page.isHidden('#pg-section'), true);
    assert.equal(await page.isHidden('#backup-section'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
