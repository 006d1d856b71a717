import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { MwareClient } from '../../src/client/client.ts';
import type { ApiNode } from '../support/api-node.ts';
import { launchChromium } from '../support/chromium.ts';
import { startApiNode, startTestActor, TOKENS } from '../support/api-node.ts';
import { PROJECT_ROOT } from '../harness/node.ts';

/** The web view at /ui in headless Chromium (Debian's chromium, driven by playwright-core). */

const ARTIFACTS = join(PROJECT_ROOT, 'test/artifacts');
/** Colours of src/api/ui/app.css: .state-running and .state-stopped borders, .actor .error text. */
const RUNNING_GREEN = 'rgb(46, 125, 50)';
const STOPPED_GREY = 'rgb(158, 158, 158)';
const ERROR_RED = 'rgb(183, 28, 28)';

let n: ApiNode;
let browser: Browser;
before(async () => {
  n = await startApiNode();
  browser = await launchChromium();
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

    // A stopped actor changes class and colour (its left border: green while running, grey once stopped).
    const sales = row('/domains/sales.test.rootdomain.ru');
    assert.deepEqual(await look(sales), { state: 'running', border: RUNNING_GREEN });
    await new MwareClient({ url: n.url, token: TOKENS.admin }).stop('/domains/sales.test.rootdomain.ru');
    await page.waitForSelector(
      '.actor[data-path="/domains/sales.test.rootdomain.ru"][data-state="stopped"]',
      { timeout: 10_000 },
    );
    assert.deepEqual(await look(sales), { state: 'stopped', border: STOPPED_GREY });

    // An actor that fails shows its last error, as the API reports it to an admin.
    const crashing = await startTestActor(n, 'ui-crash');
    await page.waitForSelector(`.actor[data-path="${crashing}"]`, { timeout: 10_000 });
    assert.equal(await row(crashing).locator('.error').textContent(), '');
    const crash = await n.call(
      `/api/v1/actors${crashing}/messages?reply=true`,
      post({ type: 'throw', payload: 'the test actor fails on purpose' }),
    );
    assert.equal(crash.status, 500, await crash.text());
    // The page reads with a token without `admin`: it shows that the actor failed and its error's code, not the
    // failure's own words, which only an admin sees.
    const lastError = async (token: string) =>
      (
        (await (await n.call(`/api/v1/actors${crashing}`, { token })).json()) as {
          node: { lastError?: { code: string; message: string } };
        }
      ).node.lastError;
    assert.match((await lastError(TOKENS.admin))?.message ?? '', /the test actor fails on purpose/);
    const plain = await lastError(TOKENS.reader);
    assert.equal(plain?.code, 'MW_ERR_INTERNAL');
    assert.doesNotMatch(plain?.message ?? '', /on purpose/);
    const message = plain?.message;
    const shown = row(crashing).locator('.error');
    await page.waitForFunction(
      ([el, text]) => (el as unknown as DomElement | null)?.textContent === text,
      [await shown.elementHandle(), `last error: ${message}`] as const,
      { timeout: 10_000 },
    );
    assert.equal(
      await shown.evaluate((node) => {
        const el = node as unknown as DomElement;
        return el.ownerDocument.defaultView.getComputedStyle(el).color;
      }),
      ERROR_RED,
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

  it('lists the cluster’s nodes, opens an actor’s details on click, and charts the node’s counters as they move', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${n.url}/ui#token=${TOKENS.reader}`);
    await page.waitForSelector('body[data-loaded="true"]');
    // Every node of the cluster (here the one node), its group, the active one highlighted.
    const item = page.locator('.node-item[data-node="mware1"]');
    await item.waitFor({ timeout: 10_000 });
    assert.deepEqual(
      [await item.getAttribute('data-role'), await item.getAttribute('data-group')],
      ['active', '11120'],
    );
    assert.match((await item.getAttribute('class')) ?? '', /\brole-active\b/);

    // An actor that crashed: its details show the restart, when it happened, and its last error as the token sees it.
    const crashing = await startTestActor(n, 'ui-details');
    const crash = () =>
      n.call(
        `/api/v1/actors${crashing}/messages?reply=true`,
        post({ type: 'throw', payload: 'details on purpose' }),
      );
    assert.equal((await crash()).status, 500);
    await page.waitForSelector(`.actor[data-path="${crashing}"][data-restarts="1"]`, { timeout: 10_000 });
    assert.equal(await page.isVisible('#details'), false);
    await page.click(`.actor[data-path="${crashing}"]`);
    await page.waitForSelector(`#details:not([hidden])[data-path="${crashing}"]`, { timeout: 10_000 });
    const field = (f: string) => page.locator(`#details dd[data-field="${f}"]`).textContent();
    assert.equal(await field('restarts'), '1');
    assert.equal(await field('kind'), 'test-counter');
    assert.equal(await field('mode'), 'in-memory');
    assert.equal(await field('mailbox'), '0');
    assert.equal(await field('supervisor'), '/domains');
    assert.equal(await field('restart'), 'permanent');
    assert.match((await field('restart-times')) ?? '', /^\d{4}-\d\d-\d\dT/);
    const lastError = (await field('last-error')) ?? '';
    assert.match(lastError, /^MW_ERR_INTERNAL: /);
    assert.doesNotMatch(lastError, /on purpose/, 'a reader does not see the failure’s own words');
    // The panel follows its actor: a second crash shows at once.
    assert.equal((await crash()).status, 500);
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Doc).document.querySelector('#details dd[data-field="restarts"]')
          ?.textContent === '2',
      undefined,
      { timeout: 10_000 },
    );

    // The node's charts: drawn, and moving when messages flow.
    const chart = (m: string) => page.locator(`.node-charts[data-node="mware1"] .chart[data-metric="${m}"]`);
    await chart('messages').waitFor({ timeout: 10_000 });
    for (const m of ['messages', 'restarts', 'mailbox', 'leadership'])
      assert.equal(await chart(m).locator('svg polyline').count(), 1, m);
    const points = () => chart('messages').locator('polyline').getAttribute('points');
    await poll(
      async () => Number(await chart('restarts').getAttribute('data-last')) >= 2,
      'restarts charted',
    );
    const before = await points();
    const client = new MwareClient({ url: n.url, token: TOKENS.admin });
    let flowing = true;
    const flow = (async () => {
      while (flowing) await client.ask(crashing, 'inc', 1);
    })();
    try {
      await poll(
        async () => Number(await chart('messages').getAttribute('data-last')) > 10,
        'messages/s above 10 while messages flow',
      );
    } finally {
      flowing = false;
      await flow;
    }
    assert.notEqual(await points(), before, 'the messages/s line moved');
    assert.ok(Number(await chart('messages').getAttribute('data-samples')) >= 2);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'ui-cluster.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });

  it('shows another node’s tree when it is selected, and an unreachable node with its error', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The cluster as a 3-node cluster's node would answer (this node passive, a peer active, one unreachable): the
    // real answer of this node, with two more nodes added.
    await page.route(/\/api\/v1\/tree\?scope=cluster$/, async (route) => {
      const real = (await (await route.fetch()).json()) as {
        cluster: string;
        nodes: Record<string, unknown>[];
      };
      const me = real.nodes[0] ?? {};
      const peerTree = {
        path: '/',
        id: '',
        kind: 'root',
        mode: 'supervisor',
        state: 'running',
        restarts: 0,
        restartTimes: [],
        mailbox: 0,
        children: [
          {
            path: '/domains',
            id: 'domains',
            kind: 'domain-supervisor',
            mode: 'supervisor',
            state: 'running',
            restarts: 0,
            restartTimes: [],
            mailbox: 0,
            children: [
              {
                path: '/domains/peer-only.ru',
                id: 'peer-only.ru',
                kind: 'domain',
                mode: 'in-memory',
                state: 'running',
                restarts: 3,
                restartTimes: [Date.UTC(2026, 0, 2, 3, 4, 5)],
                mailbox: 7,
              },
            ],
          },
        ],
      };
      await route.fulfill({
        json: {
          cluster: real.cluster,
          nodes: [
            { ...me, role: 'passive' },
            {
              name: 'peer',
              group: 9,
              role: 'active',
              state: 'active',
              self: false,
              tree: peerTree,
              stats: me.stats,
            },
            {
              name: 'gone',
              group: 9,
              role: 'unknown',
              state: null,
              self: false,
              error: { code: 'MW_ERR_PEER_LOST', message: 'gone did not answer within 2000 ms' },
            },
          ],
        },
      });
    });
    await page.goto(`${n.url}/ui#token=${TOKENS.reader}`);
    await page.waitForSelector('.node-item[data-node="peer"][data-role="active"]', { timeout: 10_000 });
    assert.match(
      (await page.locator('.node-item[data-node="gone"]').textContent()) ?? '',
      /unreachable: gone did not answer/,
    );
    assert.match(
      (await page.locator('.node-item[data-node="gone"]').getAttribute('class')) ?? '',
      /unreachable/,
    );
    assert.equal(await page.isVisible('#remote-tree'), false, 'this node’s own tree first');
    await page.click('.node-item[data-node="peer"]');
    await page.waitForSelector('#remote-tree[data-node="peer"]:not([hidden])');
    assert.equal(await page.isVisible('#tree'), false);
    assert.match((await page.textContent('#tree-node')) ?? '', /peer/);
    await page.click('#remote-tree .actor[data-path="/domains/peer-only.ru"]');
    await page.waitForSelector('#details:not([hidden])[data-node="peer"][data-path="/domains/peer-only.ru"]');
    const field = (f: string) => page.locator(`#details dd[data-field="${f}"]`).textContent();
    assert.deepEqual(
      [await field('restarts'), await field('mailbox'), await field('restart-times')],
      ['3', '7', '2026-01-02T03:04:05.000Z'],
    );
    // Charts for every node that reported counters; none for the unreachable one.
    await page.waitForSelector('.node-charts[data-node="peer"]');
    assert.equal(await page.locator('.node-charts[data-node="gone"]').count(), 0);
    // Back to this node: its live tree again.
    await page.click('.node-item.self');
    await page.waitForSelector('#tree:not([hidden])');
    assert.deepEqual(errors, []);
  });

  it('asks for a token when it has none, and refuses a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${n.url}/ui`);
    await page.waitForSelector('#token-form:not([hidden])');
    assert.doesNotMatch((await page.textContent('#token-form .hint')) ?? '', /refused/);
    await page.fill('#token-input', 'wrong-token-0123456789');
    // Submitting reloads the page; the refusal is written once the reloaded page has asked the API.
    await page.click('#token-form button');
    const hint = page.locator('#token-form .hint');
    await poll(
      async () => /refused/.test((await hint.textContent()) ?? ''),
      'the refusal on the reloaded page',
    );
    assert.equal(await page.isVisible('#token-form'), true);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as Window).sessionStorage.getItem('mware-token')),
      null,
      'the wrong token is dropped',
    );
  });
});

/** The state an actor row shows, by its class and by the colour of its left border. */
async function look(row: Locator): Promise<{ state: string | undefined; border: string }> {
  return row.evaluate((node) => {
    const el = node as unknown as DomElement;
    return {
      state: [...el.classList].find((c) => c.startsWith('state-'))?.slice('state-'.length),
      border: el.ownerDocument.defaultView.getComputedStyle(el).borderLeftColor,
    };
  });
}

/** The few DOM members used in page functions (the project's TypeScript has no DOM library). */
interface DomElement {
  textContent: string | null;
  classList: Iterable<string>;
  ownerDocument: {
    defaultView: { getComputedStyle(el: DomElement): { color: string; borderLeftColor: string } };
  };
}

/** The page's document, as far as used here. */
interface Doc {
  document: { querySelector(sel: string): { textContent: string | null } | null };
}

/** The browser's globals used here (the project's TypeScript has no DOM library). */
interface Window {
  sessionStorage: { getItem(key: string): string | null };
}

/** Polls `ok` (a locator re-resolves across the reload a token form submits) until it holds, failing after 10 s. */
async function poll(ok: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not seen within 10 s: ${what}`);
}

const post = (body: unknown): RequestInit & { token: string } => ({
  method: 'POST',
  body: JSON.stringify(body),
  token: TOKENS.admin,
});
