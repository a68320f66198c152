-- Shared by every script. ARGV[1] is the key prefix (ending in ':'). Keys are derived from it
-- rather than passed in KEYS, so these scripts need a standalone Redis (not Redis Cluster).
local p = ARGV[1]
local stream, group = p .. 'stream', 'workers'

-- True when stream entry `eid` is still held by `consumer` (not taken over by another worker).
local function owned(eid, consumer)
  local pending = redis.call('XPENDING', stream, group, eid, eid, 1)
  return #pending > 0 and pending[1][2] == consumer
end

local function finish_entry(eid)
  redis.call('XACK', stream, group, eid)
  redis.call('XDEL', stream, eid)
end

-- Job `id` no longer blocks its key: the next job that waited for the key becomes runnable.
local function release_key(key, id)
  if redis.call('HGET', p .. 'locks', key) == id then
    redis.call('HDEL', p .. 'locks', key)
    local next_id = redis.call('LPOP', p .. 'waiting:' .. key)
    if next_id then
      redis.call('ZREM', p .. 'parked', next_id)
      redis.call('XADD', stream, '*', 'id', next_id, 'key', key)
    end
  end
end

local function forget(id)
  for _, h in ipairs({'jobs', 'keys', 'attempts', 'errors'}) do
    redis.call('HDEL', p .. h, id)
  end
end

-- The key of job `id`, as stored with it (`keys`). Never decoded from the body: a body Lua's
-- JSON decoder refuses (a lone surrogate escape, deep nesting) would lose its key.
local function key_of(id)
  return redis.call('HGET', p .. 'keys', id) or ''
end
