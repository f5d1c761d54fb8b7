-- pipeline/debug-logging: runner or step debug logging switched on in the
-- workflow file (ACTIONS_RUNNER_DEBUG / ACTIONS_STEP_DEBUG = true in an
-- `env:` block of the workflow, a job, a step or an action's runs.env).
--
-- Same check as poutine's debug_enabled. Severity: low, high when the
-- jobs it applies to read secrets other than GITHUB_TOKEN (debug output
-- shows far more of their environment and of what actions do with them).
-- The finding points at the variable's line.

local P = mlgate.pipeline

local DEBUG_VARS = {ACTIONS_RUNNER_DEBUG = true, ACTIONS_STEP_DEBUG = true}

-- Jobs (by id) whose expressions read a secret other than the job token.
local function jobs_with_secrets(m)
  local out, any = {}, false
  for _, e in ipairs(m.exprs or {}) do
    local t = e.text:lower()
    if t:find("secrets", 1, true) then
      for _, r in ipairs(mlgate.gha.refs(e.text) or {}) do
        if r.path:match("^secrets") and r.path ~= "secrets.github_token" then
          any = true
          if e.job then out[e.job] = true end
        end
      end
    end
  end
  return out, any
end

local function truthy(e)
  local t = e.value and e.value.text
  return t ~= nil and t:lower() == "true"
end

-- GitLab: CI_DEBUG_TRACE writes every command and the job's variables to
-- the log; CI_DEBUG_SERVICES the logs of service containers.
local GITLAB_DEBUG = {CI_DEBUG_TRACE = true, CI_DEBUG_SERVICES = true}
local SECRET_VAR = mlgate.re.compile(
  [[\$\{?[A-Za-z0-9_]*(?:TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS)\b]], "i")

-- "high" for deploy/protected jobs, "medium" for jobs whose scripts read
-- secret-named variables, else "low".
local function gitlab_level(job)
  if job.environment or (job.secrets and job.secrets[1]) or (job.id_tokens and job.id_tokens[1]) then
    return 3
  end
  for _, step in ipairs(job.steps or {}) do
    local t = step.run and step.run.text
    if t and t:find("$", 1, true) then
      local hit = SECRET_VAR:match(t)
      if hit and not hit:find("CI_JOB_TOKEN", 1, true) then return 2 end
    end
  end
  return 1
end

local LEVELS = {"low", "medium", "high"}

local function check_gitlab(m, ctx)
  -- Each setting once, at its line: the jobs that inherit a global (or a
  -- template's) entry list it at the same place.
  local found, order = {}, {}
  local function add(e, job)
    if not (GITLAB_DEBUG[e.name] and truthy(e)) then return end
    local path = (e.value and e.value.path) or e.path or m.path
    local at = path .. ":" .. e.line .. ":" .. e.col
    local f = found[at]
    if not f then
      f = {e = e, path = path, level = 0, jobs = {}, scope = job and job.route or "variables"}
      found[at] = f
      order[#order + 1] = at
    end
    if job then
      f.jobs[#f.jobs + 1] = job.id
      local l = gitlab_level(job)
      if l > f.level then f.level = l end
    end
  end
  for _, e in ipairs(m.variables or {}) do add(e, nil) end
  for _, job in ipairs(m.jobs or {}) do
    for _, e in ipairs(job.env or {}) do add(e, job) end
  end
  for _, at in ipairs(order) do
    local f = found[at]
    local e = f.e
    if #f.jobs > 0 then
      local sev = LEVELS[f.level]
      ctx:fail{
        message = ("%s is set to true, which writes every command and the variables of %s "
          .. "to the job log%s; remove it and set it only for one manual re-run."):format(
          e.name, #f.jobs == 1 and ("job '" .. f.jobs[1] .. "'") or (#f.jobs .. " jobs"),
          sev == "high" and ", including a deploy or protected job" or ""),
        path = f.path, line = e.line, column = e.col, severity = sev,
        key = f.path .. ":" .. f.scope .. "." .. e.name,
        details = {variable = e.name, jobs = f.jobs, secrets_in_scope = f.level > 1},
      }
    end
  end
end

-- Jenkins: `set -x` in an sh step that has credentials in scope. The
-- Credentials Binding plugin masks their exact values only.
local function check_jenkins(m, ctx)
  for step, job in mlgate.pipeline.steps(m) do
    local text = step.run and step.run.text
    local shell = mlgate.pipeline.shell(step, job, m)
    if text and step.credentials and step.credentials[1] and text:find("set", 1, true)
       and shell ~= "bat" and shell ~= "powershell" and shell ~= "pwsh" then
      local script = mlgate.shell.parse(text)
      for _, c in ipairs(script and script.cmds or {}) do
        local a = c.argv or {}
        local xtrace = false
        if a[1] and a[1].text == "set" then
          for k = 2, #a do
            local t = a[k].text
            if t:match("^%-[%a]*x") or (t == "-o" and a[k + 1] and a[k + 1].text == "xtrace") then
              xtrace = true
            end
          end
        end
        if xtrace then
          local line, col = mlgate.pipeline.where(step.run, c.offset)
          ctx:fail{
            message = ("`set -x` traces commands in a step that can read %s; values built from "
              .. "them (URLs, headers, encoded strings) are printed unmasked, so turn tracing "
              .. "off (`set +x`) around commands that use credentials."):format(
              table.concat(step.credentials, ", ")),
            path = step.path or job.path, line = line, column = col, severity = "low",
            key = step.route .. ":xtrace:" .. line,
            details = {job = job.id, step = step.index, credentials = step.credentials},
          }
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/debug-logging",
  title = "Runner and step debug logging should not be enabled in CI definitions",
  description = [[
ACTIONS_RUNNER_DEBUG and ACTIONS_STEP_DEBUG turn on GitHub Actions' debug
logs: every expression evaluation, the inputs and environment handed to
actions, the runner's internal diagnostics. Secrets are masked only where
their exact value appears; derived, encoded or partial values (a base64
docker auth, a JSON credentials file, a URL with an embedded token) are
not, and debug output is where they surface. Logs of public repositories
are public. Debug logging is meant to be switched on for one re-run
("Re-run with debug logging"), not committed to a training or release
workflow. Same check as poutine's debug_enabled; high when the affected
jobs read secrets.

GitLab CI: `CI_DEBUG_TRACE` / `CI_DEBUG_SERVICES: "true"` in global or job
variables (included files too), which print every command and the job's
variables: high when a job it applies to deploys (`environment:`) or
receives `secrets:` / `id_tokens:`, medium when its scripts read
secret-named variables, low otherwise. Jenkins: `set -x` in an sh step
with credentials in scope (low).]],
  remediation = [[
Remove the variable from the workflow. To debug a failing run, use
"Re-run jobs > Enable debug logging" in the GitHub UI, or set the
repository variable ACTIONS_STEP_DEBUG temporarily and delete it after.
GitLab: remove CI_DEBUG_TRACE from .gitlab-ci.yml and pass it as a
variable when running one pipeline manually. Jenkins: `set +x` before
commands that use credentials.]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-DEBUG", "poutine:debug_enabled"},
  references = {
    "https://docs.github.com/en/actions/monitoring-and-troubleshooting-workflows/troubleshooting-workflows/enabling-debug-logging",
    "https://boostsecurityio.github.io/poutine/rules/debug_enabled/",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" then return check_gitlab(m, ctx) end
    if m.kind == "jenkinsfile" then return check_jenkins(m, ctx) end
    if m.kind ~= "workflow" and m.kind ~= "action" then return end
    local secret_jobs, any_secret

    local function scan(list, where, route, job_ids)
      for _, e in ipairs(list or {}) do
        if DEBUG_VARS[e.name] and truthy(e) then
          if not secret_jobs then secret_jobs, any_secret = jobs_with_secrets(m) end
          local secrets = false
          if job_ids then
            for _, id in ipairs(job_ids) do
              if secret_jobs[id] then secrets = true end
            end
          else
            secrets = any_secret
          end
          ctx:fail{
            message = ("%s sets %s=true, which turns on debug logs that can expose "
              .. "derived secret values%s; remove it and use \"Re-run with debug logging\" "
              .. "when needed."):format(where, e.name,
              secrets and " of the secrets this job reads" or ""),
            line = e.line, column = e.col, severity = secrets and "high" or "low",
            key = route .. ".env." .. e.name,
            details = {variable = e.name, scope = route, secrets_in_scope = secrets},
          }
        end
      end
    end

    if m.kind == "workflow" then
      local all = {}
      for _, job in ipairs(m.jobs or {}) do all[#all + 1] = job.id end
      scan(m.env, "The workflow", "workflow", all)
      for _, job in ipairs(m.jobs or {}) do
        scan(job.env, ("Job '%s'"):format(job.id), job.route, {job.id})
        for _, step in ipairs(job.steps or {}) do
          scan(step.env, ("Step %d of job '%s'"):format(step.index, job.id), step.route,
            {job.id})
        end
      end
    else
      scan(m.runs and m.runs.env, "The action", "runs", nil)
      for step in mlgate.pipeline.steps(m) do
        scan(step.env, ("Step %d of the action"):format(step.index), step.route, nil)
      end
    end
  end,
}
