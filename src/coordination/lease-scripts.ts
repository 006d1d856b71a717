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

/**
 * renew: compare-and-extend — only the exact lease value this holder wrote is extended (1). Another value: lost (0).
 * No value at all, while the holder's term is still valid (it says so in ARGV[3]): the lease was lost by Redis
 * itself (a promoted replica that missed it) or expired during an outage through which every member promised not
 * to take it. Nobody else can have taken the group meanwhile, so the same lease, the same epoch, is restored (2) —
 * unless a later epoch was taken (0). Keys: 1 lease, 2 epoch, 3 fence; ARGV: value, ttl, term valid (1/0), epoch.
 */
export const RENEW = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])); return 1 end
if v or ARGV[3] ~= '1' then return 0 end
local mine = tonumber(ARGV[4])
if tonumber(redis.call('GET', KEYS[2]) or '0') > mine then return 0 end
redis.call('SET', KEYS[2], mine)
if tonumber(redis.call('GET', KEYS[3]) or '0') < mine then redis.call('SET', KEYS[3], mine) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 2
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
