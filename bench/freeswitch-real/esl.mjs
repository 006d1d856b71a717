// Minimal ESL recorder: speaks ESL over a raw TCP socket and keeps EXACTLY the bytes received (and,
// separately, the bytes sent), so fixtures are byte-for-byte what FreeSWITCH 1.10.12 wrote.
// Not a client library: just enough framing (headers, blank line, Content-Length body) to know when
// a reply has arrived.
import net from 'node:net';
import { writeFileSync } from 'node:fs';

export class EslRec {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.recv = []; // Buffers as received
    this.sent = []; // Buffers as sent
    this.pending = Buffer.alloc(0);
    this.frames = []; // parsed { headers, body, at }
    this.waiters = [];
    this.closed = false;
    this.t0 = Date.now();
  }
  static async open(host, port, password) {
    const r = new EslRec(host, port);
    await r.connect();
    await r.next((f) => f.headers['Content-Type'] === 'auth/request');
    if (password !== undefined) {
      const rep = await r.cmd(`auth ${password}`);
      if (!String(rep.headers['Reply-Text']).startsWith('+OK'))
        throw new Error(`auth failed: ${rep.headers['Reply-Text']}`);
    }
    return r;
  }
  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect(this.port, this.host, () => resolve());
      this.sock.on('error', (e) => {
        if (!this.closed) reject(e);
      });
      this.sock.on('data', (b) => {
        this.recv.push(b);
        this.pending = Buffer.concat([this.pending, b]);
        this.parse();
      });
      this.sock.on('close', () => {
        this.closed = true;
        this.closedAt = Date.now();
        this.wake();
      });
    });
  }
  parse() {
    for (;;) {
      const end = this.pending.indexOf('\n\n');
      if (end < 0) return;
      const head = this.pending.subarray(0, end).toString('utf8');
      const headers = {};
      for (const line of head.split('\n')) {
        const i = line.indexOf(': ');
        if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2);
      }
      const len = Number(headers['Content-Length'] ?? 0);
      if (this.pending.length < end + 2 + len) return;
      const body = this.pending.subarray(end + 2, end + 2 + len).toString('utf8');
      this.pending = this.pending.subarray(end + 2 + len);
      this.frames.push({ headers, body, at: Date.now() - this.t0 });
      this.wake();
    }
  }
  wake() {
    for (const w of [...this.waiters]) w();
  }
  /** Resolves with the first frame (from index `from`) matching pred; rejects after timeoutMs or on close. */
  next(pred, timeoutMs = 10_000, from = this.cursor ?? 0) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = from; i < this.frames.length; i++) {
          if (pred(this.frames[i])) {
            this.cursor = i + 1;
            done();
            resolve(this.frames[i]);
            return;
          }
        }
        if (this.closed) {
          done();
          reject(new Error('closed'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting on ${this.host}:${this.port}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }
  write(text) {
    const b = Buffer.from(text, 'utf8');
    this.sent.push(b);
    this.sock.write(b);
  }
  /** Sends a command and waits for its command/reply or api/response. */
  cmd(line, timeoutMs = 10_000) {
    const from = this.frames.length;
    this.write(`${line}\n\n`);
    return this.next(
      (f) => f.headers['Content-Type'] === 'command/reply' || f.headers['Content-Type'] === 'api/response',
      timeoutMs,
      from,
    );
  }
  async api(line, timeoutMs) {
    return (await this.cmd(`api ${line}`, timeoutMs)).body;
  }
  events(name) {
    return this.frames.filter(
      (f) => f.headers['Content-Type']?.startsWith('text/event') && eventName(f) === name,
    );
  }
  waitClose(timeoutMs = 5_000) {
    return new Promise((resolve) => {
      if (this.closed) return resolve(true);
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.sock.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
  close() {
    if (!this.closed) this.sock.destroy();
    this.closed = true;
  }
  /** Writes <base>.recv (bytes received) and <base>.sent (bytes sent). */
  save(base) {
    writeFileSync(`${base}.recv`, Buffer.concat(this.recv));
    writeFileSync(`${base}.sent`, Buffer.concat(this.sent));
  }
}

/** Event-Name of a text/event-plain or text/event-json frame. */
export function eventName(f) {
  const ct = f.headers['Content-Type'];
  if (ct === 'text/event-json') {
    try {
      return JSON.parse(f.body)['Event-Name'];
    } catch {
      return undefined;
    }
  }
  if (ct === 'text/event-plain') {
    const m = /^Event-Name: (.*)$/m.exec(f.body);
    return m?.[1];
  }
  return undefined;
}
export function eventHeaders(f) {
  const ct = f.headers['Content-Type'];
  if (ct === 'text/event-json') return JSON.parse(f.body);
  const h = {};
  for (const line of f.body.split('\n\n')[0].split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) h[line.slice(0, i)] = safeDecode(line.slice(i + 2));
  }
  return h;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function safeDecode(v) {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
