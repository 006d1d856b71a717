import type { Varbind } from 'net-snmp';
import snmp from 'net-snmp';
import type { Probe } from '../../topology/schema.ts';
import { ProbeFailed, ProbeTimeout } from './errors.ts';
import type { ProbeRead } from './probe.ts';

/**
 * An SNMP v2c GET of one OID (an agent's sysUpTime, a gateway's own status object): the value, an OCTET STRING as
 * text. One session per probe, closed after it: probes are seconds apart, and a session holds a UDP socket.
 */
export function snmpGetProbe(p: Extract<Probe, { type: 'snmp-get' }>): ProbeRead {
  const shown = `snmp-get ${p.host}:${p.port} ${p.oid}`;
  return () =>
    new Promise((resolve, reject) => {
      const session = snmp.createSession(p.host, p.community, {
        port: p.port,
        version: snmp.Version2c,
        timeout: p.timeout_ms,
        retries: 0,
      });
      // A socket error (ICMP port unreachable) arrives here as well as in the request's callback.
      session.on('error', () => {});
      session.get([p.oid], (err: Error | null, varbinds?: Varbind[]) => {
        session.close();
        if (err) {
          const timedOut = err.name === 'RequestTimedOutError';
          return reject(
            timedOut
              ? new ProbeTimeout(`${shown}: no answer within ${p.timeout_ms} ms`)
              : new ProbeFailed(`${shown}: ${err.message}`),
          );
        }
        const vb = varbinds?.[0];
        if (!vb || snmp.isVarbindError(vb))
          return reject(new ProbeFailed(`${shown}: ${vb ? snmp.varbindError(vb) : 'no varbind'}`));
        resolve(Buffer.isBuffer(vb.value) ? vb.value.toString('utf8') : vb.value);
      });
    });
}
