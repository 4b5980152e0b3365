-- wrk script: every request a different costly search over Tracks (a like
-- scan of every name, sorted), so no two share a cache key: each one is a
-- miss (or, below the admission threshold's knowledge, a skip).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local n = 0
local function encode(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  n = n + 1
  local q = '{"filters":[{"name":"name","op":"like","val":"%e' .. id .. "-" .. n ..
    '%"}],"order_by":[{"field":"name"}]}'
  return wrk.format("GET", "/api/Tracks?q=" .. encode(q))
end
