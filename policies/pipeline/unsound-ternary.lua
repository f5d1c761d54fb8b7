-- pipeline/unsound-ternary: `cond && A || B` is GitHub's only "ternary",
-- and it is not one when A is falsy ('' , 0, false, null): then the
-- expression yields B whether cond holds or not.
--
-- Same check as zizmor's unsound-ternary: in every `${{ }}` (not bare
-- `if:` conditions), each operand of an `||` chain except the last that is
-- an `&&` whose last operand is a constant with a falsy value; skipped when
-- the whole (sub)expression is constant (that is obfuscation's business).

local gha = mlgate.gha

-- Source text for a message, shortened when long.
local function clip(s)
  s = s:gsub("%s+", " ")
  if #s > 80 then return s:sub(1, 77) .. "..." end
  return s
end

-- Functions whose value is constant when their arguments are (zizmor's
-- "constant reducible" set; fromJSON is left out, as there).
local REDUCIBLE_CALLS = {
  contains = true, startsWith = true, endsWith = true, format = true, toJSON = true,
  join = true,
}

local function reducible(n)
  local t = n.type
  if t == "literal" then return true end
  if t == "group" or t == "not" then return reducible(n.left) end
  if t == "compare" then return reducible(n.left) and reducible(n.right) end
  if t == "and" or t == "or" then
    for _, a in ipairs(n.args) do
      if not reducible(a) then return false end
    end
    return true
  end
  if t == "call" and REDUCIBLE_CALLS[n.name] then
    for _, a in ipairs(n.args) do
      if not reducible(a) then return false end
    end
    return true
  end
  return false
end

local function strip(n)
  while n.type == "group" do n = n.left end
  return n
end

-- The operands of an `||` chain, flattened through parentheses and nested
-- `||` that are not constant.
local function or_operands(n, out)
  local s = strip(n)
  if s.type == "or" and not reducible(s) then
    for _, a in ipairs(s.args) do or_operands(a, out) end
  else
    out[#out + 1] = n
  end
  return out
end

-- Collects the falsy "true values" under n (nodes of the expression src).
local function unsound(n, src, out)
  if reducible(n) then return end
  local t = n.type
  if t == "or" then
    local ops = or_operands(n, {})
    for i = 1, #ops - 1 do
      local op = strip(ops[i])
      if op.type == "and" then
        local tv = op.args[#op.args]
        local text = src:sub(tv.offset + 1, tv.offset + tv.len)
        if gha.constant(text, {any_context = true}) then
          local v = gha.eval(text, {}, {any_context = true})
          if v ~= nil and not gha.truthy(v) then
            out[#out + 1] = {node = tv, op = op, chain = n}
          end
        end
      end
    end
    for _, op in ipairs(ops) do unsound(op, src, out) end
  elseif t == "and" or t == "call" then
    for _, a in ipairs(n.args) do unsound(a, src, out) end
  elseif t == "compare" or t == "index" then
    unsound(n.left, src, out)
    unsound(n.right, src, out)
  elseif t == "not" or t == "group" or t == "property" or t == "star" then
    unsound(n.left, src, out)
  end
end

-- The file's text for the cheap raw-text gate below, or nil when the gate
-- cannot be trusted and the model must be walked: unreadable, UTF-16/32
-- (NUL bytes), or holding a backslash sequence that a double-quoted YAML
-- scalar would turn into other characters (\x24 is "$", \/ is "/", a
-- backslash at the end of a line joins two lines).
local function gate_text(path)
  local raw = mlgate.fs.read(path)
  if not raw or raw:find("\0", 1, true) then return nil end
  if raw:find("\\", 1, true) and raw:find("\\[xuU/\r\n]") then return nil end
  return raw
end

return mlgate.policy {
  id = "pipeline/unsound-ternary",
  title = "`cond && A || B` must not have a falsy A",
  description = [[
GitHub expressions have no ternary operator; `cond && A || B` is the idiom
for one, and it only works when A is truthy. With a falsy A ('', 0, false,
null, or a constant that evaluates to one) the `&&` yields A, the `||` then
falls through to B, and the expression is B whatever `cond` is: a flag meant
to disable a step, a tag meant to be empty for pull requests, or an extra
argument to a training or publishing command is always set.

Checks every `${{ }}` in workflows and composite actions. Same check as
zizmor's unsound-ternary; the finding points at the falsy value.]],
  remediation = [[
Swap the branches and negate the condition, so that the truthy value comes
first, or use format()/a step output instead:

    # unsound: always 'latest'
    tag: ${{ github.event_name == 'pull_request' && '' || 'latest' }}
    # sound
    tag: ${{ github.event_name != 'pull_request' && 'latest' || '' }}]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:COND-TERNARY", "zizmor:unsound-ternary"},
  references = {
    "https://docs.zizmor.sh/audits/#unsound-ternary",
    "https://github.com/actions/runner/issues/409",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or not m.exprs then return end
    -- Cheap gate on the raw text before touching the model's expressions.
    local raw = gate_text(file.path)
    if raw and not (raw:find("||", 1, true) and raw:find("&&", 1, true)) then return end
    local seen = {}
    for _, e in ipairs(m.exprs) do
      if e.fenced and e.text:find("||", 1, true) then
        local route = e.route or ""
        local n = (seen[route] or 0) + 1
        seen[route] = n
        local src = e.text
        local ast = gha.parse(src, {any_context = true})
        if ast then
          local out = {}
          unsound(ast, src, out)
          for _, f in ipairs(out) do
            local tv, op = f.node, f.op
            local shown = src:sub(tv.offset + 1, tv.offset + tv.len)
            local cond = src:sub(op.offset + 1, op.offset + op.len)
            local col = e.col
            if e.end_line == e.line then col = e.col + 3 + tv.offset end
            ctx:fail{
              message = ("In `%s`, the value %s is falsy, so the expression never yields it "
                .. "and takes the `||` branch instead; negate the condition and swap the "
                .. "two values."):format(clip(cond), clip(shown)),
              line = e.line, column = col,
              key = ("%s#%d:ternary:%d"):format(route, n, tv.offset),
              details = {job = e.job, step = e.step, field = e.field, value = shown},
            }
          end
        end
      end
    end
  end,
}
