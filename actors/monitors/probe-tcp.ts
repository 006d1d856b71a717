import { connect } from 'node:net';
import type { Probe } from '../../topology/schema.ts';
import { ProbeFailed, ProbeTimeout } from './errors.ts';
import type { ProbeRead } from './probe.ts';

/**
 * A TCP connect (a MEGACO MG's H.248 port, a SIP gateway's TLS port): the three-way handshake completing is the
 * answer; the connection is closed at once, before any protocol byte.
 */
export function tcpProbe(p: Extract<Probe, { type: 'tcp' }>): ProbeRead {
  return () =>
    new Promise((resolve, reject) => {
      const target = `${p.host}:${p.port}`;
      const socket = connect({ host: p.host, port: p.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ProbeTimeout(`tcp ${target}: no connection within ${p.timeout_ms} ms`));
      }, p.timeout_ms);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(true);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ProbeFailed(`tcp ${target}: ${err.code ?? err.message}`));
      });
    });
}
