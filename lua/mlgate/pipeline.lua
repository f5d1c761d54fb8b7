-- mlgate.pipeline: helpers over the typed CI model that
-- mlgate.pipeline.load(path) returns (shape: core/src/pipeline.h).
local mlgate = ...
local M = mlgate.pipeline

-- File line and column of byte `off` (0-based) of a val object's text.
-- Multi-line values carry `map`: {text_off, line, col, ...} ascending, the
-- file position at each point where the text continues on a new line.
function M.where(val, off)
  off = off or 0
  local map = val.map
  if not map or #map == 0 then
    return val.line, val.col + off
  end
  -- Binary search for the last entry at or before off.
  local lo, hi = 1, #map // 3
  local best = 0
  while lo <= hi do
    local mid = (lo + hi) // 2
    if map[mid * 3 - 2] <= off then
      best = mid
      lo = mid + 1
    else
      hi = mid - 1
    end
  end
  if best == 0 then return val.line, val.col + off end
  local base = map[best * 3 - 2]
  return map[best * 3 - 1], map[best * 3] + (off - base)
end

-- Lower-case base name of the program that runs a step's script: "bash",
-- "sh", "pwsh", "powershell", "cmd", "python", "bat", ... GitHub steps give
-- `shell` as a val (else job, then workflow `defaults.shell`; default
-- bash), GitLab and Jenkins steps as a plain string (default sh). The
-- first word counts ("bash -e {0}" -> "bash"), without directories or
-- ".exe" ("C:\\...\\pwsh.exe" -> "pwsh"). A shell written as a ${{ }}
-- expression is not known before the run: the platform default.
function M.shell(step, job, model)
  local default = "bash"
  if model and (model.platform == "gitlab" or model.platform == "jenkins") then
    default = "sh"
  end
  local v = step and step.shell
  if v == nil and type(job) == "table" and type(job.defaults) == "table" then
    v = job.defaults.shell
  end
  if v == nil and model and type(model.defaults) == "table" then v = model.defaults.shell end
  if type(v) == "table" then v = v.text end
  if type(v) ~= "string" or v:find("${{", 1, true) then return default end
  -- The program: a quoted path, a Windows path up to ".exe" (it may hold
  -- spaces: C:\Program Files\...), else the first word.
  local first = v:match('^%s*"([^"]+)"')
  if not first then
    first = v:match("^%s*(.-%.[eE][xX][eE])%f[%s%z]")
    if not (first and first:find("[/\\]")) then first = v:match("^%s*(%S+)") end
  end
  if not first then return default end
  first = first:match("([^/\\]+)$") or first
  first = first:lower():gsub("%.exe$", "")
  if first == "" then return default end
  return first
end

-- Every step of a workflow (with its job) or of an action, in file order.
function M.steps(model)
  local jobs = model.jobs
  if not jobs then
    local steps = model.steps or (model.runs and model.runs.steps) or {}
    local i = 0
    return function()
      i = i + 1
      local s = steps[i]
      if s then return s, nil end
    end
  end
  local j, i = 1, 0
  return function()
    while true do
      local job = jobs[j]
      if not job then return nil end
      local steps = job.steps
      i = i + 1
      local s = steps and steps[i]
      if s then return s, job end
      j, i = j + 1, 0
    end
  end
end

-- Every `uses` object: reusable-workflow calls (job level) and steps.
function M.uses(model)
  local list = {}
  for _, job in ipairs(model.jobs or {}) do
    if job.uses then list[#list + 1] = {job.uses, nil, job} end
    for _, step in ipairs(job.steps or {}) do
      if step.uses then list[#list + 1] = {step.uses, step, job} end
    end
  end
  if not model.jobs then
    for step in M.steps(model) do
      if step.uses then list[#list + 1] = {step.uses, step, nil} end
    end
  end
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if e then return e[1], e[2], e[3] end
  end
end

-- The set of trigger names of a workflow ({} for other kinds).
function M.triggers(model)
  local on = model.on
  local set = {}
  if on and on.names then
    for name in pairs(on.names) do set[name] = true end
  end
  return set
end

return M
