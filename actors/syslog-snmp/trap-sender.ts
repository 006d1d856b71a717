import type { Session, Varbind } from 'net-snmp';
import snmp from 'net-snmp';
import type { SnmpManager } from '../../topology/schema.ts';
import type { ManagerCounters } from './protocol.ts';

/**
 * One net-snmp session per manager, opened when the service starts and closed when it stops. A trap is
 * unconfirmed: "sent" means handed to the socket; a send that fails (no route, bad address) is counted against
 * its manager and never stops the others. v3 traps go authPriv with this sender as the authoritative engine
 * (`engine_id`), which the manager must know (`createUser -e ENGINEID …` in snmptrapd).
 */

export interface TrapVarbind {
  oid: string;
  value: string | number;
}

const AUTH = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
} as const satisfies Record<SnmpManager['auth_protocol'], snmp.AuthProtocols>;

const PRIV = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
} as const satisfies Record<SnmpManager['priv_protocol'], snmp.PrivProtocols>;

interface Target {
  session: Session;
  counters: ManagerCounters;
}

export class TrapSender {
  private readonly targets: Target[];

  constructor(managers: readonly SnmpManager[], engineId: string) {
    this.targets = managers.map((m) => ({
      session: open(m, engineId),
      counters: { manager: `${m.host}:${m.port} (${m.version})`, sent: 0, errors: 0, last_error: null },
    }));
    for (const t of this.targets)
      // A socket error (ICMP unreachable surfacing as ECONNREFUSED, say) is the manager's, not the service's.
      t.session.on('error', (err) => this.failed(t, err));
  }

  /** Sends the trap `oid` with `varbinds` to every manager; resolves when each send has been handed off. */
  send(oid: string, varbinds: readonly TrapVarbind[]): Promise<void> {
    const vbs: Varbind[] = varbinds.map((v) => ({
      oid: v.oid,
      type: typeof v.value === 'number' ? snmp.ObjectType.Integer : snmp.ObjectType.OctetString,
      value: v.value,
    }));
    return Promise.all(
      this.targets.map(
        (t) =>
          new Promise<void>((resolve) => {
            try {
              t.session.trap(oid, vbs, (err) => {
                if (err) this.failed(t, err);
                else t.counters.sent++;
                resolve();
              });
            } catch (err) {
              this.failed(t, err);
              resolve();
            }
          }),
      ),
    ).then(() => undefined);
  }

  counters(): ManagerCounters[] {
    return this.targets.map((t) => ({ ...t.counters }));
  }

  get sent(): number {
    return this.targets.reduce((n, t) => n + t.counters.sent, 0);
  }

  close(): void {
    for (const t of this.targets) {
      try {
        t.session.close();
      } catch {
        // already closed
      }
    }
  }

  private failed(t: Target, err: unknown): void {
    t.counters.errors++;
    t.counters.last_error = err instanceof Error ? err.message : String(err);
  }
}

function open(m: SnmpManager, engineId: string): Session {
  const common = {
    port: m.port,
    trapPort: m.port,
    transport: m.host.includes(':') ? 'udp6' : 'udp4',
  } as const;
  if (m.version === 'v2c')
    return snmp.createSession(m.host, m.community ?? '', { ...common, version: snmp.Version2c });
  // topology/rules.ts has checked that a v3 manager has its user and both keys.
  return snmp.createV3Session(
    m.host,
    {
      name: m.user ?? '',
      level: snmp.SecurityLevel.authPriv,
      authProtocol: AUTH[m.auth_protocol],
      authKey: m.auth_key ?? '',
      privProtocol: PRIV[m.priv_protocol],
      privKey: m.priv_key ?? '',
    },
    { ...common, version: snmp.Version3, engineID: engineId },
  );
}
