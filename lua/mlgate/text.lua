-- mlgate.text: line-oriented helpers for policies that read source files.
local text = {}

--- Iterates the lines of s: for lineno, line in mlgate.text.lines(s).
--- Line ends (\n, \r\n) are not part of the line.
function text.lines(s)
  local pos, n, len = 1, 0, #s
  return function()
    if pos > len then return nil end
    local nl = s:find("\n", pos, true)
    local line
    if nl then
      line = s:sub(pos, nl - 1)
      pos = nl + 1
    else
      line = s:sub(pos)
      pos = len + 1
    end
    if line:sub(-1) == "\r" then line = line:sub(1, -2) end
    n = n + 1
    return n, line
  end
end

--- Line and column (1-based) of byte offset `off` (1-based) in s.
function text.position(s, off)
  local line, last = 1, 0
  local i = 1
  while true do
    local nl = s:find("\n", i, true)
    if not nl or nl >= off then break end
    line = line + 1
    last = nl
    i = nl + 1
  end
  return line, off - last
end

--- True when the first `n` bytes of s look like text (no NUL bytes).
function text.is_text(s, n)
  return not s:sub(1, n or 8192):find("\0", 1, true)
end

return text
