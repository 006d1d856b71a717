import type { CTI_ADAPTER_KEYS } from '../../topology/schema.ts';
import { GrpcCtiServer } from './grpc-server.ts';
import type { CtiServer, CtiServerOptions } from './server.ts';
import { WebSocketCtiServer } from './websocket-server.ts';

/**
 * The CTI adapters by `key` (the topology's `cti_adapters[].key`): one server per protocol. The keys are listed in
 * `topology/schema.ts` (the validator names them when a key is unknown); this table must have exactly those.
 */
export type CtiAdapterKey = (typeof CTI_ADAPTER_KEYS)[number];

export interface CtiAdapterDef {
  summary: string;
  create(o: CtiServerOptions): CtiServer;
}

export const CTI_ADAPTERS: Readonly<Record<CtiAdapterKey, CtiAdapterDef>> = {
  'generic.json.websocket': {
    summary: 'JSON over WebSocket: a subscribe message, then hello, event and gap messages',
    create: (o) => new WebSocketCtiServer(o),
  },
  'generic.grpc': {
    summary: 'gRPC server streaming: mware.cti.v1.CtiEvents/Subscribe (config/mware-cti.proto)',
    create: (o) => new GrpcCtiServer(o),
  },
};

export function isCtiAdapterKey(key: string): key is CtiAdapterKey {
  return Object.hasOwn(CTI_ADAPTERS, key);
}
