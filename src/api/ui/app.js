// The live supervision tree, read-only: the tree and the cluster from the API, then every change from the
// event stream (read with fetch, so the token travels in a header and never in a URL).
'use strict';

const state = { token: null, tree: null, nodes: new Map(), reloadTimer: null };

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

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderActor(node) {
  const li = el('li');
  const row = el('div', `actor state-${node.state}`);
  row.dataset.path = node.path;
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
  state.nodes.set(node.path, { row, node });
  update(node.path, node);
  if (node.children && node.children.length) {
    const ul = el('ul');
    for (const c of node.children) ul.append(renderActor(c));
    li.append(ul);
  }
  return li;
}

function update(path, changes) {
  const entry = state.nodes.get(path);
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

function scheduleReload() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => loadTree().catch(() => undefined), 150);
}

function onEvent(type, data) {
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
  await Promise.all([loadCluster(), loadTree()]);
  void follow();
}

main().catch((e) => console.error(e));
