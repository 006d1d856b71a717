// The live supervision tree, read-only: the tree and the cluster from the API, then every change from the
// event stream (read with fetch, so the token travels in a header and never in a URL). The other nodes of the
// cluster, their trees and their counters come from GET /api/v1/tree?scope=cluster, polled.
'use strict';

/** How often the whole cluster (every node's tree and counters) is read again. */
const POLL_MS = 2000;
/** Samples kept per chart. */
const KEEP = 60;
const CHARTS = [
  ['messages', 'messages/s'],
  ['restarts', 'restarts'],
  ['mailbox', 'mailbox depth'],
  ['leadership', 'leadership changes'],
];
const SVG = 'http://www.w3.org/2000/svg';

const state = {
  token: null,
  tree: null,
  // path → {row, node} of the local tree (live) and of the selected other node's tree (polled)
  nodes: new Map(),
  remote: new Map(),
  reloadTimer: null,
  detailsTimer: null,
  /** The node that serves this page, the node whose tree is shown, the last cluster answer. */
  self: null,
  selected: null,
  cluster: null,
  /** node name → {last: stats, series: {messages: [], restarts: [], mailbox: [], leadership: []}} */
  history: new Map(),
  /** The actor shown in the details panel: {node, path}. */
  details: null,
  /** cluster key → server name → lag bytes (KEEP samples), for the lag charts. */
  lag: new Map(),
  /** Whether the role has each controller (a 404 from its facade: no; null: not known yet). */
  hasPg: null,
  hasBackup: null,
  controllersTimer: null,
  controllersBusy: false,
  systemStateTimer: null,
  /** Listeners of the stream's notices (a panel of another file, farm.js, reads again on its topic). */
  onNotice: [],
};

function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('mware-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('mware-token');
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.token}` } });
  if (res.status === 401) {
    sessionStorage.removeItem('mware-token');
    askToken('The token was refused.');
    throw new Error('unauthorized');
  }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

/** GET of a facade that a role may lack: null on 404 (no such controller here). */
async function apiOptional(path) {
  try {
    return await api(path);
  } catch (e) {
    if (e instanceof Error && e.message === `${path}: 404`) return null;
    throw e;
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderActor(node, map = state.nodes, nodeName = null) {
  const li = el('li');
  const row = el('div', `actor state-${node.state}`);
  row.dataset.path = node.path;
  row.tabIndex = 0;
  row.title = 'Details';
  row.addEventListener('click', () => void showDetails(nodeName ?? state.self, node.path));
  row.dataset.state = node.state;
  row.append(
    el('span', 'id', node.path === '/' ? '/' : node.id),
    el('span', 'kind', node.kind),
    el('span', 'mode', node.mode),
  );
  row.append(
    el('span', 'state', node.state),
    el('span', 'restarts', ''),
    el('span', 'mailbox', ''),
    el('span', 'pid', ''),
    el('span', 'error', ''),
  );
  li.append(row);
  map.set(node.path, { row, node });
  update(node.path, node, map);
  if (node.children && node.children.length) {
    const ul = el('ul');
    for (const c of node.children) ul.append(renderActor(c, map, nodeName));
    li.append(ul);
  }
  return li;
}

function update(path, changes, map = state.nodes) {
  const entry = map.get(path);
  if (!entry) return false;
  Object.assign(entry.node, changes);
  const n = entry.node;
  const row = entry.row;
  row.className = `actor state-${n.state}`;
  row.dataset.state = n.state;
  row.querySelector('.state').textContent = n.state;
  row.querySelector('.restarts').textContent = n.restarts ? `↻ ${n.restarts}` : '';
  row.dataset.restarts = String(n.restarts || 0);
  row.querySelector('.mailbox').textContent = n.mailbox ? `mailbox ${n.mailbox}` : '';
  row.querySelector('.pid').textContent = n.pid ? `pid ${n.pid}` : '';
  row.querySelector('.error').textContent = n.lastError ? `last error: ${n.lastError.message}` : '';
  return true;
}

async function loadTree() {
  const tree = await api('/api/v1/tree');
  state.nodes.clear();
  const root = document.getElementById('tree');
  root.replaceChildren(renderActor(tree));
  document.body.dataset.loaded = 'true';
}

async function loadCluster() {
  const c = await api('/api/v1/cluster');
  document.getElementById('cluster-name').textContent = c.cluster;
  document.getElementById('node-line').textContent =
    `node ${c.node} (${c.node_state}) · site ${c.site} · group ${c.group} · epoch ${c.epoch ?? '–'} · coordination ${c.coordination.kind}`;
  const list = document.getElementById('member-list');
  list.replaceChildren(
    ...c.members.map((m) => {
      const li = el(
        'li',
        `member ${m.role}${m.self ? ' self' : ''}`,
        `${m.name} · order ${m.order} · ${m.role}`,
      );
      li.dataset.member = m.name;
      li.dataset.role = m.role;
      return li;
    }),
  );
}

// --- the whole cluster: every node, its group and role; the selected node's tree; charts per node ---

async function pollCluster() {
  try {
    const c = await api('/api/v1/tree?scope=cluster');
    state.cluster = c;
    const me = c.nodes.find((n) => n.self);
    if (me) state.self = me.name;
    if (state.selected === null) state.selected = state.self;
    record(c);
    renderNodes(c);
    renderCharts(c);
    showSelected();
  } catch (e) {
    // A refused token stops polling (the page asks for another); anything else is tried again at the next poll.
    if (e instanceof Error && e.message === 'unauthorized') return;
  }
  setTimeout(() => void pollCluster(), POLL_MS);
}

function renderNodes(c) {
  const sorted = [...c.nodes].sort((a, b) => a.group - b.group || a.name.localeCompare(b.name));
  document.getElementById('node-list').replaceChildren(
    ...sorted.map((n) => {
      const li = el(
        'li',
        `node-item role-${n.role}${n.self ? ' self' : ''}${n.error ? ' unreachable' : ''}${n.name === state.selected ? ' selected' : ''}`,
      );
      li.dataset.node = n.name;
      li.dataset.role = n.role;
      li.dataset.group = String(n.group);
      li.append(
        el('span', 'name', n.name),
        el('span', 'group', `group ${n.group}`),
        el('span', 'role', n.role),
      );
      if (n.error) li.append(el('span', 'error', `unreachable: ${n.error.message}`));
      li.tabIndex = 0;
      li.addEventListener('click', () => {
        state.selected = n.name;
        renderNodes(state.cluster);
        showSelected(true);
      });
      return li;
    }),
  );
}

/** The local node's tree is live (events); another node's is redrawn from each poll. */
function showSelected(force = false) {
  const local = state.selected === null || state.selected === state.self;
  document.getElementById('tree').hidden = !local;
  const remoteList = document.getElementById('remote-tree');
  remoteList.hidden = local;
  document.getElementById('tree-node').textContent = state.selected ? `· ${state.selected}` : '';
  if (local || !state.cluster) return;
  const n = state.cluster.nodes.find((x) => x.name === state.selected);
  if (!n) return;
  state.remote.clear();
  remoteList.dataset.node = n.name;
  remoteList.replaceChildren(
    n.tree
      ? renderActor(n.tree, state.remote, n.name)
      : el('li', 'error', `unreachable: ${n.error?.message ?? ''}`),
  );
  if (force || (state.details && state.details.node === n.name)) refreshDetails();
}

function record(c) {
  for (const n of c.nodes) {
    if (!n.stats) continue;
    let h = state.history.get(n.name);
    if (!h) {
      h = { last: null, series: { messages: [], restarts: [], mailbox: [], leadership: [] } };
      state.history.set(n.name, h);
    }
    const s = n.stats;
    // A counter that went down is a restarted node: its rate starts again from zero.
    const dt = h.last ? (s.at - h.last.at) / 1000 : 0;
    const rate = h.last && dt > 0 && s.messages >= h.last.messages ? (s.messages - h.last.messages) / dt : 0;
    push(h.series.messages, Math.round(rate * 10) / 10);
    push(h.series.restarts, s.restarts);
    push(h.series.mailbox, s.mailbox);
    push(h.series.leadership, s.leadership_changes);
    h.last = s;
  }
}

function push(series, v) {
  series.push(v);
  if (series.length > KEEP) series.shift();
}

function renderCharts(c) {
  const box = document.getElementById('charts');
  box.replaceChildren(
    ...c.nodes
      .filter((n) => state.history.has(n.name))
      .map((n) => {
        const h = state.history.get(n.name);
        const div = el('div', `node-charts role-${n.role}`);
        div.dataset.node = n.name;
        div.append(el('h3', '', `${n.name} · ${n.role}`));
        for (const [key, label] of CHARTS) div.append(chart(key, label, h.series[key]));
        return div;
      }),
  );
}

/** One small line chart (inline SVG), its last value beside its label. */
function chart(key, label, values) {
  const W = 160;
  const H = 40;
  const fig = el('figure', 'chart');
  fig.dataset.metric = key;
  fig.dataset.samples = String(values.length);
  const last = values.length ? values[values.length - 1] : 0;
  fig.dataset.last = String(last);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  const max = Math.max(1, ...values);
  const step = W / (KEEP - 1);
  const x0 = W - (values.length - 1) * step;
  const points = values.map(
    (v, i) => `${(x0 + i * step).toFixed(1)},${(H - 2 - (v / max) * (H - 4)).toFixed(1)}`,
  );
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#1565c0');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  const cap = el('figcaption', '', `${label} `);
  cap.append(el('strong', 'value', String(last)));
  fig.append(svg, cap);
  return fig;
}

// --- the group's controllers: PostgreSQL replication and backup, polled (and read again on their notices) ---

async function pollControllers() {
  clearTimeout(state.controllersTimer);
  // One poll at a time: a notice arriving meanwhile is covered by the next.
  if (state.controllersBusy) return;
  state.controllersBusy = true;
  try {
    await Promise.all([
      state.hasPg === false ? null : loadPg(),
      state.hasBackup === false ? null : loadBackup(),
    ]);
  } catch (e) {
    if (e instanceof Error && e.message === 'unauthorized') return;
  } finally {
    state.controllersBusy = false;
  }
  if (state.hasPg !== false || state.hasBackup !== false)
    state.controllersTimer = setTimeout(() => void pollControllers(), POLL_MS);
}

async function loadPg() {
  const body = await apiOptional('/api/v1/pg');
  state.hasPg = body !== null;
  const section = document.getElementById('pg-section');
  section.hidden = body === null;
  if (body === null) return;
  for (const c of body.clusters) {
    if (!c.status) continue;
    let byServer = state.lag.get(c.key);
    if (!byServer) {
      byServer = new Map();
      state.lag.set(c.key, byServer);
    }
    for (const s of c.status.servers) {
      if (s.role !== 'standby') continue;
      if (!byServer.has(s.name)) byServer.set(s.name, []);
      push(byServer.get(s.name), s.lag_bytes ?? 0);
    }
  }
  document.getElementById('pg-clusters').replaceChildren(...body.clusters.map(renderPgCluster));
  document.body.dataset.pgLoaded = 'true';
}

function fmtTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function fmtMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function table(head, rows) {
  const t = el('table');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', '', h));
  t.append(tr);
  for (const r of rows) t.append(r);
  return t;
}

function renderPgCluster(c) {
  const div = el('div', 'pg-cluster');
  div.dataset.cluster = c.key;
  if (!c.status) {
    div.classList.add('unreachable');
    div.append(
      el('h3', '', c.key),
      el('div', 'error', `not answering: ${c.error?.code}: ${c.error?.message}`),
    );
    return div;
  }
  const s = c.status;
  div.classList.add(`phase-${s.phase}`);
  div.dataset.phase = s.phase;
  div.dataset.primary = s.primary ?? '';
  div.append(
    el('h3', '', `${s.key} · primary ${s.primary ?? 'none'} · ${s.phase} · epoch ${s.epoch ?? '–'}`),
  );
  if (s.reason) div.append(el('div', 'reason', s.reason));
  const servers = s.servers.map((v) => {
    const tr = el('tr', `server role-${v.role}`);
    tr.dataset.server = v.name;
    tr.dataset.role = v.role;
    tr.append(
      el('td', '', v.name),
      el('td', 'role', v.role),
      el('td', 'lag-bytes', v.lag_bytes === null ? '–' : String(v.lag_bytes)),
      el('td', 'lag-seconds', v.lag_seconds === null ? '–' : v.lag_seconds.toFixed(3)),
      el('td', 'error', v.error ?? v.problems.join('; ')),
    );
    return tr;
  });
  div.append(table(['server', 'role', 'lag bytes', 'lag s', ''], servers));
  const lag = state.lag.get(s.key);
  for (const [name, values] of lag ?? []) div.append(chart(`lag:${name}`, `lag bytes ${name}`, values));
  const history = [...s.history].reverse().map((f) => {
    const tr = el('tr', 'failover');
    const rejoin = f.rejoin
      ? `${f.rejoin.method} ${f.rejoin.ok ? 'ok' : 'failed'} ${fmtMs(f.rejoin.ms)}`
      : '–';
    tr.append(
      el('td', '', fmtTime(f.at)),
      el('td', 'kind', f.kind),
      el('td', '', `${f.from ?? '–'} → ${f.to}`),
      el('td', '', fmtMs(f.ms)),
      el('td', '', String(f.epoch)),
      el('td', '', rejoin),
    );
    return tr;
  });
  if (history.length === 0) div.append(el('div', 'hint', 'no failover yet'));
  else div.append(table(['at (UTC)', 'kind', 'from → to', 'took', 'epoch', 'rejoin'], history));
  return div;
}

async function loadBackup() {
  const b = await apiOptional('/api/v1/backup');
  state.hasBackup = b !== null;
  const section = document.getElementById('backup-section');
  section.hidden = b === null;
  if (b === null) return;
  const hh = (h) => `${String(h).padStart(2, '0')}:00`;
  const rows = [
    ['phase', b.phase],
    ['window', `${hh(b.hours_interval[0])}–${hh(b.hours_interval[1])} on weekdays ${b.weekdays.join(',')}`],
    ['next attempt', b.next_at === null ? '–' : `${fmtTime(b.next_at)} UTC`],
    [
      'last success',
      b.last_success_at === null
        ? 'never'
        : `${fmtTime(b.last_success_at)} UTC (${fmtMs((b.age_seconds ?? 0) * 1000)} ago)`,
    ],
  ];
  if (b.last)
    rows.push([
      'last run',
      b.last.ok
        ? `ok · ${fmtBytes(b.last.bytes)} in ${fmtMs(b.last.finished_at - b.last.started_at)} (${b.last.trigger})`
        : `failed: ${b.last.error ?? ''} (${b.last.trigger}, ${fmtTime(b.last.started_at)} UTC)`,
    ]);
  else rows.push(['last run', 'none yet']);
  document.getElementById('backup-fields').replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dd = el('dd', k === 'last run' && b.last && !b.last.ok ? 'failed' : '', v);
      dd.dataset.field = k.replace(' ', '-');
      return [el('dt', '', k), dd];
    }),
  );
}

// --- the system state: every node's deviations, polled (collecting asks every node: not every 2 s) ---

const SYSTEM_STATE_MS = 10_000;

async function pollSystemState() {
  clearTimeout(state.systemStateTimer);
  try {
    renderSystemState(await api('/api/monitor/v1/system/state'));
  } catch (e) {
    if (e instanceof Error && e.message === 'unauthorized') return;
    document.getElementById('state-summary').textContent =
      `not available: ${e instanceof Error ? e.message : e}`;
  }
  state.systemStateTimer = setTimeout(() => void pollSystemState(), SYSTEM_STATE_MS);
}

function renderSystemState(s) {
  const summary = document.getElementById('state-summary');
  const unreachable = s.nodes.filter((n) => !n.reachable).length;
  summary.className = s.healthy ? 'healthy' : 'unhealthy';
  summary.dataset.healthy = String(s.healthy);
  summary.textContent =
    `${s.healthy ? 'healthy' : `${s.deviations.length} deviation${s.deviations.length === 1 ? '' : 's'}`}` +
    ` · ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}${unreachable ? `, ${unreachable} unreachable` : ''}` +
    ` · collected by ${s.collected_by} at ${fmtTime(Date.parse(s.collected_at))} UTC`;
  const rows = s.deviations.map((d) => {
    const tr = el('tr', `deviation severity-${d.severity}`);
    tr.dataset.kind = d.kind;
    tr.dataset.source = d.source;
    tr.append(
      el('td', 'severity', d.severity),
      el('td', '', d.site ? `${d.node ?? '–'}@${d.site}` : (d.node ?? '–')),
      el('td', '', d.kind),
      el('td', 'message', d.message),
      el('td', '', `${fmtTime(Date.parse(d.since))}`),
    );
    return tr;
  });
  document
    .getElementById('state-deviations')
    .replaceChildren(
      ...(rows.length ? [table(['severity', 'node', 'kind', 'what', 'since (UTC)'], rows)] : []),
    );
}

// --- one actor's details ---

function actorUrl(path) {
  return `/api/v1/actors/${path
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/')}`;
}

async function showDetails(nodeName, path) {
  state.details = { node: nodeName, path };
  await refreshDetails();
}

function findIn(tree, path) {
  if (!tree) return null;
  if (tree.path === path) return tree;
  for (const c of tree.children || []) {
    const f = findIn(c, path);
    if (f) return f;
  }
  return null;
}

async function refreshDetails() {
  const d = state.details;
  if (!d) return;
  const panel = document.getElementById('details');
  let node = null;
  let policy = null;
  if (d.node === state.self || d.node === null) {
    try {
      policy = await api(actorUrl(d.path));
      node = policy.node;
    } catch {
      node = null;
    }
  } else {
    const n = state.cluster && state.cluster.nodes.find((x) => x.name === d.node);
    node = findIn(n && n.tree, d.path);
  }
  if (state.details !== d) return;
  panel.hidden = false;
  panel.dataset.path = d.path;
  panel.dataset.node = d.node ?? '';
  const rows = [['node', d.node ?? '']];
  if (!node) rows.push(['path', d.path], ['state', 'gone']);
  else {
    rows.push(
      ['path', node.path],
      ['kind', node.kind],
      ['mode', node.mode],
      ['state', node.state],
      ['restarts', String(node.restarts)],
      ['restart-times', (node.restartTimes || []).map((t) => new Date(t).toISOString()).join('\n') || '–'],
      ['last-error', node.lastError ? `${node.lastError.code}: ${node.lastError.message}` : '–'],
      ['mailbox', String(node.mailbox)],
    );
    if (node.strategy) rows.push(['strategy', node.strategy]);
    if (node.pid !== undefined) rows.push(['pid', String(node.pid)]);
    if (node.startedAt !== undefined) rows.push(['started', new Date(node.startedAt).toISOString()]);
    if (policy)
      rows.push(
        ['supervisor', policy.parent ?? '(the node)'],
        ['restart', policy.restart ?? '–'],
        ['shutdown', policy.shutdown === null ? '–' : String(policy.shutdown)],
      );
    else rows.push(['supervisor', 'its policy is read on its own node']);
  }
  document.getElementById('details-fields').replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dd = el('dd', '', v);
      dd.dataset.field = k;
      return [el('dt', '', k.replace('-', ' ')), dd];
    }),
  );
}

/** The details panel follows its actor: read again shortly after an event about it. */
function detailsChanged(path) {
  if (!state.details || state.details.path !== path || state.details.node !== state.self) return;
  clearTimeout(state.detailsTimer);
  state.detailsTimer = setTimeout(() => void refreshDetails(), 100);
}

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => loadTree().catch(() => undefined), 150);
}

function onEvent(type, data) {
  if (data && typeof data.path === 'string') detailsChanged(data.path);
  switch (type) {
    case 'state-changed':
      if (!update(data.path, { state: data.to })) scheduleReload();
      break;
    case 'restarted':
      update(data.path, { restarts: data.restarts });
      break;
    case 'failed':
      update(data.path, { lastError: data.error });
      break;
    case 'started':
    case 'stopped':
      if (!state.nodes.has(data.path)) scheduleReload();
      break;
    case 'notice':
      // A controller's decision: read it again soon (notices come in bursts during a failover).
      if (data.topic === 'pg' || data.topic === 'backup') {
        clearTimeout(state.controllersTimer);
        state.controllersTimer = setTimeout(() => void pollControllers(), 200);
      }
      for (const listener of state.onNotice) listener(data);
      break;
    case 'node':
    case 'coordination':
    case 'leadership':
    case 'escalated':
      loadCluster().catch(() => undefined);
      scheduleReload();
      break;
    default:
      break;
  }
}

async function follow() {
  const status = document.getElementById('connection');
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const res = await fetch('/api/v1/events', { headers: { authorization: `Bearer ${state.token}` } });
      if (!res.ok || !res.body) throw new Error(String(res.status));
      status.textContent = 'live';
      status.className = 'connected';
      delay = 500;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent(type, JSON.parse(data));
        }
      }
    } catch {
      // reconnect below
    }
    status.textContent = 'reconnecting…';
    status.className = 'disconnected';
    await new Promise((r) => setTimeout(r, delay));
    await Promise.all([loadTree(), loadCluster()]).catch(() => undefined);
  }
}

function askToken(message) {
  const form = document.getElementById('token-form');
  form.hidden = false;
  if (message) form.querySelector('.hint').textContent = message;
  form.querySelector('form').onsubmit = (e) => {
    e.preventDefault();
    sessionStorage.setItem('mware-token', document.getElementById('token-input').value.trim());
    location.reload();
  };
}

async function main() {
  state.token = takeToken();
  if (!state.token) return askToken();
  document.getElementById('details-close').addEventListener('click', () => {
    state.details = null;
    document.getElementById('details').hidden = true;
  });
  await Promise.all([loadCluster(), loadTree()]);
  void follow();
  void pollCluster();
  void pollControllers();
  void pollSystemState();
}

main().catch((e) => console.error(e));
