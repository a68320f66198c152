-- Retries that are due (ARGV[2] = now in ms) go back to the stream; they still hold their key.
local due = redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', ARGV[2], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', p .. 'delayed', id)
  redis.call('XADD', stream, '*', 'id', id, 'key', key_of(id))
end
return #due
