-- pipeline/insecure-commands: ACTIONS_ALLOW_UNSECURE_COMMANDS enabled in an
-- env: block (workflow, job or step, or a composite action's step).
--
-- Compatible with zizmor's insecure-commands audit: a value GitHub's runner
-- reads as true (the boolean, or the string "true" in any case, blanks
-- around it ignored) is reported at the `env:` key (high, confidence high);
-- an `env:` that is one expression, which may set the variable, is reported
-- with --profile auditor (confidence low). Beyond zizmor, a value that is an
-- expression is evaluated when it is constant, and uses steps are checked
-- too (the runner honours the variable for any step).

local NAME = "ACTIONS_ALLOW_UNSECURE_COMMANDS"

-- Deprecated workflow commands and what replaces them.
local DEPRECATED = {
  ["set-env"] = 'append NAME=value to "$GITHUB_ENV"',
  ["add-path"] = 'append the directory to "$GITHUB_PATH"',
  ["set-output"] = 'append name=value to "$GITHUB_OUTPUT"',
  ["save-state"] = 'append name=value to "$GITHUB_STATE"',
}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- true: enabled; false: not; nil: decided at run time (an expression).
local function enabled(kv)
  local v = kv.value
  if not v then return false end
  local t = v.text
  if type(t) ~= "string" then return false end
  if t:find("${{", 1, true) then
    -- `${{ true }}` or `${{ 'true' }}`: evaluate constant expressions
    local inner = t:match("^%s*%${{(.-)}}%s*$")
    if inner and mlgate.gha.constant(inner) then
      local val = mlgate.gha.eval(inner, {})
      if val ~= nil then
        return trim(mlgate.gha.tostring(val)):lower() == "true"
      end
    end
    return nil
  end
  return trim(t):lower() == "true"
end

local function find_kv(list)
  for _, kv in ipairs(list or {}) do
    if type(kv.name) == "string" and kv.name:upper() == NAME then return kv end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/insecure-commands",
  title = "ACTIONS_ALLOW_UNSECURE_COMMANDS must not be enabled",
  description = [[
The `::set-env` and `::add-path` workflow commands let anything a step
prints to its log set environment variables and PATH entries of later
steps. GitHub disabled them in 2020 (CVE-2020-15228) because any output a
job echoes, a test name, a log line of a model download, a field of a
downloaded dataset, a pull request title, can carry such a line.
`ACTIONS_ALLOW_UNSECURE_COMMANDS: true` turns them back on for the workflow,
job or step whose env: sets it, and with them code execution for whoever
controls any printed text, with the job's secrets (model registry and
cloud tokens in ML pipelines).

Reported: the variable set to a value the runner reads as true (`true`,
"true" in any case) in the env: of a workflow, job or step, or of a
composite action's step; the finding points at the `env:` key. With
--profile auditor, also an `env:` that is entirely an expression or a
value that is a non-constant expression, which may enable it at run time.

Also reported, where a `run:` script prints them: `::set-env` and
`::add-path` when insecure commands are not enabled there (medium: the
step fails, and the tempting fix is to enable them), and the deprecated
`::set-output` / `::save-state` (low), which any printed line can forge.]],
  remediation = [[
Remove ACTIONS_ALLOW_UNSECURE_COMMANDS and use the environment files
instead of the old commands:

    # instead of: echo "::set-env name=MODEL_DIR::$dir"
    echo "MODEL_DIR=$dir" >> "$GITHUB_ENV"
    # instead of: echo "::add-path::$HOME/.local/bin"
    echo "$HOME/.local/bin" >> "$GITHUB_PATH"

Actions that still print ::set-env need updating to a current release.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0050", "AML.T0055"},
  aliases = {"catalog:INJ-WFCMD", "zizmor:insecure-commands", "actionlint:deprecated-commands",
             "checkov:CKV_GHA_1"},
  references = {
    "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/",
    "https://github.com/advisories/GHSA-mfwh-5m23-j46w",
    "https://docs.zizmor.sh/audits/#insecure-commands",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end

    -- The `env:` key position is not in the model: read it from the YAML
    -- document, once per file and only when there is something to report.
    local doc, doc_err
    local function env_key_pos(path)
      if doc == nil and doc_err == nil then
        doc, doc_err = mlgate.yaml.load(file.path)
        if not doc then doc = false end
      end
      local t = doc
      for _, k in ipairs(path) do
        if type(t) ~= "table" then return nil end
        t = t[k]
      end
      if type(t) ~= "table" then return nil end
      local p = mlgate.pos(t, "env")
      if not p then return nil end
      return p.key_line or p.line, p.key_column or p.column
    end

    local reported = {}
    local function report(holder, path, what, route, job_id, step_index)
      local kv = find_kv(holder.env)
      local dynamic_env = mlgate.taint.env_expr(m, holder)
      if not kv and not dynamic_env then return end
      local on = kv and enabled(kv)
      if on == false and not dynamic_env then return end
      local line, col = env_key_pos(path)
      local vline = kv and kv.line or (dynamic_env and dynamic_env.line)
      if not line then line, col = vline, kv and kv.col or (dynamic_env and dynamic_env.col) end
      local at = tostring(line) .. ":" .. tostring(col)
      if reported[at] then return end -- the same env: reached through a YAML alias
      reported[at] = true
      local details = {job = job_id, step = step_index, scope = what}
      -- a value an outsider writes (a PR title, ...) can be "true"
      local tainted
      if on == nil and kv and kv.value then
        local c, items = mlgate.taint.text(kv.value.text, m,
          job_id and mlgate.taint.job_by_id(m, job_id) or nil, step_index and holder or nil)
        if c == "arbitrary" or c == "structured" then
          tainted = items[1] and items[1].path or "attacker text"
        end
      end
      if tainted then
        ctx:fail{
          message = ("%s is set from %s, which an outsider chooses: writing \"true\" enables "
            .. "::set-env and ::add-path for %s; remove the variable."):format(NAME, tainted, what),
          line = line, column = col, end_line = math.max(line, vline or line),
          confidence = "medium", key = route .. ":env", details = details,
        }
      elseif on == true then
        ctx:fail{
          message = ("%s enables ::set-env and ::add-path for %s, so any text it prints "
            .. "can set environment variables and PATH of later steps; remove it and write "
            .. "to $GITHUB_ENV / $GITHUB_PATH instead."):format(NAME, what),
          line = line, column = col, end_line = math.max(line, vline or line),
          key = route .. ":env", details = details,
        }
      else
        local why = dynamic_env and "its env: is an expression, which may set " .. NAME
          or NAME .. " is set by an expression, which may evaluate to true"
        ctx:fail{
          message = ("For %s, %s and so re-enable ::set-env and ::add-path; set the "
            .. "environment literally and leave %s out."):format(what, why, NAME),
          line = line, column = col, end_line = math.max(line, vline or line),
          confidence = "low", profile = "auditor",
          key = route .. ":env-expr", details = details,
        }
      end
    end

    -- Deprecated workflow commands printed by run: scripts. With insecure
    -- commands enabled in scope the enabling finding covers ::set-env and
    -- ::add-path; otherwise they fail (disabled since 2020) and ::set-output
    -- / ::save-state still run with a deprecation warning.
    local function enabled_in(holders)
      for _, h in ipairs(holders) do
        local kv = find_kv(h.env)
        if kv and enabled(kv) then return true end
      end
      return false
    end
    local function check_usage(step, holders, route, job_id)
      local run = step.run
      local text = run and run.text
      if type(text) ~= "string" or not text:find("::", 1, true) then return end
      local on = nil
      local pos = 1
      while true do
        local s, e, cmd = text:find("::(%a[%a%-]*)", pos)
        if not s then break end
        pos = e + 1
        local replacement = DEPRECATED[cmd]
        if replacement then
          if on == nil then on = enabled_in(holders) end
          local insecure = cmd == "set-env" or cmd == "add-path"
          if not (insecure and on) then
            local line, col = mlgate.pipeline.where(run, s - 1)
            ctx:fail{
              message = insecure and ("::%s is disabled since 2020 (it let any printed text set "
                .. "the environment) and fails; %s instead, and do not re-enable it with %s.")
                :format(cmd, replacement, NAME)
                or ("::%s is deprecated: any printed line can forge it; %s instead."):format(
                  cmd, replacement),
              line = line, column = col, severity = insecure and "medium" or "low",
              key = route .. ":" .. cmd .. ":" .. s,
              details = {job = job_id, step = step.index, command = cmd},
            }
          end
        end
      end
    end

    if m.kind == "workflow" then
      report(m, {}, "the whole workflow", "workflow")
      for _, job in ipairs(m.jobs or {}) do
        if job.kind ~= "reusable" then
          report(job, {"jobs", job.id}, "every step of job " .. job.id, job.route or job.id, job.id)
          for i, step in ipairs(job.steps or {}) do
            local route = step.route or (job.id .. ":" .. i)
            report(step, {"jobs", job.id, "steps", i},
              ("step %d of job %s"):format(step.index or i, job.id), route, job.id, step.index or i)
            check_usage(step, {step, job, m}, route, job.id)
          end
        end
      end
    else
      for i, step in ipairs(m.steps or (m.runs and m.runs.steps) or {}) do
        if step.run then
          local route = step.route or ("runs.steps[" .. (i - 1) .. "]")
          report(step, {"runs", "steps", i}, ("step %d of this action"):format(step.index or i),
            route, nil, step.index or i)
          check_usage(step, {step}, route, nil)
        end
      end
    end
  end,
}
