-- pipeline/unsound-contains: `contains('main develop', github.ref_name)` in
-- an `if:` tests for a substring of a literal string, not for membership of
-- a list: any value that is a piece of the string passes ('mai', 'n dev',
-- 'refs/heads/ma'), so a branch, tag or input an attacker chooses can
-- satisfy a guard meant for release branches.
--
-- Same check as zizmor's unsound-contains: a contains() whose haystack is a
-- string literal and whose needle is a context; high severity when the
-- needle is user-controllable (refs, actors, inputs, env, or any context
-- mlgate.taint classifies as attacker-controlled), informational otherwise.

local gha = mlgate.gha

-- Source text for a message, shortened when long.
local function clip(s)
  s = s:gsub("%s+", " ")
  if #s > 80 then return s:sub(1, 77) .. "..." end
  return s
end

-- Needles zizmor treats as user-controllable (and everything below them).
local CONTROLLABLE = {
  "env", "github.actor", "github.base_ref", "github.head_ref", "github.ref",
  "github.ref_name", "github.sha", "github.triggering_actor", "inputs",
}

-- "github.event.issue.title" for a context chain (literal indexes as
-- properties, "*" for filters, "?" for computed indexes); nil otherwise.
local function chain(n)
  local t = n.type
  if t == "context" then return n.name:lower() end
  if t == "property" then
    local b = chain(n.left)
    return b and (b .. "." .. n.name:lower())
  end
  if t == "star" then
    local b = chain(n.left)
    return b and (b .. ".*")
  end
  if t == "index" then
    local b = chain(n.left)
    if not b then return nil end
    local r = n.right
    if r.type == "literal" and type(r.value) == "string" then return b .. "." .. r.value:lower() end
    return b .. ".?"
  end
  return nil
end

local function controllable(path)
  for _, c in ipairs(CONTROLLABLE) do
    if path == c or path:sub(1, #c + 1) == c .. "." then return true end
  end
  return false
end

local function strip(n)
  while n.type == "group" do n = n.left end
  return n
end

-- Collects every contains(<string literal>, <context>) call under n.
local function collect(n, out)
  local t = n.type
  if t == "call" then
    if n.name == "contains" and #n.args == 2 then
      local hay, needle = strip(n.args[1]), strip(n.args[2])
      if hay.type == "literal" and type(hay.value) == "string" then
        local path = chain(needle)
        if path then
          out[#out + 1] = {call = n, hay = hay, needle = needle, path = path}
          return
        end
      end
    end
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "and" or t == "or" then
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "compare" or t == "index" then
    collect(n.left, out)
    collect(n.right, out)
  elseif t == "not" or t == "group" or t == "property" or t == "star" then
    collect(n.left, out)
  end
end

-- The `${{ }}` spans of a condition as {inner_offset, inner_text}; the whole
-- text when it has none (a bare condition).
local function condition_exprs(text)
  local spans = gha.find(text)
  local out = {}
  if not spans or #spans == 0 then
    out[1] = {0, text}
    return out
  end
  for _, s in ipairs(spans) do
    if s.closed then
      out[#out + 1] = {s.inner, text:sub(s.inner + 1, s.inner + s.inner_len)}
    end
  end
  return out
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
  id = "pipeline/unsound-contains",
  title = "`contains()` on a literal string must not guard a condition",
  description = [[
`contains('refs/heads/main refs/heads/release', github.ref)` looks like a
membership test but is a substring test when its first argument is a
string: `refs/heads/mai`, `refs/heads/main refs` or `n` all pass. When the
needle is something a contributor chooses (a branch or tag name, an input,
an actor login, an environment variable), they can name their branch so
that a job meant for protected branches, such as one that trains on the
private dataset, pushes a model to the registry or deploys a serving
endpoint, runs for them.

Checks job and step `if:` conditions (workflows and composite actions).
High severity when the needle is user-controllable (github.ref,
github.ref_name, github.head_ref, github.base_ref, github.sha, github.actor,
github.triggering_actor, inputs.*, env.*, or event data that is attacker
controlled), informational for other contexts (runner.name,
github.event_name). Same check as zizmor's unsound-contains.]],
  remediation = [[
Compare with `==`, or test membership of a real list built with fromJSON:

    if: github.ref == 'refs/heads/main' || github.ref == 'refs/heads/release'

    if: contains(fromJSON('["refs/heads/main", "refs/heads/release"]'), github.ref)]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:COND-ALWAYS", "zizmor:unsound-contains"},
  references = {
    "https://docs.zizmor.sh/audits/#unsound-contains",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/evaluate-expressions-in-workflows-and-actions#contains",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    -- Cheap gate on the raw text before touching jobs and steps.
    local raw = gate_text(file.path)
    if raw and not raw:lower():find("contains", 1, true) then return end

    local function judge(cond, route, job, step)
      local found = {}
      for _, part in ipairs(condition_exprs(cond.text)) do
        local ast = gha.parse(part[2], {any_context = true})
        if ast then
          local list = {}
          collect(ast, list)
          for _, f in ipairs(list) do
            f.src, f.base = part[2], part[1]
            found[#found + 1] = f
          end
        end
      end
      for _, f in ipairs(found) do
        local high = controllable(f.path)
        if not high then
          local c = mlgate.taint.classify(f.path, m, job)
          high = c == "arbitrary" or c == "structured"
        end
        local needle = clip(f.src:sub(f.needle.offset + 1, f.needle.offset + f.needle.len))
        local hay = clip(f.src:sub(f.hay.offset + 1, f.hay.offset + f.hay.len))
        local msg
        if high then
          msg = ("contains(%s, %s) is a substring test, so any %s that is a piece of "
            .. "that string passes the check; compare with == or use "
            .. "contains(fromJSON('[...]'), %s)."):format(hay, needle, needle, needle)
        else
          msg = ("contains(%s, %s) is a substring test, not a list lookup; compare with == "
            .. "or use contains(fromJSON('[...]'), %s)."):format(hay, needle, needle)
        end
        ctx:fail{
          message = msg,
          line = cond.key_line or cond.line, column = cond.key_col or cond.col,
          severity = high and "high" or "info",
          key = ("%s.if:contains:%s:%d"):format(route, f.path, f.base + f.call.offset),
          details = {job = job and job.id, step = step, haystack = f.hay.value, needle = f.path,
                     controllable = high},
        }
      end
    end

    for _, job in ipairs(m.jobs or {}) do
      if job.cond then judge(job.cond, job.route, job, nil) end
    end
    for step, job in mlgate.pipeline.steps(m) do
      if step.cond then judge(step.cond, step.route, job, step.index) end
    end
  end,
}
