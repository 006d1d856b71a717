import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../src/log/log.ts';
import { MwareNode } from '../../src/node/node.ts';
import type { InspectionEvent } from '../../src/supervision/events.ts';
import { freePort } from '../harness/ports.ts';

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

/**
 * A one-node topology on the embedded default: one site, one server on 127.0.0.1, one mware role (group 1) with a
 * free API port and `role` merged in (its services: `pg_controller`, `freeswitch`, `syslog_snmp` …).
 */
export async function oneNodeTopology(
  cluster: string,
  role: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return {
    cluster,
    sites: [{ name: 'main', master: true }],
    servers: [{ name: 'srv1', site: 'main', ifaces: { eth0: '127.0.0.1' } }],
    roles: [
      {
        name: 'mware1',
        roletype: 'mware',
        server: 'srv1',
        iface: 'eth0',
        group: 1,
        order: 1,
        api: { port: await freePort() },
        ...role,
      },
    ],
  };
}
