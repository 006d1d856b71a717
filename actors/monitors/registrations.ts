import type { PgLimits, PgTarget } from '../../src/pg/db.ts';
import { pgQueryOnce } from '../../src/pg/db.ts';

/**
 * The one place that knows SQL for the registrar's `location` table (Kamailio's usrloc schema, version 8:
 * `utils/kamctl/postgres/usrloc-create.sql`). A contact's transport is the `transport` URI parameter of `received`
 * (set for a NATed contact, `sip:198.51.100.7:51324;transport=ws`), else of `contact`, else the protocol of the
 * `socket` it registered on (`tls:127.0.0.5:5061`): a WebSocket client registers through a gateway's `tcp:` or
 * `tls:` listener, so the socket alone cannot tell ws from plain tcp.
 */

const TRANSPORT_OF_ROW = `lower(coalesce(
  substring(lower(received) from ';transport=([a-z]+)'),
  substring(lower(contact) from ';transport=([a-z]+)'),
  split_part(socket, ':', 1)))`;

/**
 * Deletes the registrations bound to `sockets` whose transport is one of `transports`; returns how many. `table`
 * is a plain lower-case identifier (the topology's schema checks it), quoted here all the same.
 */
export async function deleteRegistrations(
  target: PgTarget,
  table: string,
  sockets: readonly string[],
  transports: readonly string[],
  limits?: PgLimits,
): Promise<number> {
  const r = await pgQueryOnce(
    target,
    `DELETE FROM "${table}" WHERE socket = ANY($1::text[]) AND ${TRANSPORT_OF_ROW} = ANY($2::text[])`,
    [sockets, transports],
    limits,
  );
  return r.rowCount ?? 0;
}
