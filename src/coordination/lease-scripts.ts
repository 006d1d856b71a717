/**
 * The Lua scripts of group leadership, run atomically by Redis. Keys: 1 lease, 2 epoch, 3 fence.
 *
 * acquire: only when no lease exists. The new epoch is one more than the counter, and more than `floor` — the
 * highest epoch the acquiring node has seen (from the lease values it read and its peers' heartbeats): a replica
 * promoted by Sentinel that missed the last increments cannot make an epoch go back. The fence is raised to the
 * new epoch in the same step, so from this moment Redis itself refuses state writes of every earlier holder.
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, redis.call('GET', KEYS[1])} end
local e = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[4])
if e <= floor then e = floor + 1; redis.call('SET', KEYS[2], e) end
local v = e .. ':' .. ARGV[1] .. ':' .. ARGV[2]
redis.call('SET', KEYS[1], v, 'PX', tonumber(ARGV[3]))
local f = tonumber(redis.call('GET', KEYS[3]) or '0')
if e > f then redis.call('SET', KEYS[3], e) end
return {1, v}
`;

/** renew: compare-and-extend — only the exact lease value this holder wrote is extended. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 0
`;

/**
 * release / break: delete the lease only if it still holds exactly this value (a holder giving it up, or a
 * member breaking the lease of a holder whose death is proven). A lease taken meanwhile is never touched.
 */
export const DELETE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** A lease value: `<epoch>:<holder>:<nonce>`. */
export interface LeaseValue {
  epoch: number;
  holder: string;
  raw: string;
}

export function parseLease(raw: string | null | undefined): LeaseValue | undefined {
  if (!raw) return undefined;
  const m = /^(\d+):([^:]+):/.exec(raw);
  return m ? { epoch: Number(m[1]), holder: m[2] as string, raw } : undefined;
}
