import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../harness/node.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import { launchChromium } from '../support/chromium.ts';
import { FarmScript, hostStatus, startFsStandIn } from '../support/fs-stand-in.ts';

/**
 * The web view's FreeSWITCH farm panel in headless Chromium (Debian's chromium, driven by playwright-core): against
 * a real node whose `/freeswitch` is a stand-in farm (test/support/fs-stand-in.ts) whose migration advances one
 * record per read of the farm — so the page, polling every second, shows it phase by phase, call by call — and on a
 * node without a farm.
 */

const ARTIFACTS = join(PROJECT_ROOT, 'test/artifacts');

let n: ApiNode;
let bare: ApiNode;
let browser: Browser;
let script: FarmScript;
before(async () => {
  [n, bare, browser] = await Promise.all([startApiNode(), startApiNode(), launchChromium()]);
  script = new FarmScript([
    hostStatus('fs01', { channels: 42, sessions: 21, max_sessions: 2000 }),
    hostStatus('fs02', { paused: true, channels: 3, sessions: 2 }),
    hostStatus('fs03', { state: 'down', error: 'ESL connection refused', idle_cpu: null }),
  ]);
  await startFsStandIn(n, script);
});
after(async () => {
  await browser?.close();
  await n?.stop();
  await bare?.stop();
});

async function open(node: ApiNode): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${node.url}/ui#token=${TOKENS.reader}`);
  await page.waitForSelector('body[data-loaded="true"]');
  return { page, errors };
}

describe('the web view’s FreeSWITCH farm panel', () => {
  it('shows each host with its state, live channels, sessions and pause', async () => {
    const { page, errors } = await open(n);
    await page.waitForSelector('#fs-section:not([hidden]) tr.fs-host[data-host="fs03"]', { timeout: 10_000 });
    const host = (name: string) => page.locator(`tr.fs-host[data-host="${name}"]`);
    assert.equal(await host('fs01').getAttribute('data-state'), 'up');
    assert.equal(await host('fs01').locator('td.channels').textContent(), '42');
    assert.equal(await host('fs01').locator('td.sessions').textContent(), '21/2000');
    assert.equal(await host('fs02').getAttribute('data-paused'), 'true');
    assert.equal(await host('fs02').locator('td.paused').textContent(), 'paused');
    assert.equal(await host('fs03').getAttribute('data-state'), 'down');
    assert.equal(await host('fs03').locator('td.note').textContent(), 'ESL connection refused');
    assert.match((await page.textContent('#fs-migration')) ?? '', /no migration in progress/);
    assert.match((await page.textContent('#fs-recent')) ?? '', /no migration yet/);
    // The channel count follows the host as it changes (polled every second).
    const fs01 = script.hosts.get('fs01');
    if (fs01) fs01.status = { ...fs01.status, channels: 44 };
    await page.waitForSelector('tr.fs-host[data-host="fs01"] td.channels:text-is("44")', { timeout: 5_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('follows a migration call by call as it happens, then keeps its result and lists it', async () => {
    const { page, errors } = await open(n);
    await page.waitForSelector('tr.fs-host[data-host="fs01"]', { timeout: 10_000 });
    const started = await n.call('/api/v1/freeswitch/hosts/fs01/drain', {
      method: 'POST',
      body: JSON.stringify({ to: ['fs02'] }),
    });
    assert.equal(started.status, 200, await started.clone().text());
    const { id } = (await started.json()) as { id: string };
    const active = `#fs-active[data-id="${id}"]`;
    // One record further at each poll: every phase is on view in turn, the calls' outcomes with it.
    await page.waitForSelector(`${active}[data-phase="handing-over"][data-running="true"]`, {
      timeout: 10_000,
    });
    assert.equal(await page.locator('tr.fs-call[data-call="call-a"]').getAttribute('data-outcome'), 'handed');
    await page.waitForSelector(`${active}[data-phase="recovering"]`, { timeout: 5_000 });
    assert.equal(
      await page.locator('tr.fs-call[data-call="call-a"]').getAttribute('data-outcome'),
      'recreated',
    );
    assert.equal(await page.locator('tr.fs-call[data-call="call-c"]').getAttribute('data-outcome'), 'handed');
    assert.match((await page.textContent(active)) ?? '', /fs02: \+OK 4 session\(s\) recovered in total/);
    await page.waitForSelector(`${active}[data-phase="confirming"]`, { timeout: 5_000 });
    assert.equal(await page.locator('tr.fs-call[data-call="call-c"]').getAttribute('data-outcome'), 'lost');
    assert.equal(
      await page.locator('tr.fs-call[data-call="call-c"] td.cause').textContent(),
      'RECOVERY_ON_TIMER_EXPIRE',
    );
    // Finished: the final record stays on view, and the list has it.
    await page.waitForSelector(`${active}[data-phase="done"][data-running="false"]`, { timeout: 5_000 });
    assert.deepEqual(await page.locator(`${active} .fs-counts span`).allTextContents(), [
      'planned 0',
      'handed 0',
      'recreated 0',
      'moved 2',
      'lost 1',
      'failed 0',
    ]);
    const row = page.locator(`tr.fs-recent[data-id="${id}"]`);
    await row.waitFor({ timeout: 5_000 });
    assert.equal(await row.locator('td.kind').textContent(), 'drain');
    assert.equal(await row.locator('td.moved').textContent(), '2/3');
    assert.equal(await row.locator('td.lost').textContent(), '1');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-farm.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('hides the panel on a node whose role has no farm, asking once', async () => {
    const asked: string[] = [];
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/v1/freeswitch')) asked.push(path);
    });
    await page.goto(`${bare.url}/ui#token=${TOKENS.reader}`);
    await page.waitForSelector('body[data-loaded="true"]');
    // Past two poll periods: asked once, answered 404, not asked again.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual(asked, ['/api/v1/freeswitch']);
    assert.equal(await page.isHidden('#fs-section'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
