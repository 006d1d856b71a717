import { topologyJsonSchema } from '../../topology/json-schema.ts';
import { EXIT } from './exit-codes.ts';

/** `mware schema`: prints the JSON Schema of the topology file (for editors' YAML/JSON support). */
export function schemaCommand(out: (s: string) => void): number {
  out(JSON.stringify(topologyJsonSchema(), null, 2));
  return EXIT.ok;
}
