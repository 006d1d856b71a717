import { ActorNotFound, UnknownMessage } from '../actor-system/errors.ts';
import type { MessageScope } from '../actor-system/kind.ts';
import { publicMessages } from '../actor-system/kind.ts';
import { serializeError } from '../errors.ts';
import type { TokenScope } from '../../topology/schema.ts';
import type { Principal } from './auth.ts';
import { Authenticator } from './auth.ts';
import type { ApiContext } from './context.ts';
import { Unauthorized } from './errors.ts';
import type { ForwardedPrincipal, ForwardedRequest } from './forwarding.ts';
import { MAX_HOPS } from './forwarding.ts';
import { requireIntake } from './intake.ts';
import { parse } from './route.ts';
import { HopLimit } from '../cluster/errors.ts';
import { nodeReport } from './cluster-tree.ts';

/**
 * Running a message or a mutex operation for a caller, wherever it arrived: here if this node serves the group that
 * owns it, otherwise on that group's active instance (forwarded). A forwarded request is run by the same functions
 * on the other node, with the caller's principal, and is never forwarded again.
 */

export interface MessageInput {
  type: string;
  payload: unknown;
  timeoutMs: number;
}

/** A message to the actor at `path`: `{result}` for an ask, `{accepted: true}` for a tell. */
export async function dispatchMessage(
  ctx: ApiContext,
  principal: Principal | null,
  path: string,
  m: MessageInput,
  ask: boolean,
  hops = 0,
): Promise<{ result: unknown } | { accepted: true }> {
  if (path === '/') throw new ActorNotFound('the root supervisor takes no messages');
  const group = ctx.routing.groupOfPath(path);
  if (group !== undefined && !ctx.routing.servesHere(group)) {
    const p = requirePrincipal(principal);
    if (hops >= MAX_HOPS) throw notServedHere(ctx, group, path);
    return (await ctx.routing.forward(
      group,
      { op: 'message', path, ...m, ask, principal: forwardable(p), hops: hops + 1 },
      m.timeoutMs,
      () => dispatchMessage(ctx, principal, path, m, ask, hops),
    )) as { result: unknown } | { accepted: true };
  }
  requireIntake(ctx, group !== undefined);
  // The common case, an actor that exists, goes straight to it; a missing one may be coming back.
  const r = ctx.directory.get(path) ?? (await ctx.directory.resolve(path, Math.min(m.timeoutMs, 5_000)));
  // Only the kind's public messages are reachable from outside, each with its own scope and payload schema.
  const message = publicMessages(r.spec.kind).get(m.type);
  if (!message) throw unknownMessage(path, r.spec.kind, m.type);
  requireScope(principal, message.scope);
  const payload = parse(message.payload, m.payload ?? null, 'body.payload');
  if (ask) {
    const result = await r.ask(m.type, payload, m.timeoutMs);
    return { result: result ?? null };
  }
  // A tell is accepted once the actor is known to exist; its reply is not waited for, but its failure is reported:
  // the caller was told 202.
  r.ask(m.type, payload, m.timeoutMs).then(undefined, (err: unknown) => {
    ctx.metrics.toldFailures.inc({ kind: r.spec.kind });
    ctx.log.warn({ path, type: m.type, err: serializeError(err) }, 'a told message failed');
  });
  return { accepted: true };
}

/**
 * Asks the actor at `path` as {@link dispatchMessage} does (forwarded to the group's active instance, the kind's scope
 * checked) and returns its reply: for the facades over one actor's messages (the pg and backup controllers).
 */
export async function askActor(
  ctx: ApiContext,
  principal: Principal | null,
  path: string,
  type: string,
  payload: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const r = await dispatchMessage(ctx, principal, path, { type, payload, timeoutMs }, true);
  return (r as { result: unknown }).result;
}

export type MutexMethod = 'lock' | 'unlock' | 'inspect' | 'release-owner';

/** A mutex operation on `key` (release-owner: on every group of the site, see {@link releaseOwnerEverywhere}). */
export async function mutexOp(
  ctx: ApiContext,
  principal: Principal | null,
  method: Exclude<MutexMethod, 'release-owner'>,
  key: string,
  body: unknown,
  hops = 0,
): Promise<unknown> {
  const group = ctx.routing.groupOfMutexKey(key);
  if (!ctx.routing.servesHere(group)) {
    const p = requirePrincipal(principal);
    if (hops >= MAX_HOPS) throw notServedHere(ctx, group, `mutex "${key}"`);
    return ctx.routing.forward(
      group,
      { op: 'mutex', method, key, body, principal: forwardable(p), hops: hops + 1 },
      MUTEX_FORWARD_MS(body),
      () => mutexOp(ctx, principal, method, key, body, hops),
    );
  }
  requireIntake(ctx, method !== 'inspect');
  switch (method) {
    case 'lock':
      return ctx.mutex.lock(key, body as Parameters<ApiContext['mutex']['lock']>[1]);
    case 'unlock':
      return ctx.mutex.unlock(key, body as Parameters<ApiContext['mutex']['unlock']>[1]);
    case 'inspect':
      return ctx.mutex.inspect(key);
    default: {
      const never: never = method;
      return never;
    }
  }
}

/** release-owner: an owner's keys may live in every mutex group of the site; each group's active releases its own. */
export async function releaseOwnerEverywhere(
  ctx: ApiContext,
  principal: Principal | null,
  owner: string,
  hops = 0,
): Promise<{ released: number; cancelled: number; keys: number }> {
  const groups =
    hops > 0 ? ctx.routing.mutexGroups().filter((g) => ctx.routing.servesHere(g)) : ctx.routing.mutexGroups();
  const results = await Promise.all(
    groups.map(async (g) => {
      if (ctx.routing.servesHere(g)) {
        requireIntake(ctx, true);
        return ctx.mutex.releaseOwner(owner);
      }
      const p = requirePrincipal(principal);
      return (await ctx.routing.forward(
        g,
        {
          op: 'mutex',
          method: 'release-owner',
          key: '',
          body: { owner },
          principal: forwardable(p),
          hops: hops + 1,
        },
        10_000,
        async () => {
          requireIntake(ctx, true);
          return ctx.mutex.releaseOwner(owner);
        },
      )) as { released: number; cancelled: number; keys: number };
    }),
  );
  return results.reduce(
    (a, r) => ({
      released: a.released + r.released,
      cancelled: a.cancelled + r.cancelled,
      keys: a.keys + r.keys,
    }),
    {
      released: 0,
      cancelled: 0,
      keys: 0,
    },
  );
}

/** Runs a request another node forwarded here (never forwarding it again). */
export async function runForwarded(ctx: ApiContext, req: ForwardedRequest): Promise<unknown> {
  if (req.hops > MAX_HOPS) throw new HopLimit(`a request that crossed ${req.hops} nodes is refused`);
  const principal: Principal = { name: req.principal.name, scopes: new Set(req.principal.scopes) };
  if (req.op === 'tree') {
    requireScope(principal, 'read');
    return nodeReport(ctx, principal);
  }
  if (req.op === 'deviations') {
    requireScope(principal, 'read');
    return ctx.nodeDeviations();
  }
  if (req.op === 'run-job') return ctx.runJob(req.job, req.timeoutMs);
  if (req.op === 'message')
    return dispatchMessage(
      ctx,
      principal,
      req.path,
      { type: req.type, payload: req.payload, timeoutMs: req.timeoutMs },
      req.ask,
      req.hops,
    );
  if (req.method === 'release-owner')
    return releaseOwnerEverywhere(ctx, principal, (req.body as { owner: string }).owner, req.hops);
  return mutexOp(ctx, principal, req.method, req.key, req.body, req.hops);
}

/**
 * Why a forwarded request that reached a node not serving its group is not run, nor forwarded again (MAX_HOPS):
 * - the node is a member of the owning group but not its active instance now (the entry node read a holder that has
 *   just stepped down: a takeover is under way) — not delivered, so the entry node looks the holder up again and
 *   retries until its deadline (NotReady/Draining are retried by NodeRouting);
 * - the node's own topology places it in another group: the two nodes' files disagree on who owns it, and
 *   forwarding again would send it back and forth — refused with MW_ERR_HOP_LIMIT.
 */
function notServedHere(ctx: ApiContext, group: number, what: string): Error {
  if (group === ctx.group) requireIntake(ctx, true);
  return new HopLimit(
    `${what} belongs to group ${group} by this node's topology, not to its group ${ctx.group}: the nodes' topology ` +
      `files disagree; refused rather than forwarded again (hop limit ${MAX_HOPS})`,
  );
}

/** The deadline of a forwarded lock: its own wait, and some. */
function MUTEX_FORWARD_MS(body: unknown): number {
  const wait = (body as { wait_ms?: unknown } | null)?.wait_ms;
  return (typeof wait === 'number' ? wait : 0) + 30_000;
}

export function requireScope(principal: Principal | null, scope: MessageScope): void {
  Authenticator.authorize(requirePrincipal(principal), scope);
}

export function requirePrincipal(p: Principal | null): Principal {
  if (!p) throw new Unauthorized('a bearer token is required');
  return p;
}

function forwardable(p: Principal): ForwardedPrincipal {
  return { name: p.name, scopes: [...p.scopes] as TokenScope[] };
}

function unknownMessage(path: string, kind: string, type: string): UnknownMessage {
  const known = [...publicMessages(kind).keys()];
  return new UnknownMessage(
    `${path} (${kind}) takes no message "${type}" from outside; ` +
      (known.length > 0 ? `it takes: ${known.join(', ')}` : 'it takes none'),
    { details: { kind, accepts: known } },
  );
}
