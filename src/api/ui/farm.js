// The FreeSWITCH farm panel of the web view: the hosts with their state, live channels, sessions and pause; the
// migration in progress call by call as it happens; the recent migrations. Read from GET /api/v1/freeswitch every
// second (and at once on a `freeswitch` notice of the event stream); hidden on a role without a farm (404).
// Uses the helpers of app.js (api, apiOptional, el, table, fmtTime, fmtMs, state), loaded before this file.
/* global api, apiOptional, el, fmtMs, fmtTime, state, table -- app.js's, one page, loaded first */
'use strict';

const FARM_POLL_MS = 1000;
const OUTCOMES = ['planned', 'handed', 'recreated', 'moved', 'lost', 'failed'];

const farm = {
  /** Whether the role has a farm (null: not known yet). */
  has: null,
  timer: null,
  busy: false,
  /** The migration shown as in progress at the last poll, and the finished record shown after it. */
  activeId: null,
  last: null,
};

function farmSoon(ms = 100) {
  clearTimeout(farm.timer);
  farm.timer = setTimeout(() => void pollFarm(), ms);
}

async function pollFarm() {
  clearTimeout(farm.timer);
  if (farm.busy) return;
  farm.busy = true;
  try {
    await loadFarm();
  } catch (e) {
    if (e instanceof Error && e.message === 'unauthorized') return;
  } finally {
    farm.busy = false;
  }
  if (farm.has !== false) farmSoon(FARM_POLL_MS);
}

async function loadFarm() {
  const s = await apiOptional('/api/v1/freeswitch');
  farm.has = s !== null;
  document.getElementById('fs-section').hidden = s === null;
  if (s === null) return;
  // The migration that was in progress has ended: its final record stays on view, call by call.
  if (farm.activeId !== null && s.active?.id !== farm.activeId) {
    const id = farm.activeId;
    farm.last = await api(`/api/v1/freeswitch/migrations/${encodeURIComponent(id)}`).catch(() => null);
  }
  farm.activeId = s.active?.id ?? null;
  document.getElementById('fs-hosts').replaceChildren(renderFarmHosts(s.hosts));
  const shown = s.active ?? farm.last;
  document
    .getElementById('fs-migration')
    .replaceChildren(
      ...(shown
        ? renderFarmMigration(shown, s.active !== null)
        : [el('div', 'hint', 'no migration in progress')]),
    );
  document.getElementById('fs-recent').replaceChildren(renderFarmRecent(s.recent));
  document.body.dataset.fsLoaded = 'true';
}

function renderFarmHosts(hosts) {
  const rows = hosts.map((h) => {
    const tr = el('tr', `fs-host state-${h.state}${h.paused ? ' paused' : ''}`);
    tr.dataset.host = h.name;
    tr.dataset.state = h.state;
    tr.dataset.paused = String(h.paused);
    const note = h.error ?? h.problems.join('; ');
    tr.append(
      el('td', 'name', h.name),
      el('td', 'state', h.state),
      el('td', 'channels', String(h.channels)),
      el('td', 'sessions', `${h.sessions}/${h.max_sessions}`),
      el('td', 'idle-cpu', h.idle_cpu === null ? '–' : `${Math.round(h.idle_cpu)} %`),
      el('td', 'paused', h.paused ? 'paused' : ''),
      el('td', 'note', note),
    );
    return tr;
  });
  return table(['host', 'state', 'channels', 'sessions', 'idle CPU', '', ''], rows);
}

function renderFarmMigration(r, running) {
  const div = el('div', `fs-migration phase-${r.phase}`);
  div.id = 'fs-active';
  div.dataset.id = r.id;
  div.dataset.phase = r.phase;
  div.dataset.running = String(running);
  const to = r.allowed.length > 0 ? r.allowed.join(', ') : 'any host';
  const took = (r.finished_at ?? Date.now()) - r.started_at;
  div.append(
    el(
      'h3',
      '',
      `${running ? 'In progress' : 'Last'}: ${r.kind} ${r.source} → ${to} · ${r.phase} · epoch ${r.epoch} · ${fmtMs(took)}`,
    ),
  );
  if (r.reason) div.append(el('div', 'reason', r.reason));
  const counts = el('div', 'fs-counts');
  for (const o of OUTCOMES) {
    const span = el('span', `outcome-${o}`, `${o} ${r.calls.filter((c) => c.outcome === o).length}`);
    span.dataset.outcome = o;
    counts.append(span);
  }
  div.append(counts);
  for (const v of r.recoveries)
    div.append(
      el('div', 'recovery', `${v.target}: ${v.sent ? (v.reply ?? '…') : 'fsctl recover not sent yet'}`),
    );
  const rows = r.calls.map((c) => {
    const tr = el('tr', `fs-call outcome-${c.outcome}`);
    tr.dataset.call = c.id;
    tr.dataset.outcome = c.outcome;
    tr.append(
      el('td', '', c.id),
      el('td', 'legs', `${c.recreated}/${c.legs.length}${c.bridged ? ' bridged' : ''}`),
      el('td', 'target', c.target ?? '–'),
      el('td', 'outcome', c.outcome),
      el('td', 'cause', c.cause ?? ''),
      el('td', '', `${c.caller ?? '–'} → ${c.callee ?? '–'}`),
      el('td', '', c.conference ?? ''),
    );
    return tr;
  });
  if (rows.length > 0)
    div.append(table(['call', 'legs', 'target', 'outcome', 'cause', 'caller → callee', 'conference'], rows));
  else div.append(el('div', 'hint', 'no calls'));
  return [div];
}

function renderFarmRecent(recent) {
  if (recent.length === 0) return el('div', 'hint', 'no migration yet');
  const rows = [...recent].reverse().map((m) => {
    const tr = el('tr', `fs-recent phase-${m.phase}${m.lost + m.failed > 0 ? ' unmoved' : ''}`);
    tr.dataset.id = m.id;
    tr.dataset.phase = m.phase;
    tr.append(
      el('td', '', fmtTime(m.started_at)),
      el('td', 'kind', m.kind),
      el('td', 'source', m.source),
      el('td', 'phase', m.phase),
      el('td', 'moved', `${m.moved}/${m.calls}`),
      el('td', 'lost', String(m.lost)),
      el('td', 'failed', String(m.failed)),
      el('td', '', m.recreate_ms === null ? '–' : fmtMs(m.recreate_ms)),
      el('td', 'id', m.id),
    );
    return tr;
  });
  return table(
    ['started (UTC)', 'kind', 'source', 'phase', 'moved', 'lost', 'failed', 're-created in', 'id'],
    rows,
  );
}

state.onNotice.push((n) => {
  if (n.topic === 'freeswitch') farmSoon();
});
if (state.token) void pollFarm();
