-- Group commit: ARGV[2] is the dedupe TTL in seconds, then (id, key, dedupe key, body) per job.
-- Returns one {outcome, job id} per job.
local ttl = ARGV[2]
local out = {}
for i = 3, #ARGV, 4 do
  local id, key, dedupe, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local dkey = p .. 'dedupe:' .. dedupe
  local seen = redis.call('GET', dkey)
  if seen then
    out[#out + 1] = {'duplicate', seen}
  else
    local pending = redis.call('HGET', p .. 'pending', key)
    if pending then
      -- A job for this object has not started yet: it will see the newest event.
      redis.call('HSET', p .. 'jobs', pending, body)
      id = pending
      out[#out + 1] = {'coalesced', id}
    else
      redis.call('HSET', p .. 'jobs', id, body)
      redis.call('HSET', p .. 'keys', id, key)
      redis.call('HSET', p .. 'pending', key, id)
      redis.call('XADD', stream, '*', 'id', id, 'key', key)
      out[#out + 1] = {'queued', id}
    end
    redis.call('SET', dkey, id, 'EX', ttl)
  end
end
return out
