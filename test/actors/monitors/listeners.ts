import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import type { Server as TcpServer, Socket } from 'node:net';
import { createServer } from 'node:net';

/** Real listeners on 127.0.0.1 for the monitors' probes to ask: a TCP port, and an HTTP server with a settable answer. */

export interface TcpListener {
  port: number;
  close(): Promise<void>;
}

/** Accepts and closes connections on `port` (a free one when 0). */
export async function listenTcp(port = 0): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const srv: TcpServer = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.end();
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  const addr = srv.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
}

export interface HttpStub {
  port: number;
  url(path?: string): string;
  answer: HttpAnswer;
  requests: number;
  close(): Promise<void>;
}

/** An HTTP server answering every request with `answer` (changed by the test as it goes). */
export async function httpStub(answer: HttpAnswer): Promise<HttpStub> {
  const stub = { answer, requests: 0 } as HttpStub;
  const hanging = new Set<ServerResponse>();
  const srv: Server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    stub.requests++;
    req.resume();
    if (stub.answer.hang) {
      hanging.add(res);
      return;
    }
    res.writeHead(stub.answer.status, { 'content-type': 'application/json' }).end(stub.answer.body);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  stub.port = typeof addr === 'object' && addr ? addr.port : 0;
  stub.url = (path = '/') => `http://127.0.0.1:${stub.port}${path}`;
  stub.close = () =>
    new Promise<void>((r) => {
      for (const res of hanging) res.destroy();
      srv.closeAllConnections();
      srv.close(() => r());
    });
  return stub;
}
