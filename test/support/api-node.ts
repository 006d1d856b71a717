import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { MwareNode } from '../../src/node/node.ts';
import { actorChild } from '../../src/actor-system/actor-child.ts';
import type { Supervisor } from '../../src/supervision/supervisor.ts';
import { counterActor } from './counter-actor.ts';
import { freePort } from '../harness/ports.ts';
import { tempDir } from '../harness/temp.ts';

/**
 * A real node in this process with its API on 127.0.0.1 and a free port, tokens of every scope, and its log kept
 * in memory (scrubbed by the node as in production) so tests can check what reached it.
 */

export const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  scripts: 'scripts-token-0123456789abcdef',
  mutexOnly: 'mutex-token-0123456789abcdef',
  reader: 'reader-token-0123456789abcdef',
  sendOnly: 'sendonly-token-0123456789abcdef',
} as const;

/**
 * Starts a test actor (test/support/counter-actor.ts: counts, sleeps, crashes on request) as `/domains/<id>`, under
 * the node's own domain supervisor, for tests that need an actor to misbehave.
 */
export async function startTestActor(n: ApiNode, id: string): Promise<string> {
  const domains = n.node.directory.get('/domains')?.incarnation as Supervisor;
  await domains.startChild(
    actorChild(n.node.runtime, { id, kind: counterActor, args: {}, mode: 'in-memory' }),
  );
  return `/domains/${id}`;
}

export interface ApiNode {
  node: MwareNode;
  url: string;
  port: number;
  logLines: string[];
  /** fetch with a token (or none) against the node. */
  call(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApiNode(
  opts: {
    address?: string;
    mutexIdleMs?: number;
    tls?: { cert: string; key: string };
    /** Fields of the mware role instance to set (e.g. `mutex: { max_keys: 50 }`). */
    role?: Record<string, unknown>;
  } = {},
): Promise<ApiNode> {
  const dir = tempDir('api-node');
  const port = await freePort();
  const address = opts.address ?? '127.0.0.1';
  const topology = {
    cluster: 'apitest',
    security: {
      api_tokens: [
        { name: 'ops', token: '${env:TEST_ADMIN_TOKEN}', scopes: ['admin'] },
        { name: 'scripts', token: TOKENS.scripts, scopes: ['send', 'mutex'] },
        { name: 'locks', token: TOKENS.mutexOnly, scopes: ['mutex'] },
        { name: 'viewer', token: TOKENS.reader, scopes: ['calls'] },
        { name: 'sender', token: TOKENS.sendOnly, scopes: ['send'] },
      ],
    },
    sites: [{ name: 'main', master: true, domains: ['rootdomain.ru'] }],
    servers: [{ name: 'srv1', site: 'main', ifaces: { eth0: address } }],
    roles: [
      {
        name: 'mware1',
        roletype: 'mware',
        server: 'srv1',
        iface: 'eth0',
        group: 11120,
        order: 10,
        api: { port, ...(opts.tls ? { tls: opts.tls } : {}) },
        ...opts.role,
      },
    ],
    domains: ['rootdomain.ru', 'test.rootdomain.ru', 'sales.test.rootdomain.ru'],
  };
  writeFileSync(join(dir.path, 'topology.yaml'), stringify(topology));
  process.env.TEST_ADMIN_TOKEN = TOKENS.admin;
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      logLines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      cb();
    },
  });
  // The node builds its own logger, so its own secret wiring (topology tokens, ${env:…} values) is what is tested.
  const node = await MwareNode.start({
    topologyFile: join(dir.path, 'topology.yaml'),
    dataDir: join(dir.path, 'data'),
    logDestination: destination,
    logLevel: 'debug',
    mutexIdleMs: opts.mutexIdleMs,
  });
  const scheme = opts.tls ? 'https' : 'http';
  const url = `${scheme}://${address}:${port}`;
  return {
    node,
    url,
    port,
    logLines,
    call: (path, init = {}) => {
      const { token = TOKENS.admin, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null) headers.set('authorization', `Bearer ${token}`);
      if (rest.body !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json');
      return fetch(url + path, { ...rest, headers });
    },
    stop: async () => {
      await node.stop();
      dir.cleanup();
    },
  };
}
