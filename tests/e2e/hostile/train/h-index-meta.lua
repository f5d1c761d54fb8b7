-- Hostile policy (tests/e2e/run.sh, security suite): the policy table gets
-- its metadata from an __index metamethod that never returns and reads the
-- workspace. The engine reads metadata raw, so the policy must be refused
-- (no id) without running the metamethod.
local mt = {}
mt.__index = function(t, k)
  while true do end
end
mt.__pairs = function(t)
  while true do end
end
return setmetatable({title = "hostile: metadata through __index"}, mt)
