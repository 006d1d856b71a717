import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../src/log/log.ts';
import { MwareNode } from '../../src/node/node.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';

/** An in-process mware node started from `topology` in `dir`, its log lines and events kept for tests to search. */
export interface InProcessNode {
  node: MwareNode;
  dataDir: string;
  logLines: string[];
  events: InspectionEvent[];
}

export async function startInProcessNode(
  dir: string,
  topology: Record<string, unknown>,
): Promise<InProcessNode> {
  const topologyFile = join(dir, 'topology.yaml');
  writeFileSync(topologyFile, stringify(topology));
  const logLines: string[] = [];
  const events: InspectionEvent[] = [];
  const dataDir = join(dir, 'data');
  const node = await MwareNode.start({
    topologyFile,
    dataDir,
    log: createLogger({
      node: 'mware1',
      group: 1,
      level: 'debug',
      destination: { write: (l: string) => void logLines.push(l) },
    }),
  });
  node.events.subscribe((e) => events.push(e));
  return { node, dataDir, logLines, events };
}
