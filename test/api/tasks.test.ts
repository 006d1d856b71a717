import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { RunRecord } from '../../actors/svctasks/ledger.ts';
import type { TaskDetail, TaskView } from '../../actors/svctasks/protocol.ts';
import { tempDir } from '../harness/temp.ts';
import { expectError } from '../support/api-errors.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';

/**
 * The service-task API (`/api/v1/tasks`) through real HTTP, against a real node in this process whose runner is
 * `/bin/sh`: a task from the tasks file, tasks made over the API, run-now with its outcome and output, overlap refused,
 * and each mistake answered with its code.
 */

const DOMAIN = 'test.rootdomain.ru';
const dir = tempDir('tasks-api');
let n: ApiNode;

before(async () => {
  const file = join(dir.path, 'tasks.yaml');
  writeFileSync(
    file,
    stringify([{ id: 'from-file', domain: DOMAIN, intervalsec: 3600, svcscriptcode: 'echo file' }]),
  );
  n = await startApiNode({
    role: { svc_tasks: { runner: { command: ['/bin/sh'] }, file, deadline_ms: 2_000 } },
  });
});
after(async () => {
  await n?.stop();
  dir.cleanup();
});

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}
const post = (path: string, body?: unknown, token: string = TOKENS.admin) =>
  n.call(path, { method: 'POST', ...(body !== undefined && { body: JSON.stringify(body) }), token });

describe('service tasks API', () => {
  it('lists the file’s task with its next firing, for any token; creating needs admin', async () => {
    const { tasks } = await json<{ tasks: TaskView[] }>(
      await n.call(`/api/v1/tasks/${DOMAIN}`, { token: TOKENS.reader }),
    );
    assert.deepEqual(
      tasks.map((t) => [t.id, t.source, t.sitemode]),
      [['from-file', 'file', 'any']],
    );
    assert.ok((tasks[0]?.next_at ?? 0) > Date.now());
    await expectError(
      await post(`/api/v1/tasks/${DOMAIN}`, { id: 'x', svcscriptcode: 'x' }, TOKENS.reader),
      403,
      'MW_ERR_FORBIDDEN',
    );
  });

  it('creates a task, runs it now: outcome, duration and output tail are kept and listed', async () => {
    const v = await json<TaskView>(
      await post(`/api/v1/tasks/${DOMAIN}`, {
        id: 'hello',
        name: 'Hello',
        svcscriptcode: 'echo "hello from $MW_TASK_ID on $MW_TASK_SITE"; exit 0',
        intervalsec: 3600,
      }),
    );
    assert.equal(v.source, 'api');
    const { runs } = await json<{ runs: RunRecord[] }>(await post(`/api/v1/tasks/${DOMAIN}/hello/run-now`));
    assert.deepEqual(
      runs.map((r) => [r.status, r.site, r.trigger, r.output.trim()]),
      [['ok', 'main', 'run-now', 'hello from hello on main']],
    );
    const t = await json<TaskDetail>(await n.call(`/api/v1/tasks/${DOMAIN}/hello`));
    assert.equal(t.runs.length, 1);
    assert.equal(typeof t.runs[0]?.duration_ms, 'number');
    assert.equal(t.last_run?.status, 'ok');
  });

  it('refuses a second run-now while one runs (409 MW_ERR_TASK_OVERLAP); a failing script is a run with status failed', async () => {
    await json(
      await post(`/api/v1/tasks/${DOMAIN}`, {
        id: 'slow',
        svcscriptcode: 'sleep 0.6; exit 4',
        intervalsec: 3600,
      }),
    );
    const first = post(`/api/v1/tasks/${DOMAIN}/slow/run-now`);
    await new Promise((r) => setTimeout(r, 200));
    await expectError(await post(`/api/v1/tasks/${DOMAIN}/slow/run-now`), 409, 'MW_ERR_TASK_OVERLAP');
    const { runs } = await json<{ runs: RunRecord[] }>(await first);
    assert.deepEqual(
      runs.map((r) => [r.status, r.exit_code]),
      [['failed', 4]],
    );
  });

  it('answers mistakes with their codes: invalid task, file task read-only, unknown task, unknown domain', async () => {
    const bad = await expectError(
      await post(`/api/v1/tasks/${DOMAIN}`, {
        id: 'b',
        svcscriptcode: 'x',
        sitemode: 'first',
        intervalsec: 0,
      }),
      400,
      'MW_ERR_TASK_INVALID',
    );
    assert.match(bad.error.message, /sites: sitemode first needs at least one site/);
    assert.match(bad.error.message, /intervalsec/);
    await expectError(
      await post(`/api/v1/tasks/${DOMAIN}`, { id: 'from-file', svcscriptcode: 'x' }),
      409,
      'MW_ERR_TASK_READONLY',
    );
    await expectError(
      await n.call(`/api/v1/tasks/${DOMAIN}/from-file`, { method: 'DELETE' }),
      409,
      'MW_ERR_TASK_READONLY',
    );
    await expectError(await n.call(`/api/v1/tasks/${DOMAIN}/nope`), 404, 'MW_ERR_TASK_NOT_FOUND');
    await expectError(await n.call('/api/v1/tasks/Not_A_Domain'), 400, 'MW_ERR_BAD_REQUEST');
    await json(await n.call(`/api/v1/tasks/${DOMAIN}/hello`, { method: 'DELETE' }));
    await expectError(await n.call(`/api/v1/tasks/${DOMAIN}/hello`), 404, 'MW_ERR_TASK_NOT_FOUND');
  });

  it('the site runner takes no message from the API, not even with an admin token: script code reaches it only through a scheduler', async () => {
    const job = {
      task: 't',
      name: 't',
      domain: DOMAIN,
      site: 'main',
      firing_at: 0,
      code: 'exit 0',
      deadline_ms: 1_000,
    };
    for (const reply of ['?reply=true', ''])
      await expectError(
        await post(`/api/v1/actors/svctasks/_runner/messages${reply}`, { type: 'execute', payload: job }),
        400,
        'MW_ERR_UNKNOWN_MESSAGE',
      );
  });
});
