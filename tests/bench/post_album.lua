-- wrk: creates albums through the edge (tests/bench/replicas.sh), each a
-- write transaction of its own and so one changeset for the replicas.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Prefer"] = "return=minimal"
wrk.headers["Authorization"] = "Bearer bench-key-0123456789abcdef"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"title":"bench ' .. n .. '","artist_id":1}')
end
