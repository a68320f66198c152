-- Group commit: ARGV[2] is the dedupe TTL in seconds, then (id, key, dedupe key, body) per job.
-- Returns one {outcome, job id} per job. This is intake's hot path, and each redis.call costs
-- more than the command itself: key names are built once per call, and a job takes at most
-- five commands.
local ttl = ARGV[2]
local jobs, pending, dedupe = p .. 'jobs', p .. 'pending', p .. 'dedupe:'
local out = {}
for i = 3, #ARGV, 4 do
  local id, key, dkey, body = ARGV[i], ARGV[i + 1], dedupe .. ARGV[i + 2], ARGV[i + 3]
  -- A job for this object that has not started yet will see the newest event instead.
  local waiting = redis.call('HGET', pending, key)
  -- SET NX GET (Redis 7): records the delivery and returns the job of an identical earlier one.
  local seen = redis.call('SET', dkey, waiting or id, 'NX', 'GET', 'EX', ttl)
  if seen then
    out[#out + 1] = {'duplicate', seen}
  elseif waiting then
    redis.call('HSET', jobs, waiting, body)
    out[#out + 1] = {'coalesced', waiting}
  else
    redis.call('HSET', jobs, id, body)
    redis.call('HSET', pending, key, id)
    redis.call('XADD', stream, '*', 'id', id, 'key', key)
    out[#out + 1] = {'queued', id}
  end
end
return out
