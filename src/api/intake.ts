import type { ApiContext } from './context.ts';
import { Draining, NotReady } from './errors.ts';

/**
 * Whether the node takes requests now: a draining node takes none (clients retry elsewhere); one that is not its
 * group's active instance takes no request for the group's actors (`groupWork`) — neither lost nor answered "not
 * found", but 503 to retry — and still serves reads.
 */
export function requireIntake(ctx: ApiContext, groupWork: boolean): void {
  const state = ctx.state();
  if (state === 'active') return;
  if (state === 'draining') throw new Draining('the node is stopping; retry on another instance');
  if (groupWork) throw new NotReady(`the node is ${state}, not active; retry shortly or on another instance`);
}
