-- ARGV: prefix, job id, action: requeue (back to the stream, attempts reset) | drop.
-- Returns 0 when the job is not a dead letter.
local id, action = ARGV[2], ARGV[3]
if redis.call('ZREM', p .. 'dead', id) == 0 then
  return 0
end
if action == 'requeue' then
  redis.call('HSET', p .. 'attempts', id, 0)
  redis.call('XADD', stream, '*', 'id', id, 'key', key_of(id))
else
  forget(id)
end
return 1
