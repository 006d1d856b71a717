/**
 * The mware client for scripting components: `import { MwareClient } from 'mware/client'`.
 *
 *   const mw = new MwareClient({ url: 'http://127.0.0.1:7070', token: process.env.MWARE_TOKEN! });
 *   const info = await mw.ask('/domains/test.rootdomain.ru', 'info');
 *   await mw.mutex.withLock('orders-42', { owner: 'ivr-7f3a', wait_ms: 2000, hold_ms: 10000 }, async (token) => {
 *     // only one script at a time gets here; `token` fences writes made under the lock
 *   });
 */
export { MwareClient, MutexClient } from './client.ts';
export type { CallOptions, LockOptions, LockResult, MwareClientOptions, Tree, TypedActor } from './client.ts';
/** The public messages of each actor kind, for `client.to<…>(path)` (types only). */
export type { DomainProtocol as DomainMessages } from '../../actors/domain/domain-actor.ts';
export type { MutexProtocol as MutexMessages } from '../../actors/mutex/protocol.ts';
export type { ClusterProtocol as ClusterMessages } from '../../actors/cluster/cluster-actor.ts';
export { ClientRequestFailed, MutexLockTimeout } from './errors.ts';
export type { SseEvent } from './sse.ts';
export { MwareError } from '../errors.ts';
export {
  ActorCrashed,
  ActorNotFound,
  ActorUnavailable,
  AskTimeout,
  InvalidMessage,
  UnknownMessage,
} from '../actor-system/errors.ts';
export { MutexBadRequest, MutexStaleToken, MutexUnavailable } from '../../actors/mutex/errors.ts';
export { Draining, Forbidden, Unauthorized } from '../api/errors.ts';
