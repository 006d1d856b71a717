/**
 * The test harness: real servers on 127.0.0.1 and free ports, started per test file and stopped when it ends.
 * Redis, PostgreSQL 15 and sshd now; snmptrapd, pebble and the FreeSWITCH ESL simulator plug in the same way
 * (a start function returning the address and a stop), and mware nodes run as real processes.
 */
export { BINARIES, requireBinary, requirePgBinary } from './binaries.ts';
export { selfSignedCert } from './certs.ts';
export { HarnessError } from './errors.ts';
export { startNodeProcess, MWARE_BIN, PROJECT_ROOT } from './node.ts';
export type { NodeProcess } from './node.ts';
export { startPostgres, postgresUser } from './postgres.ts';
export type { PgServer } from './postgres.ts';
export { ManagedProcess, run } from './process.ts';
export { freePort } from './ports.ts';
export { startRedis } from './redis.ts';
export { startSshd } from './sshd.ts';
export type { SshServer } from './sshd.ts';
export type { RedisServer } from './redis.ts';
export { tempDir } from './temp.ts';
export { startEslSimulator } from './esl-simulator/index.ts';
export type { PeerMode, SimCall, SimChannel, SimHost, SimHostOptions } from './esl-simulator/index.ts';
export { startSnmpTrapd } from './snmptrapd.ts';
export type { ReceivedTrap, SnmpTrapd } from './snmptrapd.ts';
export { startSnmpd, SYS_LOCATION } from './snmpd.ts';
export type { Snmpd } from './snmpd.ts';
export { startFakeBotApi } from './telegram-bot-api.ts';
export type { FakeBotApi, SentMessage } from './telegram-bot-api.ts';
export { startPebble } from './pebble.ts';
export type { Pebble, PebbleOptions } from './pebble.ts';
