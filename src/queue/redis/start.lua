-- A worker read stream entry ARGV[2] for job ARGV[3] of key ARGV[4]. The job runs only if no
-- other job holds its key; otherwise it waits in the key's list until that job finishes.
local eid, id, key = ARGV[2], ARGV[3], ARGV[4]
local lock = redis.call('HGET', p .. 'locks', key)
if lock and lock ~= id then
  redis.call('RPUSH', p .. 'waiting:' .. key, id)
  -- Indexed so listings and depth gauges count it while it waits (scored by arrival, ms).
  local now = redis.call('TIME')
  redis.call('ZADD', p .. 'parked', now[1] * 1000 + math.floor(now[2] / 1000), id)
  finish_entry(eid)
  return {'waiting'}
end
local body = redis.call('HGET', p .. 'jobs', id)
if not body then
  finish_entry(eid)
  return {'gone'}
end
redis.call('HSET', p .. 'locks', key, id)
if redis.call('HGET', p .. 'pending', key) == id then
  redis.call('HDEL', p .. 'pending', key)
end
local attempts = redis.call('HINCRBY', p .. 'attempts', id, 1)
local err = redis.call('HGET', p .. 'errors', id) or ''
return {'run', body, attempts, err}
