import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MigrationRecord } from '../../actors/freeswitch/protocol.ts';
import { summarizeMigration } from '../../actors/freeswitch/protocol.ts';
import { MwareClient } from '../../src/client/client.ts';
import type { ShellContext } from '../../src/shell/command.ts';
import {
  migrationCalls,
  renderCalls,
  renderMigration,
  renderMigrations,
} from '../../src/shell/freeswitch-render.ts';
import { complete, runLine, runOnce } from '../../src/shell/shell.ts';
import { style } from '../../src/shell/style.ts';
import type { ApiNode } from '../support/api-node.ts';
import { startApiNode, TOKENS } from '../support/api-node.ts';
import {
  channel,
  FarmScript,
  hostStatus,
  startFsStandIn,
  threeCallMigration,
} from '../support/fs-stand-in.ts';

/**
 * The shell's FreeSWITCH commands: run as `mware shell -c` runs them (runOnce, plain output) and as the interactive
 * shell runs them on a terminal (runLine with a terminal's context: the live view redraws in place), against a real
 * node whose `/freeswitch` is a stand-in farm (test/support/fs-stand-in.ts) whose migrations advance one record per
 * read; and their rendering of fixed answers.
 */

let n: ApiNode;
let bare: ApiNode;
let script: FarmScript;

before(async () => {
  [n, bare] = await Promise.all([startApiNode(), startApiNode()]);
  script = new FarmScript([hostStatus('fs01', { channels: 2 }), hostStatus('fs02'), hostStatus('fs03')]);
  await startFsStandIn(n, script);
});
after(async () => {
  await n?.stop();
  await bare?.stop();
});
beforeEach(() => {
  const fs01 = script.hosts.get('fs01');
  if (fs01)
    fs01.channels = [
      channel('a-1', { partner: 'a-2' }),
      channel('a-2', { direction: 'outbound', partner: 'a-1' }),
    ];
  const fs03 = script.hosts.get('fs03');
  if (fs03) fs03.channels = 'crash';
});

const client = (token: string = TOKENS.admin) =>
  new MwareClient({ url: n.url, token, timeoutMs: 10_000, channel: false });

async function shell(
  node: ApiNode,
  line: string,
  token: string = TOKENS.admin,
): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const c = new MwareClient({ url: node.url, token, timeoutMs: 10_000, channel: false });
  const code = await runOnce(c, line, sink, false);
  c.close();
  return { code, out };
}

/** The interactive shell's context on a terminal 40 rows high; `onLine` sees every line written. */
function terminal(onLine: (l: string, ctx: ShellContext) => void = () => undefined) {
  const lines: string[] = [];
  const ac = new AbortController();
  const ctx: ShellContext = {
    client: client(),
    cwd: '/',
    style: style(false),
    signal: ac.signal,
    terminalRows: () => 40,
    out: (l) => {
      lines.push(l);
      onLine(l, ctx);
    },
  };
  return { ctx, lines, ac };
}

const plain = style(false);
const ESC = String.fromCharCode(27);

/** Reads the farm until the stand-in's migration in progress has played to its end. */
async function playOut(): Promise<void> {
  const c = client();
  while (script.active) await c.freeswitchMigrations();
  c.close();
}

describe('calls in the shell', () => {
  it('calls: a row per channel of every host, and the host whose actor does not answer', async () => {
    const r = await shell(n, 'calls', TOKENS.reader);
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /^HOST\s+UUID\s+DIRECTION\s+STATE\s+CALLER → CALLEE\s+DOMAIN\s+PARTNER\s+CONFERENCE$/m,
    );
    assert.match(
      r.out,
      /^fs01\s+a-1\s+inbound\s+CS_EXECUTE\s+1001 → 2002\s+test\.rootdomain\.ru\s+a-2\s+-$/m,
    );
    assert.match(r.out, /^fs01\s+a-2\s+outbound\s+/m);
    assert.match(r.out, /^fs03 {2}not answering: MW_ERR_ACTOR_CRASHED: /m);
    assert.match(r.out, /^2 channels on 2 hosts$/m);
  });

  it('calls HOST: that host only; an unknown host or a role without a farm fails with its code', async () => {
    const one = await shell(n, 'calls fs02');
    assert.equal(one.code, 0, one.out);
    assert.equal(one.out.trim(), '0 channels on 1 host');
    const unknown = await shell(n, 'calls fs09');
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.out,
      /MW_ERR_FS_UNKNOWN_HOST: no FreeSWITCH host "fs09" \(known: fs01, fs02, fs03\)/,
    );
    const none = await shell(bare, 'calls');
    assert.equal(none.code, 1);
    assert.match(none.out, /MW_ERR_FS_NOT_CONFIGURED/);
  });
});

describe('migrate and drain in the shell', () => {
  it('migrate HOST TO: follows the migration record by record, then fails (exit 1) when a call was lost', async () => {
    const r = await shell(n, 'migrate fs01 fs02');
    assert.equal(r.code, 1, r.out);
    assert.deepEqual(script.requests.at(-1), { kind: 'migrate', host: 'fs01', to: ['fs02'] });
    // Piped: the header each time the phase or the counts change, in order, then the final record in full.
    const phases = [...r.out.matchAll(/^migrate fs01 → fs02 {2}\S+ {2}phase (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(phases, ['planning', 'handing-over', 'recovering', 'confirming', 'done']);
    assert.match(
      r.out,
      /^ {2}3 calls: planned 3 {2}handed 0 {2}recreated 0 {2}moved 0 {2}lost 0 {2}failed 0$/m,
    );
    assert.match(
      r.out,
      /^ {2}3 calls: planned 0 {2}handed 0 {2}recreated 0 {2}moved 2 {2}lost 1 {2}failed 0 {2}\(re-created in 640 ms/m,
    );
    assert.match(r.out, /^ {2}fs02: \+OK 4 session\(s\) recovered in total in 35 ms$/m);
    // A line per call each time it changes: call-a handed, re-created, moved.
    const callA = [...r.out.matchAll(/^ {2}call-a\s+(\d\/2 bridged)\s+(\S+)\s+(\S+)/gm)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]}`,
    );
    assert.deepEqual(callA.slice(0, 4), [
      '0/2 bridged - planned',
      '0/2 bridged fs02 handed',
      '2/2 bridged fs02 recreated',
      '2/2 bridged fs02 moved',
    ]);
    assert.match(r.out, /^ {2}call-c\s+1\/1\s+fs02\s+lost\s+RECOVERY_ON_TIMER_EXPIRE$/m);
    assert.match(
      r.out,
      /MW_ERR_FS_MIGRATION_UNSUCCESSFUL: migrate fs01 ended; 2 of 3 calls moved, 1 lost, 0 failed/,
    );
  });

  it('drain HOST: every call moved, exit 0', async () => {
    const saved = script.frames;
    script.frames = (kind, host, to, id) => {
      const frames = threeCallMigration({
        id,
        kind,
        source: host,
        allowed: to,
        epoch: script.epoch,
        target: 'fs03',
      });
      const last = frames.at(-1) as MigrationRecord;
      last.calls = last.calls.map((c) => ({ ...c, outcome: 'moved', cause: null }));
      return frames;
    };
    try {
      const r = await shell(n, 'drain fs02');
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(script.requests.at(-1), { kind: 'drain', host: 'fs02', to: [] });
      assert.match(r.out, /^drain fs02 → any {2}\S+ {2}phase done/m);
      assert.match(r.out, /^drain fs02: all 3 calls moved$/m);
    } finally {
      script.frames = saved;
    }
  });

  it('on a terminal the view is redrawn in place at every poll, the last frame complete', async () => {
    const { ctx, lines } = terminal();
    assert.equal(await runLine('migrate fs01', ctx), false);
    const text = lines.join('\n');
    // Cursor back N lines to their start, clear to the end of the screen.
    const redraw = `${ESC}\\[(\\d+)F${ESC}\\[J`;
    const redraws = text.match(new RegExp(redraw, 'g')) ?? [];
    // Five records read (planning … done): drawn once, then redrawn four times.
    assert.equal(redraws.length, 4, text);
    // Each redraw moves back over exactly the lines of the frame before it.
    const frames: string[][] = [];
    for (const l of lines.slice(1)) {
      if (new RegExp(`^(${redraw})?migrate fs01`).test(l)) frames.push([]);
      frames.at(-1)?.push(l);
    }
    for (let i = 1; i < frames.length; i++) {
      const back = Number(new RegExp(`^${redraw}`).exec(frames[i]?.[0] ?? '')?.[1]);
      const drawn = frames[i - 1]?.filter((l) => !/^MW_ERR|^migrate fs01:/.test(l)).length;
      assert.equal(back, drawn, `frame ${i}`);
    }
    assert.match(frames.at(-1)?.[0] ?? '', /phase done/);
  });

  it('Ctrl-C stops watching, not the migration', async () => {
    let aborted = false;
    const { ctx, lines, ac } = terminal((l) => {
      if (!aborted && /phase planning/.test(l)) {
        aborted = true;
        ac.abort();
      }
    });
    assert.equal(await runLine('migrate fs03', ctx), true);
    assert.match(lines.at(-1) ?? '', /^stopped watching; migration m\d+-fs03 goes on/);
    const active = script.active;
    assert.equal(active?.source, 'fs03');
    assert.notEqual(active?.phase, 'done');
    // It is still there to be followed, and ends as it would have.
    const r = await shell(n, `migration ${active?.id}`);
    assert.equal(r.code, 0, r.out);
    await playOut();
  });

  it('refuses a second migration of a host under way, and unknown hosts, with their codes', async () => {
    script.start('migrate', 'fs02', []);
    const refused = await shell(n, 'drain fs02');
    assert.equal(refused.code, 1);
    assert.match(refused.out, /MW_ERR_FS_MIGRATION_REFUSED: a migration of fs02 is already under way/);
    await playOut();
    const unknown = await shell(n, 'migrate fs01 fs09');
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /MW_ERR_FS_UNKNOWN_HOST/);
    const usage = await shell(n, 'drain');
    assert.equal(usage.code, 1);
    assert.match(usage.out, /usage: drain HOST \[TO…\]/);
    const forbidden = await shell(n, 'drain fs01', TOKENS.reader);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.out, /MW_ERR_FORBIDDEN/);
  });
});

describe('migrations and migration ID in the shell', () => {
  it('migrations lists the finished ones newest first; migration ID shows one call by call', async () => {
    const list = await shell(n, 'migrations', TOKENS.reader);
    assert.equal(list.code, 0, list.out);
    const rows = list.out.trim().split('\n');
    assert.match(
      rows[0] ?? '',
      /^ID\s+KIND\s+SOURCE\s+PHASE\s+STARTED\s+TOOK\s+CALLS\s+MOVED\s+LOST\s+FAILED\s+RE-CREATED IN$/,
    );
    const newest = script.recent.at(-1);
    assert.match(rows[1] ?? '', new RegExp(`^${newest?.id}\\s+migrate\\s+fs02\\s+done\\s`));
    assert.equal(rows.length, script.recent.length + 1);

    const first = script.recent[0];
    const one = await shell(n, `migration ${first?.id}`, TOKENS.reader);
    assert.equal(one.code, 0, one.out);
    assert.match(one.out, /^migrate fs01 → fs02 {2}m1-fs01 {2}phase done {2}epoch 7 {2}33\.0 s$/m);
    assert.match(
      one.out,
      /^ {2}metadata of failed and lost calls kept in \/var\/lib\/mware\/freeswitch\/failed-calls\.jsonl$/m,
    );
    assert.match(
      one.out,
      /^ {2}CALL\s+LEGS\s+TARGET\s+OUTCOME\s+CAUSE\s+CALLER → CALLEE\s+DOMAIN\s+CONFERENCE\s+LEG UUIDS$/m,
    );
    assert.match(
      one.out,
      /^ {2}call-a\s+2\/2 bridged\s+fs02\s+moved\s+-\s+1001 → 2002\s+test\.rootdomain\.ru\s+-\s+call-a-leg1,call-a-leg2$/m,
    );
    assert.match(
      one.out,
      /^ {2}call-c\s+1\/1\s+fs02\s+lost\s+RECOVERY_ON_TIMER_EXPIRE\s+1001 → 2002\s+\S+\s+room-1\s+call-c-leg1$/m,
    );

    const missing = await shell(n, 'migration nope');
    assert.equal(missing.code, 1);
    assert.match(missing.out, /MW_ERR_FS_UNKNOWN_MIGRATION/);
  });

  it('renders the one in progress first, and a list with nothing in it', () => {
    const frames = threeCallMigration({ id: 'x1', kind: 'failover', source: 'fs01', allowed: [], epoch: 3 });
    const running = summarizeMigration(frames[2] as MigrationRecord);
    const done = summarizeMigration(frames[4] as MigrationRecord);
    const lines = renderMigrations(running, [{ ...done, id: 'x0' }], plain, running.started_at + 2_000);
    assert.match(
      lines[1] ?? '',
      /^x1\s+failover\s+fs01\s+recovering \(running\)\s+\S+ \S+\s+2\.0 s\s+3\s+0\s+0\s+0\s+-$/,
    );
    assert.match(
      lines[2] ?? '',
      /^x0\s+failover\s+fs01\s+done\s+\S+ \S+\s+33\.0 s\s+3\s+2\s+1\s+0\s+640 ms$/,
    );
    assert.deepEqual(renderMigrations(null, [], plain), ['no migration yet']);
  });

  it('renders a migration whose target refused its calls, and a live view with more calls than fit', () => {
    const [planned] = threeCallMigration({
      id: 'x2',
      kind: 'drain',
      source: 'fs01',
      allowed: ['fs02'],
      epoch: 3,
    });
    const r: MigrationRecord = {
      ...(planned as MigrationRecord),
      phase: 'failed',
      reason: 'no usable target',
      finished_at: (planned as MigrationRecord).started_at + 1_500,
      calls: (planned as MigrationRecord).calls.map((c) => ({
        ...c,
        outcome: 'failed',
        cause: 'no target running profile internal',
      })),
    };
    const lines = renderMigration(r, plain);
    assert.equal(lines[0], `drain fs01 → fs02  x2  phase failed  epoch 3  1.5 s  no usable target`);
    assert.equal(lines[1], '  3 calls: planned 0  handed 0  recreated 0  moved 0  lost 0  failed 3');
    assert.match(lines.join('\n'), /^ {2}call-b\s+0\/1\s+-\s+failed\s+no target running profile internal/m);
    // A live view that has room for one call shows one still on its way first, and counts the others.
    const confirming = threeCallMigration({
      id: 'x3',
      kind: 'migrate',
      source: 'fs01',
      allowed: [],
      epoch: 3,
    })[3];
    const top = migrationCalls(confirming as MigrationRecord, plain, { maxCalls: 1 });
    assert.equal(top.length, 3);
    assert.match(top[1] ?? '', /^ {2}call-b\s+1\/1\s+fs02\s+recreated\s+-$/);
    assert.equal(top[2], '  … 2 more calls');
  });

  it('renders the calls of a host that answered none as a count only', () => {
    assert.deepEqual(renderCalls([{ host: 'fs01', channels: [], error: null }], plain), [
      '0 channels on 1 host',
    ]);
  });
});

describe('completion of the farm’s commands', () => {
  it('completes host names, other hosts as targets, and migration ids', async () => {
    const c = client();
    assert.deepEqual(await complete(c, '/', 'calls '), [['fs01', 'fs02', 'fs03'], '']);
    assert.deepEqual(await complete(c, '/', 'calls fs0'), [['fs01', 'fs02', 'fs03'], 'fs0']);
    assert.deepEqual(await complete(c, '/', 'calls fs01 '), [[], '']);
    assert.deepEqual(await complete(c, '/', 'migrate fs01 '), [['fs02', 'fs03'], '']);
    assert.deepEqual(await complete(c, '/', 'drain fs02 fs01 '), [['fs03'], '']);
    assert.deepEqual(await complete(c, '/', 'migr'), [['migrate', 'migration', 'migrations'], 'migr']);
    const ids = (await complete(c, '/', 'migration '))[0];
    assert.deepEqual(
      ids,
      [...script.recent].reverse().map((m) => m.id),
    );
    c.close();
  });
});
