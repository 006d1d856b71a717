import { z } from 'zod';
import { Topology } from './schema.ts';

/** The topology schema as JSON Schema (draft 2020-12), for editors; what a user may write, defaults included. */
export function topologyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(Topology, { io: 'input', unrepresentable: 'any' }),
    title: 'mware topology file',
  };
}
