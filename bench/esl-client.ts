// JSON events parsed per second: mware's EslClient against bare modesl (its own Connection, unguarded), over the
// same local raw-TCP peer that writes N CHANNEL_CREATE-sized json events in one burst once subscribed. Trials
// alternate; medians of BENCH_TRIALS (3). Usage: node --import tsx bench/esl-client.ts
import type { Socket } from 'node:net';
import { createServer } from 'node:net';
import { EslClient } from '../src/freeswitch/esl/client.ts';
import { bareModeslEvents } from '../src/freeswitch/esl/modesl.ts';
import { fmt, median, report } from './stats.ts';

const N = Number(process.env.BENCH_N ?? 20_000);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);

/** One event of the shape and size FreeSWITCH sends for a channel (≈ 110 headers, ≈ 4 KB of JSON). */
function eventFrame(i: number): string {
  const fields: Record<string, string> = {
    'Event-Name': 'CUSTOM',
    'Event-Subclass': 'mware::bench',
    'Core-UUID': '6a1e4b2c-0d3f-4b9a-9c55-2f0e8d7a1b11',
    'FreeSWITCH-Hostname': 'fs01',
    'FreeSWITCH-Switchname': 'freeswitch01',
    'Event-Sequence': String(i),
    'Unique-ID': `0f6c2d7e-1111-4a5b-8c9d-${String(i).padStart(12, '0')}`,
    'Channel-State': 'CS_EXECUTE',
    'Answer-State': 'answered',
    'Call-Direction': 'inbound',
    'Caller-Caller-ID-Name': 'Alice 😀',
  };
  for (let v = 0; v < 100; v++) fields[`variable_bench_${v}`] = `value-${v}-${'x'.repeat(16)}`;
  const body = JSON.stringify(fields);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
}
const BURST = Buffer.from(Array.from({ length: N }, (_, i) => eventFrame(i)).join(''));

/** Greets, accepts any password, answers every command +OK, and bursts the events once CUSTOM is subscribed. */
function startPeer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.write('Content-Type: auth/request\n\n');
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let at: number;
      while ((at = pending.indexOf('\n\n')) !== -1) {
        const cmd = pending.slice(0, at);
        pending = pending.slice(at + 2);
        const text = cmd.startsWith('auth ') ? '+OK accepted' : '+OK';
        socket.write(`Content-Type: command/reply\nReply-Text: ${text}\n\n`);
        if (cmd.startsWith('event json') && cmd.includes('CUSTOM')) socket.write(BURST);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    }),
  );
}

/** Events/s from connecting (TCP, auth, subscribe: the same for both) to the N-th event. */
async function mware(port: number): Promise<number> {
  const started = performance.now();
  const client = await EslClient.connect({ host: '127.0.0.1', port, password: 'ClueCon' });
  let count = 0;
  const done = new Promise<void>((resolve) =>
    client.onEvent(() => {
      count += 1;
      if (count === N) resolve();
    }),
  );
  await client.subscribe(['CUSTOM']);
  await done;
  const rate = N / ((performance.now() - started) / 1_000);
  client.close();
  return rate;
}

async function bare(port: number): Promise<number> {
  let count = 0;
  let resolveDone = (): void => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const started = performance.now();
  const conn = await bareModeslEvents('127.0.0.1', port, 'ClueCon', 'CUSTOM', () => {
    count += 1;
    if (count === N) resolveDone();
  });
  await done;
  const rate = N / ((performance.now() - started) / 1_000);
  conn.close();
  return rate;
}

const peer = await startPeer();
console.log(`# ESL json events: ${fmt(N)} events of ${fmt(BURST.length / N)} bytes, ${TRIALS} trials each`);
await mware(peer.port); // warm-up (JIT) for both paths
await bare(peer.port);
const ours: number[] = [];
const theirs: number[] = [];
for (let t = 0; t < TRIALS; t++) {
  ours.push(await mware(peer.port));
  theirs.push(await bare(peer.port));
}
peer.close();
report('EslClient json events/s (median)', fmt(median(ours)));
report('bare modesl Connection json events/s (median)', fmt(median(theirs)));
report('EslClient / bare modesl', `${fmt(median(ours) / median(theirs), 2)}×`);
