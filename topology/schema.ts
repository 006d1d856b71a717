import { z } from 'zod';
import {
  absolutePath,
  domainName,
  entityName,
  ext,
  host,
  hostOrHostPort,
  hour,
  instanceName,
  interfaceAddress,
  ipAddress,
  port,
  weekday,
} from './primitives.ts';

/**
 * The topology file's schema (01-topology.md, 04-postgres.md, 05-freeswitch.md, 06-services.md).
 * It is the single source of truth: types are inferred from it and `mware schema` publishes it as JSON Schema.
 * Objects are strict so a typo is an error; only `ext` is free-form.
 */

// ---------------------------------------------------------------------------------------------- coordination

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\//, { error: 'must be a redis:// or rediss:// URL' })
  .describe('Plain Redis URL, e.g. redis://127.0.0.1:6379/0');

export const RedisCoordination = z.union([
  z.strictObject({ url: redisUrl }),
  z.strictObject({
    sentinels: z.array(z.strictObject({ host, port })).min(1),
    name: z.string().min(1),
    password: z.string().optional(),
    sentinel_password: z.string().optional(),
    db: z.int().min(0).default(0),
  }),
]);

export const Coordination = z.strictObject({
  redis: RedisCoordination,
  lease_ttl_ms: z.int().min(200).max(60_000).default(1500),
  renew_ms: z.int().min(50).max(30_000).default(300),
});

// -------------------------------------------------------------------------------------------------- security

export const TokenScope = z.enum(['send', 'mutex', 'calls', 'admin']);

export const ApiToken = z.strictObject({
  name: entityName,
  token: z.string().min(16, { error: 'tokens must be at least 16 characters' }),
  scopes: z.array(TokenScope).min(1),
});

export const Security = z.strictObject({
  api_tokens: z.array(ApiToken).default([]),
  cluster_secret: z
    .string()
    .min(16, { error: 'the cluster secret must be at least 16 characters' })
    .optional(),
});

// ------------------------------------------------------------------------------------------ sites and servers

export const Site = z.strictObject({
  name: entityName,
  master: z.boolean().default(false),
  domains: z.array(domainName).default([]),
  arbiter: hostOrHostPort.optional(),
});

export const Server = z.strictObject({
  name: entityName,
  site: z.string(),
  ifaces: z.record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'interface aliases use letters, digits, _ . -' }),
    interfaceAddress,
  ),
});

// ---------------------------------------------------------------------------------------------- pg_controller

/** Keys a pg_controller server may carry; the cluster level may carry the same keys as defaults. */
const pgServerKeys = {
  ssh_host: host.optional(),
  ssh_port: port.optional(),
  ssh_user: z.string().min(1).optional(),
  ssh_pwd: z.string().optional(),
  ssh_key: z.string().optional(),
  ssh_key_file: absolutePath.optional(),
  ssh_host_key: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]+=*$/, {
      error: 'a host key pin is SHA256:<base64>, as ssh-keygen -l prints it',
    })
    .optional()
    .describe('Pin of the SSH host key; without it any host key is accepted'),
  pg_host: host.optional(),
  pg_port: port.optional(),
  pg_database: z.string().min(1).optional(),
  pg_user: z.string().min(1).optional(),
  pg_pwd: z.string().optional(),
  pg_replica_user: z.string().min(1).optional(),
  pg_replica_pwd: z.string().optional(),
  pg_ctl_command: absolutePath.optional(),
  pg_basebackup_command: absolutePath.optional(),
  pg_rewind_command: absolutePath.optional(),
  pg_data_folder: absolutePath.optional(),
  pg_config_folder: absolutePath.optional(),
  pg_backup_folder: absolutePath.optional(),
  pg_log_filepath: absolutePath.optional(),
  pg_signal_filepath: absolutePath.optional(),
};

/** Keys every pg_controller server must end up with (on itself or from its cluster). */
export const PG_SERVER_REQUIRED = [
  'ssh_host',
  'ssh_user',
  'pg_host',
  'pg_port',
  'pg_replica_user',
  'pg_ctl_command',
  'pg_basebackup_command',
  'pg_data_folder',
] as const;

export const PgServer = z.strictObject(pgServerKeys);

export const PgCluster = z.strictObject({
  key: entityName,
  referee: hostOrHostPort.optional(),
  max_lag_on_failover: z
    .int()
    .min(0)
    .default(1024 * 1024),
  confirm_ms: z
    .int()
    .min(100)
    .default(2000)
    .describe('How long the primary must be silent (database and SSH) before a host-lost failover'),
  probe_ms: z.int().min(50).default(250).describe('How often each server is probed'),
  servers: z.array(PgServer).min(2, { error: 'a replicated cluster needs at least two servers' }),
  ...pgServerKeys,
});

// ------------------------------------------------------------------------------------------ backup_controller

const storageKeys = {
  storage_ssh_host: host.optional(),
  storage_ssh_port: port.optional(),
  storage_ssh_user: z.string().min(1).optional(),
  storage_ssh_pwd: z.string().optional(),
  storage_ssh_key: z.string().optional(),
  storage_ssh_key_file: absolutePath.optional(),
  storage_ssh_path: z.string().min(1).optional(),
};

export const STORAGE_REQUIRED = ['storage_ssh_host', 'storage_ssh_user', 'storage_ssh_path'] as const;

export const SendMode = z.enum(['rsync', 'zip'], {
  error: (i) => `unknown send_mode ${JSON.stringify(i.input)} (known: rsync, zip)`,
});

export const SyncFolder = z.strictObject({
  send_mode: SendMode.default('rsync'),
  source: absolutePath.optional(),
  excluded_paths: z.array(z.string()).default([]),
  ...storageKeys,
});

export const BackupPgServer = z.strictObject({
  ssh_host: host,
  pg_host: host,
  ssh_port: port.optional(),
  pg_port: port.optional(),
});

export const BackupPgdb = z.strictObject({
  servers: z.array(BackupPgServer).min(1),
  ssh_port: port.default(22),
  ssh_user: z.string().min(1),
  ssh_pwd: z.string().optional(),
  ssh_key: z.string().optional(),
  ssh_key_file: absolutePath.optional(),
  pg_port: port.default(5432),
  pg_replica_user: z.string().min(1),
  pg_replica_pwd: z.string().optional(),
  pg_basebackup_command: absolutePath.optional(),
  ...storageKeys,
});

export const BackupController = z.strictObject({
  hours_interval: z.tuple([hour, hour], { error: 'must be [start hour, end hour]' }),
  weekdays: z.array(weekday).min(1).default([1, 2, 3, 4, 5, 6, 7]),
  sync_folder: SyncFolder.optional(),
  pgdb: z.array(BackupPgdb).default([]),
  ...storageKeys,
});

// ------------------------------------------------------------------------------------------------ freeswitch

export const FreeswitchHost = z.strictObject({
  name: entityName,
  esl_host: host,
  esl_port: port.default(8021),
  esl_password: z.string().min(1),
  switchname: z.string().min(1),
  sip_ip: ipAddress,
  media_ip: ipAddress,
  profiles: z.array(z.string().min(1)).min(1),
  /**
   * Ports a migration may give legs recovered onto this host (a recovered leg binds the port its metadata names):
   * the host's `rtp-start-port`/`rtp-end-port` (switch.conf.xml), or a band below `rtp-start-port` kept for
   * recovered legs; never above `rtp-end-port` (FINDINGS.md g). Default FreeSWITCH's 16384-32768.
   */
  rtp_ports: z.tuple([port, port], { error: 'must be [start port, end port]' }).optional(),
});

export const Freeswitch = z.strictObject({
  recovery_db: z.strictObject({
    host,
    port: port.default(5432),
    database: z.string().min(1),
    user: z.string().min(1),
    password: z.string().optional(),
  }),
  failover: z
    .strictObject({
      confirm_ms: z.int().min(100).default(1500),
      targets: z.union([z.literal('auto'), z.array(entityName).min(1)]).default('auto'),
      reinvite_window_ms: z.int().min(1000).default(32_000),
      /** Rewrite media IP and Via to the target's (false only where the hosts share a floating IP). */
      rewrite_media: z.boolean().default(true),
    })
    .default({ confirm_ms: 1500, targets: 'auto', reinvite_window_ms: 32_000, rewrite_media: true }),
  /** How often a host actor asks its host `status` (a hung host is noticed by this, a dead one by the socket). */
  probe_ms: z.int().min(100).default(1000),
  hosts: z.array(FreeswitchHost).min(1),
  /** The call manager facade (`/rest/v1/uc/calls`): where recordings go and how new calls are placed. */
  call_manager: z
    .strictObject({
      /** Recordings are written under `<recordings_dir>/<domain>/` on the FreeSWITCH host; nowhere else. */
      recordings_dir: absolutePath
        .refine((v) => /^\/[A-Za-z0-9._/-]*$/.test(v) && !v.split('/').includes('..'), {
          // It goes into an ESL command line as it is.
          error: 'must be an absolute path of letters, digits, `.`, `_`, `-` and `/`, without `..`',
        })
        .default('/var/lib/freeswitch/recordings'),
      /** How long an originate rings the first party (FreeSWITCH's `originate_timeout`). */
      originate_timeout_s: z.int().min(5).max(300).default(60),
      /** Dialplan context the first party is sent to: `domain` (the request's domain, multi-tenant) or a name. */
      context: entityName.default('domain'),
    })
    .default({
      recordings_dir: '/var/lib/freeswitch/recordings',
      originate_timeout_s: 60,
      context: 'domain',
    }),
});

// ----------------------------------------------------------------------------------------------- syslog_snmp

export const SYSLOG_SEVERITIES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

const severity = z
  .union([z.int().min(0).max(7), z.enum(SYSLOG_SEVERITIES)], {
    error: (i) =>
      `must be a syslog severity 0-7 or ${SYSLOG_SEVERITIES.join(', ')} (got ${JSON.stringify(i.input)})`,
  })
  .describe('0 (emerg) … 7 (debug), by number or name');
const facility = z
  .union([z.int().min(0).max(23), z.enum(SYSLOG_FACILITIES)], {
    error: (i) =>
      `must be a syslog facility 0-23 or a name such as daemon, local0 (got ${JSON.stringify(i.input)})`,
  })
  .describe('0 (kern) … 23 (local7), by number or name');
const oid = z.string().regex(/^1(\.(0|[1-9][0-9]*)){2,127}$/, {
  error: (i) => `must be a numeric OID such as 1.3.6.1.4.1.32473.1.0.1 (got ${JSON.stringify(i.input)})`,
});

export const SyslogRule = z.strictObject({
  name: entityName,
  severity_max: severity
    .optional()
    .describe('Matches this severity and the more severe ones (lower numbers)'),
  facility: facility.optional(),
  host: z.string().min(1).optional().describe('The sending host as the message names it (case-insensitive)'),
  program: z.string().min(1).optional().describe('The program (RFC 3164 tag, RFC 5424 APP-NAME)'),
  regex: z.string().min(1).optional().describe('A JavaScript regular expression the message text must match'),
  trap_oid: oid.optional().describe('The notification OID sent (default: MWARE-MIB mwareSyslogTrap)'),
});

export const SnmpAuthProtocol = z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']);
export const SnmpPrivProtocol = z.enum(['des', 'aes', 'aes256b', 'aes256r']);

export const SnmpManager = z.strictObject({
  host: host,
  port: port.default(162),
  version: z.enum(['v2c', 'v3'], { error: (i) => `version is v2c or v3 (got ${JSON.stringify(i.input)})` }),
  community: z.string().min(1).optional().describe('v2c community (a secret: use ${env:…} or ${file:…})'),
  user: z.string().min(1).max(32).optional().describe('v3 USM user (authPriv)'),
  auth_protocol: SnmpAuthProtocol.default('sha'),
  auth_key: z.string().min(8).optional().describe('v3 authentication passphrase, 8 characters or more'),
  priv_protocol: SnmpPrivProtocol.default('aes'),
  priv_key: z.string().min(8).optional().describe('v3 privacy passphrase, 8 characters or more'),
});

export const SyslogSnmp = z.strictObject({
  listen: z.strictObject({
    udp_port: port.optional(),
    tcp_port: port.optional(),
    iface: z.string().min(1).default('default').describe("A server interface alias; default: the role's own"),
  }),
  rules: z.array(SyslogRule).default([]),
  managers: z.array(SnmpManager).min(1, { error: 'at least one SNMP manager is required' }),
  rate_limit: z
    .strictObject({
      per_second: z.number().positive().max(100_000).default(50),
      burst: z.int().min(1).max(100_000).default(100),
    })
    .default({ per_second: 50, burst: 100 })
    .describe('Token bucket on syslog traps (mware alarms are not limited)'),
  engine_id: z
    .string()
    .regex(/^(0x)?([0-9A-Fa-f]{2}){5,32}$/, { error: 'must be 5-32 bytes in hex' })
    .optional()
    .describe('SNMPv3 engine ID of this sender (hex); default 80007ED904 + the role name in hex'),
  alarms: z.boolean().default(true).describe("Also trap mware's own alarms (notices at warn/error)"),
});

// -------------------------------------------------------------------------------------------------- monitors

const probeTimeout = z
  .int()
  .min(50)
  .max(60_000)
  .default(2_000)
  .describe('A probe slower than this has failed');
const httpUrl = z.string().regex(/^https?:\/\/[^\s/?#]+([/?#]\S*)?$/, {
  error: (i) => `must be an http:// or https:// URL (got ${JSON.stringify(i.input)})`,
});
const jsonPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, {
    error: (i) => `must be a dotted path such as status or sync.last (got ${JSON.stringify(i.input)})`,
  })
  .describe('Dotted path into the JSON body (an array index is a number): status, sync.last, items.0.name');
const expected = z
  .union([z.string(), z.number(), z.boolean()])
  .describe('The value the probe must find (compared as text); without it any answer passes');

export const TcpProbe = z.strictObject({ type: z.literal('tcp'), host, port, timeout_ms: probeTimeout });

export const HttpJsonProbe = z.strictObject({
  type: z.literal('http-json'),
  url: httpUrl,
  json_path: jsonPath.optional(),
  expect: expected.optional(),
  tls_verify: z.boolean().default(true).describe('Check the server certificate of an https URL'),
  timeout_ms: probeTimeout,
});

export const SnmpGetProbe = z.strictObject({
  type: z.literal('snmp-get'),
  host,
  port: port.default(161),
  community: z.string().min(1).describe('v2c community (a secret: use ${env:…} or ${file:…})'),
  oid,
  expect: expected.optional(),
  timeout_ms: probeTimeout,
});

const PROBE_TYPES = 'tcp, http-json or snmp-get';
export const Probe = z.discriminatedUnion('type', [TcpProbe, HttpJsonProbe, SnmpGetProbe], {
  error: (i) =>
    i.code === 'invalid_union' && i.note === 'No matching discriminator'
      ? `probe type is ${PROBE_TYPES}`
      : undefined,
});

const monitorCommon = {
  name: entityName,
  interval_ms: z.int().min(100).max(3_600_000).default(10_000).describe('Time between probe rounds'),
  confirm: z
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('Consecutive failed rounds before a deviation is raised (one good round clears it)'),
};

export const NamesMonitor = z.strictObject({
  ...monitorCommon,
  kind: z.literal('names'),
  groups: z
    .union([z.literal('all'), z.array(z.int().min(1)).min(1)])
    .optional()
    .describe(
      "Each group's active instance as a global name: claimed by the members whose /active answers 200",
    ),
  names: z
    .array(
      z.strictObject({
        name: entityName,
        claimants: z.array(z.strictObject({ name: entityName, probe: Probe })).min(1),
      }),
    )
    .default([])
    .describe('Other singletons: claimed by each claimant whose probe passes'),
});

export const MegacoMonitor = z.strictObject({
  ...monitorCommon,
  kind: z.literal('megaco'),
  links: z
    .array(
      z.strictObject({
        mgc: entityName,
        mg: entityName,
        probe: Probe.describe("Usually tcp to the MG's H.248 port"),
      }),
    )
    .min(1),
});

export const FsyncStatus = z.discriminatedUnion('type', [
  HttpJsonProbe.omit({ expect: true }).extend({
    json_path: jsonPath.describe(
      'Where the body gives the last sync time (ISO 8601, or seconds/ms since 1970)',
    ),
  }),
  z.strictObject({
    type: z.literal('file-mtime'),
    path: absolutePath.describe('A file touched at every sync'),
  }),
]);

export const FsyncMonitor = z.strictObject({
  ...monitorCommon,
  kind: z.literal('fsync'),
  sources: z
    .array(z.strictObject({ name: entityName, status: FsyncStatus, max_lag_ms: z.int().min(1) }))
    .min(1),
});

export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss'] as const;
const sipSocket = z
  .string()
  .regex(/^(udp|tcp|tls|sctp|ws|wss):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    error: (i) => `must be a usrloc socket such as tls:127.0.0.5:5061 (got ${JSON.stringify(i.input)})`,
  });

export const SgMonitor = z.strictObject({
  ...monitorCommon,
  kind: z.literal('sg'),
  registrar: z
    .strictObject({
      host,
      port: port.default(5432),
      database: z.string().min(1),
      user: z.string().min(1),
      password: z.string().optional().describe('A secret: use ${env:…} or ${file:…}'),
      table: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'must be a plain lower-case SQL table name' })
        .default('location'),
    })
    .describe("The registrar's PostgreSQL database holding Kamailio's usrloc table"),
  transports: z
    .array(z.enum(SIP_TRANSPORTS))
    .min(1)
    .default(['ws', 'wss', 'tls'])
    .describe(
      "A lost gateway's registrations with these transports are deleted (the transport parameter of received or contact, else the socket's protocol)",
    ),
  gateways: z
    .array(
      z.strictObject({
        name: entityName,
        sockets: z
          .array(sipSocket)
          .min(1)
          .describe("The gateway's sockets as usrloc's socket column names them"),
        probe: Probe,
      }),
    )
    .min(1),
});

const MONITOR_KINDS = 'names, megaco, fsync or sg';
export const Monitor = z.discriminatedUnion('kind', [NamesMonitor, MegacoMonitor, FsyncMonitor, SgMonitor], {
  error: (i) =>
    i.code === 'invalid_union' && i.note === 'No matching discriminator'
      ? `monitor kind is ${MONITOR_KINDS}`
      : undefined,
});

// -------------------------------------------------------------------------------------------------- telegram

export const TelegramAdmin = z.strictObject({
  login: z
    .string()
    .regex(/^[^\s:]{1,64}$/, { error: 'a login is 1-64 characters without spaces or colons' })
    .describe('What an administrator types before the colon in /start <login>:<password>'),
  password: z
    .string()
    .min(8, { error: 'a password must be at least 8 characters' })
    .describe('A secret: use ${env:…} or ${file:…}'),
});

export const Telegram = z.strictObject({
  api_base_url: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { error: 'must be an http:// or https:// URL' })
    .default('https://api.telegram.org')
    .describe('Where the Bot API is (a local fake in tests); the token is added as /bot<token>/<method>'),
  token: z
    .string()
    .regex(/^[0-9]+:[A-Za-z0-9_-]+$/, { error: 'must look like a Bot API token (digits, a colon, letters)' })
    .describe('The bot token from @BotFather (a secret: use ${env:…} or ${file:…})'),
  admins: z
    .array(TelegramAdmin)
    .min(1, { error: 'at least one administrator account is required' })
    .describe('Master-domain administrators who may subscribe with /start <login>:<password>'),
  poll_s: z
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe('How often the system state is polled for new and cleared deviations'),
  long_poll_s: z.int().min(0).max(50).default(30).describe('getUpdates long-polling timeout'),
});

// ------------------------------------------------------------------------------------------------------ acme

/** A certificate name: a lower-case DNS name of two labels or more, `*.` in front for a wildcard (dns-01 only). */
const certName = z.string().refine((v) => domainName.safeParse(v.startsWith('*.') ? v.slice(2) : v).success, {
  error: (i) =>
    `must be a lower-case DNS name with at least two labels, or *. and one (got ${JSON.stringify(i.input)})`,
});

export const AcmeCert = z.strictObject({
  names: z
    .array(certName)
    .min(1, { error: 'at least one name is required' })
    .max(100, { error: 'at most 100 names per certificate' })
    .describe('The names on the certificate; the first one names it (in `certs`, the API, alarms)'),
  challenge: z.enum(['http-01', 'dns-01'], {
    error: (i) => `challenge is http-01 or dns-01 (got ${JSON.stringify(i.input)})`,
  }),
  dir: absolutePath.describe(
    'Where key.pem (mode 0600) and fullchain.pem are written, swapped as one pair (links through ..data to the current version); the web roles read them there',
  ),
  hook: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      'dns-01: the command (absolute path, then arguments) run as `hook… set|clear <_acme-challenge.name> <value>`',
    ),
});

export const Acme = z.strictObject({
  directory_url: z
    .string()
    .regex(/^https:\/\/[^\s/]+(\/\S*)?$/, { error: 'must be an https:// URL (RFC 8555 §6.1)' })
    .describe("The ACME server's directory, e.g. https://acme-v02.api.letsencrypt.org/directory"),
  email: z.email({ error: 'must be an e-mail address' }).optional().describe('Account contact (mailto:)'),
  ca_file: absolutePath
    .optional()
    .describe(
      'PEM file of CA certificates to trust for the ACME server (a private CA); default: the system’s',
    ),
  certs: z.array(AcmeCert).min(1, { error: 'at least one certificate is required' }),
  http01: z
    .strictObject({
      iface: z
        .string()
        .min(1)
        .default('default')
        .describe("A server interface alias; default: the role's own"),
      port: port.default(80),
    })
    .optional()
    .describe('Where the node answers HTTP-01 challenges (`/.well-known/acme-challenge/`)'),
  renew_fraction: z
    .number()
    .min(0.1)
    .max(0.95)
    .default(2 / 3)
    .describe('Renew once this part of the lifetime has passed (when the server offers no ARI window)'),
  renew_jitter: z
    .number()
    .min(0)
    .max(0.2)
    .default(0.03)
    .describe('± this part of the lifetime, at random, around the renewal time (so renewals spread out)'),
  alarm_days: z
    .number()
    .positive()
    .max(365)
    .default(14)
    .describe('Alarm when a certificate expires within this many days and has not been renewed'),
  backoff: z
    .strictObject({
      initial_s: z.int().min(1).max(86_400).default(60),
      max_s: z
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(6 * 3600),
    })
    .default({ initial_s: 60, max_s: 6 * 3600 })
    .describe(
      'After a failed attempt: wait initial_s, doubling per failure up to max_s (or what Retry-After says)',
    ),
});

// ------------------------------------------------------------------------------------------------- svc_tasks

export const TaskRunner = z.union([
  z.strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'Program and arguments; it reads the script code on stdin (env: MW_TASK_ID, MW_FIRING_AT, …)',
      ),
  }),
  z.strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('HTTP endpoint; each run is a POST of {task, domain, site, firing_at, code}'),
    token: z
      .string()
      .min(1)
      .optional()
      .describe('Bearer token for the endpoint (a secret: use ${env:…} or ${file:…})'),
  }),
]);

export const SvcTasks = z.strictObject({
  runner: TaskRunner.describe('Where this site runs service scripts'),
  file: absolutePath
    .optional()
    .describe('A YAML or JSON list of tasks (each with its domain), read at start'),
  deadline_ms: z.int().min(100).max(86_400_000).default(60_000).describe('A run still going then is killed'),
  keep_runs: z.int().min(1).max(1_000).default(20).describe('Runs kept per task'),
  grace_ms: z
    .int()
    .min(0)
    .max(86_400_000)
    .default(60_000)
    .describe(
      'A firing due while no instance was active runs late if at most this old, else is recorded as missed',
    ),
  work_week: z
    .strictObject({
      days: z.array(weekday).min(1).default([1, 2, 3, 4, 5]),
      hours: z.tuple([hour, z.int().min(1).max(24)]).default([9, 18]),
      utc_offset_min: z
        .int()
        .min(-14 * 60)
        .max(14 * 60)
        .default(0),
    })
    .default({ days: [1, 2, 3, 4, 5], hours: [9, 18], utc_offset_min: 0 })
    .describe('Work time for schedule work/nonwork (fixed UTC offset, no DST)'),
});

// ------------------------------------------------------------------------------------------------------- CTI

/**
 * The CTI adapter protocols mware ships (06-services.md): a key names the protocol its server speaks. The
 * actors' registry (`actors/cti/adapters.ts`) has one entry per key, and the rules reject any other key.
 */
export const CTI_ADAPTER_KEYS = ['generic.json.websocket', 'generic.grpc'] as const;

export const CtiAdapter = z.strictObject({
  key: z
    .string()
    .min(1)
    .describe(`The adapter's protocol: ${CTI_ADAPTER_KEYS.join(', ')}`),
  iface: z.string().min(1).default('default').describe("A server interface alias; default: the role's own"),
  port,
  token: z
    .string()
    .min(16, { error: 'tokens must be at least 16 characters' })
    .optional()
    .describe('The token clients present (a secret: use ${env:…} or ${file:…}); absent: no authentication'),
  buffer: z
    .int()
    .min(100)
    .max(1_000_000)
    .default(10_000)
    .describe('Call events kept for clients that resume from a sequence number (or fall behind)'),
});

// ----------------------------------------------------------------------------------------------------- roles

export const StateMode = z.enum(['none', 'periodic', 'transactional']);

export const ApiSettings = z.strictObject({
  port: port.default(7070),
  tls: z.strictObject({ cert: absolutePath, key: absolutePath }).optional(),
});

export const MutexSettings = z.strictObject({
  max_keys: z
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe(
      'Live mutex actors on the active instance at most; near it idle keys are freed at once, and at it a lock on a new key is answered 503 (MW_ERR_SUPERVISOR_FULL)',
    ),
  idle_ms: z
    .int()
    .min(0)
    .max(3_600_000)
    .default(30_000)
    .describe('An unheld mutex actor stops after this long idle'),
});

/** Fields every role instance has, whatever its roletype. */
const commonRoleFields = {
  name: instanceName,
  server: z.string().min(1),
  iface: z.string().min(1),
  ext: ext.default({}),
  enabled: z.boolean().default(true),
};

const groupRange = (i: { input: unknown }) => `group is 1-9999999 (got ${JSON.stringify(i.input)})`;

export const MwareRole = z.strictObject({
  ...commonRoleFields,
  roletype: z.literal('mware'),
  group: z.int().min(1, { error: groupRange }).max(9_999_999, { error: groupRange }),
  order: z.int().min(0),
  include_domains: z.array(domainName).default([]),
  state_mode: StateMode.default('transactional'),
  api: ApiSettings.default({ port: 7070 }),
  mutex: MutexSettings.default({ max_keys: 10_000, idle_ms: 30_000 }),
  channel: z
    .strictObject({ port })
    .optional()
    .describe('The node channel (node-to-node, on iface); its port defaults to api.port + 1'),
  pg_controller: z.array(PgCluster).default([]),
  backup_controller: BackupController.optional(),
  freeswitch: Freeswitch.optional(),
  cti_adapters: z.array(CtiAdapter).default([]),
  syslog_snmp: SyslogSnmp.optional(),
  monitors: z.array(Monitor).default([]),
  telegram: Telegram.optional(),
  acme: Acme.optional(),
  svc_tasks: SvcTasks.optional(),
});

/** Instances of the platform's other roletypes: only the common fields are checked. */
export const OtherRole = z.looseObject({
  ...commonRoleFields,
  roletype: z.string().refine((v) => v !== 'mware'),
  iface: z.string().min(1).optional(),
  group: z.int().min(1).max(9_999_999).optional(),
  order: z.int().optional(),
});

/** `enabled: false` takes an instance out of validation and start-up altogether. */
export const DisabledRole = z.looseObject({
  name: z.string(),
  enabled: z.literal(false),
});

export const RoleInstance = z.union([MwareRole, OtherRole, DisabledRole]);

// -------------------------------------------------------------------------------------------------- the file

export const Topology = z.strictObject({
  cluster: entityName.describe('Name of this installation: key prefix, logs, metrics'),
  coordination: Coordination.optional().describe(
    'Absent: embedded single-node coordination, state on local disk',
  ),
  security: Security.default({ api_tokens: [] }),
  sites: z.array(Site).min(1, { error: 'at least one site is required' }),
  servers: z.array(Server).min(1, { error: 'at least one server is required' }),
  roles: z.array(RoleInstance),
  domains: z.array(domainName).default([]),
});

export type Topology = z.infer<typeof Topology>;
export type Site = z.infer<typeof Site>;
export type Server = z.infer<typeof Server>;
export type MwareRole = z.infer<typeof MwareRole>;
export type OtherRole = z.infer<typeof OtherRole>;
export type RoleInstance = z.infer<typeof RoleInstance>;
export type StateMode = z.infer<typeof StateMode>;
export type TokenScope = z.infer<typeof TokenScope>;
export type ApiToken = z.infer<typeof ApiToken>;
export type PgCluster = z.infer<typeof PgCluster>;
export type PgServer = z.infer<typeof PgServer>;
export type BackupController = z.infer<typeof BackupController>;
export type Freeswitch = z.infer<typeof Freeswitch>;
export type CtiAdapter = z.infer<typeof CtiAdapter>;
export type SyslogSnmp = z.infer<typeof SyslogSnmp>;
export type SyslogRule = z.infer<typeof SyslogRule>;
export type SnmpManager = z.infer<typeof SnmpManager>;
export type Probe = z.infer<typeof Probe>;
export type Monitor = z.infer<typeof Monitor>;
export type NamesMonitor = z.infer<typeof NamesMonitor>;
export type MegacoMonitor = z.infer<typeof MegacoMonitor>;
export type FsyncMonitor = z.infer<typeof FsyncMonitor>;
export type FsyncStatus = z.infer<typeof FsyncStatus>;
export type SgMonitor = z.infer<typeof SgMonitor>;
export type SipTransport = (typeof SIP_TRANSPORTS)[number];
export type Telegram = z.infer<typeof Telegram>;
export type Acme = z.infer<typeof Acme>;
export type AcmeCert = z.infer<typeof AcmeCert>;
export type SvcTasks = z.infer<typeof SvcTasks>;
export type TaskRunner = z.infer<typeof TaskRunner>;

/** Group-level settings: identical on every member of a group. */
export const GROUP_LEVEL_FIELDS = [
  'include_domains',
  'pg_controller',
  'backup_controller',
  'freeswitch',
  'cti_adapters',
  'mutex',
  'syslog_snmp',
  'monitors',
  'telegram',
  'acme',
  'svc_tasks',
] as const satisfies readonly (keyof MwareRole)[];

export function isMwareRole(r: RoleInstance): r is MwareRole {
  return r.enabled !== false && r.roletype === 'mware';
}

/** The enabled mware instances: the ones this runtime runs and validates in full. */
export function mwareRoles(t: Topology): MwareRole[] {
  return t.roles.filter(isMwareRole);
}
