import { FsFenced } from './errors.ts';

/**
 * The one place that knows mware's SQL for FreeSWITCH's `recovery` table (in the farm's shared core database).
 *
 * Why row-level security: `fsctl recover` selects *every* row whose `runtime_uuid` is not the host's own and
 * deletes every row it selected (FreeSWITCH's `switch_core_recovery_recover`), so in a shared table a recovery on
 * one host would take the live calls of every other host. mware makes a host see only its own rows (`hostname` =
 * its switchname, which each host's `core-db-dsn` gives as `application_name`) and the rows a migration assigned
 * to it. Several targets then recover at once, each exactly its share, with no window in which a row written
 * meanwhile by another host is exposed — and a living source's late `delete … where uuid=` cannot reach the row a
 * target wrote for the same uuid.
 */

/** Something that runs one statement (a PrimaryFollower or a pg client). */
export interface Sql {
  query<R extends object>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface RecoveryRow {
  uuid: string;
  runtime_uuid: string;
  profile_name: string;
  hostname: string;
  metadata: string;
}

/** FreeSWITCH's own DDL for the table (switch_core_sqldb.c), used only when the table is missing. */
const FREESWITCH_DDL = `
CREATE TABLE IF NOT EXISTS recovery (
  runtime_uuid VARCHAR(255), technology VARCHAR(255), profile_name VARCHAR(255),
  hostname VARCHAR(255), uuid VARCHAR(255), metadata text
);
CREATE INDEX IF NOT EXISTS recovery1 ON recovery(technology);
CREATE INDEX IF NOT EXISTS recovery2 ON recovery(profile_name);
CREATE INDEX IF NOT EXISTS recovery3 ON recovery(uuid);
CREATE INDEX IF NOT EXISTS recovery4 ON recovery(runtime_uuid);`;

const MWARE_DDL = `
CREATE TABLE IF NOT EXISTS mware_recovery_assign (
  uuid VARCHAR(255) PRIMARY KEY, target VARCHAR(255) NOT NULL, migration TEXT NOT NULL, epoch BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mware_recovery_assign_target ON mware_recovery_assign(target);
CREATE TABLE IF NOT EXISTS mware_recovery_epoch (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), epoch BIGINT NOT NULL);
INSERT INTO mware_recovery_epoch (one, epoch) VALUES (true, 0) ON CONFLICT DO NOTHING;
GRANT SELECT ON mware_recovery_assign TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON recovery TO PUBLIC;
DO $$ BEGIN
  -- A table FreeSWITCH created is owned by the hosts' role, and an owner bypasses the policies: take it over.
  IF (SELECT relowner FROM pg_class WHERE oid = 'recovery'::regclass) <>
     (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER TABLE recovery OWNER TO ' || quote_ident(current_user);
  END IF;
END $$;
ALTER TABLE recovery ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS mware_visible ON recovery;
DROP POLICY IF EXISTS mware_update ON recovery;
DROP POLICY IF EXISTS mware_delete ON recovery;
DROP POLICY IF EXISTS mware_insert ON recovery;
CREATE POLICY mware_visible ON recovery FOR SELECT USING (${visible()});
CREATE POLICY mware_update ON recovery FOR UPDATE USING (${visible()});
CREATE POLICY mware_delete ON recovery FOR DELETE USING (${visible()});
CREATE POLICY mware_insert ON recovery FOR INSERT WITH CHECK (true);`;

function visible(): string {
  return (
    `hostname = current_setting('application_name') OR uuid IN ` +
    `(SELECT a.uuid FROM mware_recovery_assign a WHERE a.target = current_setting('application_name'))`
  );
}

export class RecoveryTable {
  constructor(private readonly sql: Sql) {}

  /**
   * Creates what mware needs (idempotent): FreeSWITCH's table if missing, the assignment and epoch tables, and the
   * policies. Needs the table's owner or a superuser; the hosts must connect as another role (see {@link problems}).
   */
  async install(): Promise<void> {
    // One transaction: a half-installed policy set would hide rows from their own host.
    await this.sql.query(`BEGIN; ${FREESWITCH_DDL} ${MWARE_DDL} COMMIT;`);
  }

  /** The rows a host wrote (its `hostname`), whatever their runtime_uuid. */
  async rowsOf(switchname: string): Promise<RecoveryRow[]> {
    const r = await this.sql.query<RecoveryRow>(
      'SELECT uuid, runtime_uuid, profile_name, hostname, metadata FROM recovery WHERE hostname = $1',
      [switchname],
    );
    return r.rows;
  }

  /**
   * The RTP ports (`local_media_port`) a host's legs hold: its own rows, and rows handed to it by a migration it
   * has not recovered yet (still under the source's hostname) — but not the rows of `except` (the ones being
   * handed now, already assigned when a migration resumes). Ringing calls have no row and are not in here.
   */
  async mediaPortsOf(switchname: string, except: readonly string[] = []): Promise<number[]> {
    const r = await this.sql.query<{ port: string | null }>(
      `SELECT substring(r.metadata from '<local_media_port>([0-9]+)</local_media_port>') AS port
         FROM recovery r
        WHERE r.hostname = $1
           OR (r.uuid IN (SELECT a.uuid FROM mware_recovery_assign a WHERE a.target = $1)
               AND NOT (r.uuid = ANY($2::text[])))`,
      [switchname, except],
    );
    return r.rows.flatMap((x) => (x.port === null ? [] : [Number(x.port)]));
  }

  /** Rows with these uuids (any host), for checking what a recovery left behind. */
  async rowsByUuid(uuids: readonly string[]): Promise<RecoveryRow[]> {
    if (uuids.length === 0) return [];
    const r = await this.sql.query<RecoveryRow>(
      'SELECT uuid, runtime_uuid, profile_name, hostname, metadata FROM recovery WHERE uuid = ANY($1::text[])',
      [uuids],
    );
    return r.rows;
  }

  /**
   * Hands rows to a target: their metadata replaced (the rewrite) and an assignment that makes them visible to it —
   * one statement, fenced: refused when a newer epoch has already written here (a deposed active must not act).
   * Returns how many rows were handed over.
   */
  async assign(
    a: { target: string; source: string; migration: string; epoch: number },
    rows: readonly { uuid: string; metadata: string }[],
  ): Promise<number> {
    const r = await this.sql.query<{ fenced: boolean; n: string }>(
      `WITH fence AS (
         UPDATE mware_recovery_epoch SET epoch = $1 WHERE epoch <= $1 RETURNING epoch
       ), upd AS (
         UPDATE recovery r SET metadata = v.m
         FROM unnest($2::text[], $3::text[]) AS v(u, m), fence
         WHERE r.uuid = v.u AND r.hostname = $4
         RETURNING r.uuid
       ), ins AS (
         INSERT INTO mware_recovery_assign (uuid, target, migration, epoch)
         SELECT DISTINCT uuid, $5, $6, $1 FROM upd
         ON CONFLICT (uuid) DO UPDATE SET target = excluded.target, migration = excluded.migration, epoch = excluded.epoch
         RETURNING uuid
       )
       SELECT NOT EXISTS (SELECT 1 FROM fence) AS fenced, (SELECT count(*) FROM ins) AS n`,
      [a.epoch, rows.map((x) => x.uuid), rows.map((x) => x.metadata), a.source, a.target, a.migration],
    );
    const row = r.rows[0];
    if (!row || row.fenced)
      throw new FsFenced(`epoch ${a.epoch} is behind the one that last handed out recovery rows`, {
        details: { epoch: a.epoch },
      });
    return Number(row.n);
  }

  /**
   * Removes rows a target's clean-up left (FreeSWITCH's delete can fail: a deadlock was seen on a real one) — only
   * the source's (by uuid and its runtime_uuid), so the row the target wrote for the same call stays.
   */
  async removeStale(uuids: readonly string[], runtimeUuid: string): Promise<number> {
    if (uuids.length === 0) return 0;
    const r = await this.sql.query(
      'DELETE FROM recovery WHERE uuid = ANY($1::text[]) AND runtime_uuid = $2',
      [uuids, runtimeUuid],
    );
    return r.rowCount ?? 0;
  }

  /** Forgets a migration's assignments (its rows were recovered or removed). */
  async release(migration: string): Promise<void> {
    await this.sql.query('DELETE FROM mware_recovery_assign WHERE migration = $1', [migration]);
  }

  /**
   * What would defeat the fencing, in plain words: a host connected without its switchname as application_name,
   * or as a role that bypasses row-level security (superuser, BYPASSRLS, the table's owner).
   */
  async problems(switchnames: readonly string[]): Promise<string[]> {
    const r = await this.sql.query<{ application_name: string; usename: string; bypass: boolean }>(
      `SELECT DISTINCT a.application_name, a.usename,
              (ro.rolsuper OR ro.rolbypassrls OR ro.oid = c.relowner) AS bypass
         FROM pg_stat_activity a
         JOIN pg_roles ro ON ro.rolname = a.usename
         JOIN pg_class c ON c.relname = 'recovery' AND c.relkind = 'r'
        WHERE a.datname = current_database() AND a.application_name = ANY($1::text[])`,
      [switchnames],
    );
    const out: string[] = [];
    for (const name of switchnames) {
      const seen = r.rows.filter((x) => x.application_name === name);
      if (seen.length === 0)
        out.push(`no connection from "${name}": its core-db-dsn must carry application_name=${name}`);
      for (const x of seen.filter((y) => y.bypass))
        out.push(
          `"${name}" connects as ${x.usename}, which bypasses row-level security (superuser, BYPASSRLS or the ` +
            `table's owner): its fsctl recover would see every host's rows`,
        );
    }
    return out;
  }
}
