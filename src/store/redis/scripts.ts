/**
 * The Lua scripts of the Redis store: every conditional step is one script, which Redis runs atomically, so
 * nothing is read in the client and then written.
 */
import { createHash } from 'node:crypto';

/** A Lua script run with EVALSHA, falling back to EVAL when the server has not cached it (new or restarted). */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

// Numbers are formatted with %d: Redis would otherwise turn a large Lua number into "1.7e+12".

/** KEYS: entry, revision counter. ARGV: value, condition ('' | 'absent' | 'rev'), expected rev, ttl ms or ''. */
export const PUT = new LuaScript(`
if ARGV[2] == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return false end
elseif ARGV[2] == 'rev' then
  if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[3] then return false end
end
local rev = string.format('%d', redis.call('INCR', KEYS[2]))
redis.call('DEL', KEYS[1])
if ARGV[4] == '' then
  redis.call('HSET', KEYS[1], 'value', ARGV[1], 'rev', rev)
  return rev
end
local now = redis.call('TIME')
local expiresAt = string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'rev', rev, 'expiresAt', expiresAt)
redis.call('PEXPIREAT', KEYS[1], expiresAt)
return rev
`);

/** KEYS: entry. ARGV: expected rev. */
export const DELETE_IF_REV = new LuaScript(`
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

/**
 * KEYS: lock, fence counter. ARGV: owner, ttl ms. The atomic form of `SET lock owner:fence NX PX ttl`: the
 * fence is drawn only by the process that gets the lock, in the same step.
 */
export const ACQUIRE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = string.format('%d', redis.call('INCR', KEYS[2]))
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'NX', 'PX', ARGV[2])
return fence
`);

/** KEYS: lock. ARGV: owner:fence, ttl ms. Compare-then-PEXPIRE: never extends another holder's lease. */
export const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`);

/** KEYS: lock. ARGV: owner:fence. Compare-then-DEL: never releases another holder's lease. */
export const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);
