-- wrk script: walks by page number, as Link next does: each thread's
-- requests are pages 1, 2, ... WALK_LAST of Tracks in turn, then again
-- from page 1, so every request is the page after the one before it on
-- that thread (the workers' page positions decide what each one costs).
local last = tonumber(os.getenv("WALK_LAST") or "351")
local page = 0

function request()
  page = page % last + 1
  return wrk.format("GET", "/api/Tracks?page=" .. page)
end
