-- Group commit: ARGV[2] is the dedupe TTL in seconds, then (id, key, dedupe key, body) per job.
-- Returns one {outcome, job id} per job, in order.
--
-- This is intake's hot path. Inside a script each redis.call costs more than the command
-- itself, so the batch is read and written with a fixed number of calls (HMGET and HSET over
-- every job at once), and only XADD is issued per new job. Dedupe marks live in two hashes
-- per TTL window (`dedupe:<window>`, the current and the previous one) rather than as one key
-- with its own expiry per delivery: a mark is found for at least the TTL and at most twice
-- it, and the keyspace does not grow with every webhook.
local ttl = tonumber(ARGV[2])
local jobs, pending = p .. 'jobs', p .. 'pending'
local window = math.floor(tonumber(redis.call('TIME')[1]) / ttl)
local marks, old_marks = p .. 'dedupe:' .. window, p .. 'dedupe:' .. (window - 1)

-- redis.call(command, key, ...args) in slices: Lua cannot unpack an arbitrarily long list.
local function call_sliced(command, key, args)
  local out = {}
  for first = 1, #args, 1000 do
    local reply = redis.call(command, key, unpack(args, first, math.min(first + 999, #args)))
    if type(reply) == 'table' then
      for _, value in ipairs(reply) do
        out[#out + 1] = value
      end
    end
  end
  return out
end

local function push_pair(list, a, b)
  list[#list + 1] = a
  list[#list + 1] = b
end

local ids, keys, dkeys, bodies = {}, {}, {}, {}
for i = 3, #ARGV, 4 do
  local j = (i + 1) / 4
  ids[j], keys[j], dkeys[j], bodies[j] = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
end
local stored_waiting = call_sliced('HMGET', pending, keys)
local stored_marks = call_sliced('HMGET', marks, dkeys)
local stored_old_marks = call_sliced('HMGET', old_marks, dkeys)

-- State as of the previous job in this batch: key -> job not started yet (false: none), and
-- dedupe key -> job that delivery went to.
local waiting, seen = {}, {}
local new_bodies, new_keys, new_pending, new_marks, out = {}, {}, {}, {}, {}
for j = 1, #ids do
  local id, key, dkey, body = ids[j], keys[j], dkeys[j], bodies[j]
  if waiting[key] == nil then
    waiting[key] = stored_waiting[j]
  end
  if seen[dkey] == nil then
    seen[dkey] = stored_marks[j] or stored_old_marks[j]
  end
  if seen[dkey] then
    out[#out + 1] = {'duplicate', seen[dkey]}
  elseif waiting[key] then
    -- A job for this object that has not started yet will see the newest event instead.
    local into = waiting[key]
    push_pair(new_bodies, into, body)
    seen[dkey] = into
    push_pair(new_marks, dkey, into)
    out[#out + 1] = {'coalesced', into}
  else
    push_pair(new_bodies, id, body)
    push_pair(new_keys, id, key)
    push_pair(new_pending, key, id)
    waiting[key] = id
    seen[dkey] = id
    push_pair(new_marks, dkey, id)
    redis.call('XADD', stream, '*', 'id', id, 'key', key)
    out[#out + 1] = {'queued', id}
  end
end
-- HSET applies its pairs in order, so of several bodies for one job the newest is kept.
call_sliced('HSET', jobs, new_bodies)
call_sliced('HSET', p .. 'keys', new_keys)
call_sliced('HSET', pending, new_pending)
if #new_marks > 0 then
  call_sliced('HSET', marks, new_marks)
  redis.call('EXPIRE', marks, 2 * ttl + 1)
end
return out
