import type { PgTarget } from '../../src/pg/db.ts';
import type { Freeswitch } from '../../topology/schema.ts';

/** The group's `freeswitch` parameter compiled into a fully defaulted form before use (05-freeswitch.md). */

export interface FsHostSettings {
  name: string;
  switchname: string;
  esl: { host: string; port: number; password: string };
  sipIp: string;
  mediaIp: string;
  profiles: string[];
  /** The host's RTP port range (FreeSWITCH's default 16384-32768 unless the topology names it). */
  rtpPorts: { start: number; end: number };
}

/** FreeSWITCH's `rtp-start-port` / `rtp-end-port` defaults (switch_rtp.c, START_PORT / END_PORT). */
export const DEFAULT_RTP_PORTS = { start: 16384, end: 32768 } as const;

export interface FsFarmSettings {
  recoveryDb: PgTarget;
  confirmMs: number;
  /** `failover.targets`: hosts a failover may use (undefined: every live one). */
  failoverTargets: string[] | undefined;
  reinviteWindowMs: number;
  rewriteMedia: boolean;
  probeMs: number;
  hosts: FsHostSettings[];
  callManager: FsCallManagerSettings;
}

export interface FsCallManagerSettings {
  recordingsDir: string;
  originateTimeoutS: number;
  /** `domain`: the request's domain is the dialplan context. */
  context: string;
}

export function compileFarm(fs: Freeswitch): FsFarmSettings {
  const db = fs.recovery_db;
  return {
    recoveryDb: {
      host: db.host,
      port: db.port,
      database: db.database,
      user: db.user,
      ...(db.password !== undefined && { password: db.password }),
    },
    confirmMs: fs.failover.confirm_ms,
    failoverTargets: fs.failover.targets === 'auto' ? undefined : fs.failover.targets,
    reinviteWindowMs: fs.failover.reinvite_window_ms,
    rewriteMedia: fs.failover.rewrite_media,
    probeMs: fs.probe_ms,
    hosts: fs.hosts.map((h) => ({
      name: h.name,
      switchname: h.switchname,
      esl: { host: h.esl_host, port: h.esl_port, password: h.esl_password },
      sipIp: h.sip_ip,
      mediaIp: h.media_ip,
      profiles: [...h.profiles],
      rtpPorts: h.rtp_ports ? { start: h.rtp_ports[0], end: h.rtp_ports[1] } : { ...DEFAULT_RTP_PORTS },
    })),
    callManager: {
      // No trailing slash: a recording's path is checked to lie strictly under `<dir>/`.
      recordingsDir: fs.call_manager.recordings_dir.replace(/\/+$/, '') || '/',
      originateTimeoutS: fs.call_manager.originate_timeout_s,
      context: fs.call_manager.context,
    },
  };
}
