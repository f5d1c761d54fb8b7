-- mlgate.path: '/'-separated workspace path helpers.
local path = {}

--- "a/b/c.py" -> "c.py"
function path.basename(p)
  return p:match("([^/]*)$")
end

--- "a/b/c.py" -> "a/b"; "c.py" -> ""
function path.dirname(p)
  return p:match("^(.*)/[^/]*$") or ""
end

--- "a/b/c.tar.gz" -> ".gz"; no extension -> ""
function path.ext(p)
  return path.basename(p):match("^.+(%.[^.]+)$") or ""
end

--- Joins segments with '/', skipping empty ones: join("a", "", "b") -> "a/b".
function path.join(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if s and s ~= "" then parts[#parts + 1] = s end
  end
  return (table.concat(parts, "/"):gsub("/+", "/"))
end

return path
