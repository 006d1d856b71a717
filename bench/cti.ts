import { Worker } from 'node:worker_threads';
import { CTI_ADAPTERS } from '../actors/cti/adapters.ts';
import { ctiAdapterActor } from '../actors/cti/cti-adapter-actor.ts';
import { CtiFeed, follow } from '../actors/cti/feed.ts';
import type { CtiAdapterStatus } from '../actors/cti/protocol.ts';
import { FsFarm } from '../actors/freeswitch/farm.ts';
import type { CallEvent } from '../src/freeswitch/call-events.ts';
import { createLogger } from '../src/log/log.ts';
import { systemClock } from '../src/supervision/clock.ts';
import { freePort } from '../test/harness/index.ts';
import { fmt, report } from './stats.ts';

/**
 * CTI fan-out: call events published on the farm's board (as the host actors publish them) and streamed by the
 * `generic.json.websocket` adapter to 100 WebSocket clients, which run in a worker thread of their own (the server
 * keeps the node's event loop). Figures: the highest rate every client keeps up with (a burst of N events, timed
 * until the last client has the last one), and the delivery latency (publish → a client's message handler) at
 * fixed rates below it.
 */

const CLIENTS = 100;
const BURST = 5_000;
const RATES = [500, 2_000];
const RATE_SECONDS = 3;
const TOKEN = 'bench-cti-token-0123456789';

const port = await freePort();
const farm = new FsFarm(['fs01']);
const feed = new CtiFeed(10_000);
follow(feed, farm);
const actor = await ctiAdapterActor.create(
  {
    key: 'generic.json.websocket',
    adapter: CTI_ADAPTERS['generic.json.websocket'],
    address: '127.0.0.1',
    port,
    token: TOKEN,
    feed,
  },
  {
    path: '/services/cti/generic.json.websocket',
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    state: { restored: undefined, durable: false, save: async () => {}, clear: async () => {} },
    fail: (e) => {
      throw e;
    },
    stop: () => {},
  },
);

let n = 0;
function event(): CallEvent {
  n++;
  return {
    kind: n % 4 === 0 ? 'ended' : 'created',
    host: 'fs01',
    uuid: `0b6f1c2e-5d4a-4e8b-9c3d-${String(n).padStart(12, '0')}`,
    callId: `${n}-bench@127.0.0.1`,
    direction: 'inbound',
    domain: 'bench.example.test',
    caller: '1001',
    callee: '2002',
    partner: null,
    conference: null,
    cause: n % 4 === 0 ? 'NORMAL_CLEARING' : null,
    recovered: false,
    destination: null,
    recording: null,
    at: performance.timeOrigin + performance.now(),
  };
}

interface Done {
  type: 'done';
  gaps: number;
  at: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

const worker = new Worker(new URL('./cti-clients-worker.mjs', import.meta.url), {
  workerData: { url: `ws://127.0.0.1:${port}`, token: TOKEN, clients: CLIENTS },
});
const next = <T>(type: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const on = (m: { type: string; message?: string }): void => {
      if (m.type === 'error') {
        worker.off('message', on);
        reject(new Error(m.message));
      } else if (m.type === type) {
        worker.off('message', on);
        resolve(m as T);
      }
    };
    worker.on('message', on);
  });

try {
  await next('ready');
  const status = (): CtiAdapterStatus => actor.handlers.status.call(actor, null) as CtiAdapterStatus;
  if (status().clients !== CLIENTS) throw new Error(`only ${status().clients} clients subscribed`);

  // Throughput: a burst, published 200 events a turn so the server's writes interleave with the publishing.
  worker.postMessage({ events: BURST });
  await new Promise((r) => setTimeout(r, 50));
  const done = next<Done>('done');
  const t0 = performance.timeOrigin + performance.now();
  for (let i = 0; i < BURST; i += 200) {
    for (let j = 0; j < 200; j++) farm.publish(event());
    await new Promise((r) => setImmediate(r));
  }
  const written = performance.timeOrigin + performance.now() - t0;
  const burst = await done;
  const perS = (BURST / (burst.at - t0)) * 1000;
  report(
    `cti fan-out burst, ${fmt(BURST)} events to ${CLIENTS} WebSocket clients`,
    `${fmt(perS)} events/s (${fmt(perS * CLIENTS)} deliveries/s)`,
  );
  // The server's part: every frame of the burst handed to the sockets (the clients' reading is the rest).
  report('cti burst, server side: published and written to 100 sockets in', `${fmt(written)} ms`);
  report(
    'cti burst delivery latency (queueing included)',
    `p50 ${fmt(burst.p50, 1)} ms, p99 ${fmt(burst.p99, 1)} ms${burst.gaps ? `; ${burst.gaps} gaps` : ''}`,
  );

  for (const rate of RATES) {
    const total = rate * RATE_SECONDS;
    worker.postMessage({ events: total });
    await new Promise((r) => setTimeout(r, 50));
    const d = next<Done>('done');
    // Every 10 ms, the events due by then.
    const start = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      for (; sent < due; sent++) farm.publish(event());
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await d;
    report(
      `cti delivery latency at ${fmt(rate)} events/s to ${CLIENTS} clients (${fmt(r.samples)} deliveries)`,
      `p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, max ${fmt(r.max, 1)} ms${r.gaps ? `; ${r.gaps} gaps` : ''}`,
    );
  }
  const s = status();
  report('cti gaps (a client fell behind the 10,000-event buffer)', `${s.gaps}`);
} finally {
  await worker.terminate();
  await actor.stop?.();
}
