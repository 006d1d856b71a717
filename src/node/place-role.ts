import { RoleNotFound } from '../../topology/errors.ts';
import type { Placement } from '../../topology/placement.ts';
import { placementFor } from '../../topology/placement.ts';
import type { Topology } from '../../topology/schema.ts';
import { mwareRoles } from '../../topology/schema.ts';

/** The role to run: the one named, or the file's only enabled mware instance. */
export function placeRole(topology: Topology, role: string | undefined, file: string): Placement {
  const roles = mwareRoles(topology).map((r) => r.name);
  const name = role ?? (roles.length === 1 ? roles[0] : undefined);
  if (name === undefined) {
    throw new RoleNotFound(
      `the file has ${roles.length} enabled mware instances (${roles.join(', ') || 'none'}); choose one with --role`,
    );
  }
  const placement = placementFor(topology, name);
  if (!placement)
    throw new RoleNotFound(
      `"${name}" is not an enabled mware instance of ${file} (enabled: ${roles.join(', ') || 'none'})`,
    );
  return placement;
}
