-- pipeline/debug-logging: runner or step debug logging switched on in the
-- workflow file (ACTIONS_RUNNER_DEBUG / ACTIONS_STEP_DEBUG = true in an
-- `env:` block of the workflow, a job, a step or an action's runs.env).
--
-- Same check as poutine's debug_enabled. Severity: low, high when the
-- jobs it applies to read secrets other than GITHUB_TOKEN (debug output
-- shows far more of their environment and of what actions do with them).
-- The finding points at the variable's line.

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

return mlgate.policy {
  id = "pipeline/debug-logging",
  title = "Runner and step debug logging should not be enabled in the workflow",
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
jobs read secrets.]],
  remediation = [[
Remove the variable from the workflow. To debug a failing run, use
"Re-run jobs > Enable debug logging" in the GitHub UI, or set the
repository variable ACTIONS_STEP_DEBUG temporarily and delete it after.]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-DEBUG", "poutine:debug_enabled"},
  references = {
    "https://docs.github.com/en/actions/monitoring-and-troubleshooting-workflows/troubleshooting-workflows/enabling-debug-logging",
    "https://boostsecurityio.github.io/poutine/rules/debug_enabled/",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
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
