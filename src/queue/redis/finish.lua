-- ARGV: prefix, entry id, job id, key, consumer, action, time (ms), error.
-- action: ack | retry (time = when) | dead (time = now) | release | heartbeat.
-- Returns 0 when the entry is no longer held by this consumer.
local eid, id, key, consumer, action, at, err =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if not owned(eid, consumer) then
  return 0
end
if action == 'heartbeat' then
  redis.call('XCLAIM', stream, group, consumer, 0, eid, 'JUSTID')
  return 1
end
finish_entry(eid)
if action == 'ack' then
  forget(id)
  release_key(key, id)
elseif action == 'retry' then
  redis.call('HSET', p .. 'keys', id, key)
  redis.call('HSET', p .. 'errors', id, err)
  redis.call('ZADD', p .. 'delayed', at, id)
elseif action == 'dead' then
  redis.call('HSET', p .. 'keys', id, key)
  redis.call('HSET', p .. 'errors', id, err)
  redis.call('ZADD', p .. 'dead', at, id)
  release_key(key, id)
elseif action == 'release' then
  redis.call('HINCRBY', p .. 'attempts', id, -1)
  redis.call('XADD', stream, '*', 'id', id, 'key', key)
end
return 1
