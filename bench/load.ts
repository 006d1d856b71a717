// A lean HTTP/1.1 load generator for the API benchmark, run in its own process: `connections` keep-alive TCP
// connections speaking HTTP/1.1 directly (requests built as bytes, responses framed by Content-Length), each
// sending its requests one after another, latency recorded per request. A node:http client costs more CPU per
// request than the servers it measures; this one does not. Scenarios:
//   ask URL TOKEN        POST a message and wait for the reply (bare fastify: TOKEN "-")
//   mutex URL TOKEN      lock then unlock, each connection on its own key
//   channel URL TOKEN    lock then unlock through the SDK over the script channel: each client (connection) runs
//                        FLOWS (env, default 1) lock/unlock loops at once, pipelined on its channel, each on its own key
//                        (KEYS, env: comma-separated keys to use instead, one per loop, client by client — so a cluster
//                        benchmark can pick keys that one group owns)
// Prints one JSON line: {rps, cycles, p50, p99, errors}.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { MwareClient } from '../src/client/client.ts';

const [scenario, base, token, connArg, secondsArg] = process.argv.slice(2);
const connections = Number(connArg ?? 32);
const seconds = Number(secondsArg ?? 5);
const url = new URL(base ?? '');
const auth = token && token !== '-' ? `Authorization: Bearer ${token}\r\n` : '';

function requestBytes(path: string, body: string): Buffer {
  return Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** One keep-alive connection: send a request, resolve with the status and body of its response. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((r: { status: number; body: string }) => void) | undefined;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
  }

  static open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(Number(url.port), url.hostname, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  send(bytes: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.sock.write(bytes);
    });
  }

  private parse(): void {
    const head = this.buf.indexOf('\r\n\r\n');
    if (head < 0) return;
    const headers = this.buf.subarray(0, head).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    if (this.buf.length < head + 4 + length) return;
    const status = Number(headers.slice(9, 12));
    const body = this.buf.subarray(head + 4, head + 4 + length).toString('utf8');
    this.buf = this.buf.subarray(head + 4 + length);
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ status, body });
  }

  close(): void {
    this.sock.destroy();
  }
}

const latencies: number[] = [];
let errors = 0;
let cycles = 0;
const askBytes = requestBytes(url.pathname + url.search, '{"type":"ping"}');

async function run(i: number, end: number): Promise<void> {
  const c = await Conn.open();
  const key = `bench-${process.pid}-${i}`;
  const lockBytes = requestBytes(
    `/api/v1/mutex/${key}/lock`,
    JSON.stringify({ owner: key, hold_ms: 10_000 }),
  );
  const timed = async (bytes: Buffer) => {
    const t0 = performance.now();
    const r = await c.send(bytes);
    latencies.push(performance.now() - t0);
    if (r.status !== 200) errors++;
    return r;
  };
  while (performance.now() < end) {
    if (scenario === 'ask') await timed(askBytes);
    else {
      const lock = await timed(lockBytes);
      const t = (JSON.parse(lock.body) as { token?: number }).token;
      await timed(requestBytes(`/api/v1/mutex/${key}/unlock`, JSON.stringify({ owner: key, token: t })));
    }
    cycles++;
  }
  c.close();
}

/** One script client: its own MwareClient (one script channel), FLOWS lock/unlock loops pipelined on it. */
async function channelClient(i: number, end: number): Promise<void> {
  const mw = new MwareClient({ url: base ?? '', token: token ?? '' });
  const flows = Number(process.env.FLOWS ?? 1);
  const keys = process.env.KEYS?.split(',');
  await mw.mutex.inspect(`warm-${i}`); // opens the channel
  await Promise.all(
    Array.from({ length: flows }, async (_, f) => {
      const key = keys ? keys[i * flows + f] : `bench-${process.pid}-${i}-${f}`;
      if (key === undefined) throw new Error(`KEYS has fewer than ${connections * flows} keys`);
      const owner = key;
      while (performance.now() < end) {
        let t = performance.now();
        const r = await mw.mutex.lock(key, { owner, hold_ms: 10_000 });
        latencies.push(performance.now() - t);
        if (!r.granted) {
          errors++;
          continue;
        }
        t = performance.now();
        await mw.mutex.unlock(key, { owner, token: r.token }).catch(() => errors++);
        latencies.push(performance.now() - t);
        cycles++;
      }
    }),
  );
  mw.close();
}

const t0 = performance.now();
await Promise.all(
  Array.from({ length: connections }, (_, i) =>
    scenario === 'channel' ? channelClient(i, t0 + seconds * 1000) : run(i, t0 + seconds * 1000),
  ),
);
const elapsed = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
console.log(
  JSON.stringify({
    rps: latencies.length / elapsed,
    cycles: cycles / elapsed,
    p50: pct(50),
    p99: pct(99),
    errors,
  }),
);
