-- wrk script: a walk, as Link next gives it: each thread's requests are
-- pages 1, 2, ... WALK_LAST of Tracks by number in turn, then again from
-- page 1, so every request is the page after the one before it on that
-- thread (the workers' page positions decide what each one costs). With
-- WALK_FILE, the paths of that file's lines in turn instead (the keyset
-- walk's cursors, for the same walk by ?after=).
local last = tonumber(os.getenv("WALK_LAST") or "351")
local paths = nil
local file = os.getenv("WALK_FILE")
if file then
  paths = {}
  for line in io.lines(file) do
    paths[#paths + 1] = line
  end
  last = #paths
end
local page = 0

function request()
  page = page % last + 1
  return wrk.format("GET", paths and paths[page] or ("/api/Tracks?page=" .. page))
end
