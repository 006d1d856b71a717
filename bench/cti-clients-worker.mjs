// The CTI bench's clients (bench/cti.ts): N WebSocket clients in a worker thread of their own, so that the server
// and its readers do not share one event loop. Each event's `at` is the absolute time (ms, fractional) the bench
// published it; a client's delivery latency is its arrival time minus that.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

const { url, token, clients: n } = workerData;
const now = () => performance.timeOrigin + performance.now();
const counts = new Array(n).fill(0);
let target = Infinity;
let samples = [];
let reported = true;
let gaps = 0;

function check() {
  if (reported || !counts.every((c) => c >= target)) return;
  reported = true;
  const s = Float64Array.from(samples).sort();
  const pct = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  parentPort.postMessage({
    type: 'done',
    at: now(),
    gaps,
    samples: s.length,
    p50: pct(50),
    p99: pct(99),
    max: s[s.length - 1],
  });
}

let hellos = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url);
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', token })));
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'hello') {
      if (++hellos === n) parentPort.postMessage({ type: 'ready' });
      return;
    }
    if (m.type === 'gap') {
      // Events this client will never get (it fell behind the buffer): counted as accounted for, and reported.
      gaps++;
      counts[i] += m.missed;
      check();
      return;
    }
    if (m.type !== 'event') return;
    samples.push(now() - m.event.at);
    counts[i]++;
    check();
  });
  ws.on('error', (err) => parentPort.postMessage({ type: 'error', message: err.message }));
}

parentPort.on('message', (m) => {
  // A phase: every client expects `events` more events from now.
  for (let i = 0; i < n; i++) counts[i] = 0;
  samples = [];
  gaps = 0;
  target = m.events;
  reported = false;
});
