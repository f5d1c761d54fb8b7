-- pipeline/secrets-outside-env: secrets read by a job that has no
-- deployment environment (auditor profile).
--
-- Follows zizmor's secrets-outside-env audit: every `secrets.<name>` read
-- in a `${{ }}` expression of a normal job without `environment:` is a
-- finding at the expression, except GITHUB_TOKEN (always available) and the
-- names in param `allow` (zizmor's `allow` setting; case-insensitive).

local function position(expr, off)
  local before = expr.text:sub(1, off)
  local nl = select(2, before:gsub("\n", ""))
  if nl == 0 then return expr.line, expr.col + 3 + off end
  local last = before:match(".*\n()") or 1
  return expr.line + nl, off - last + 2
end

return mlgate.policy {
  id = "pipeline/secrets-outside-env",
  title = "Secrets should be read only by jobs bound to a deployment environment",
  description = [[
Repository and organisation secrets are readable by every job of every
workflow on every branch that can run workflows. Secrets stored in a
deployment environment are released only to jobs that name it, after its
protection rules pass: required reviewers, allowed branches and tags, wait
timers. Model-hub write tokens, cloud credentials for training data and
registry passwords belong there, so that a workflow change on a feature
branch, or a job that never needed them, cannot read them.

Reported for each `${{ secrets.X }}` read in a job without `environment:`
(GITHUB_TOKEN excepted). The job may still get the secret from the
repository when the environment lacks it, which this check cannot see.
Matches zizmor's secrets-outside-env audit; in the auditor profile (off by
default). Param `allow` lists secret names accepted outside environments.]],
  remediation = [[
Move the secret into an environment with protection rules and bind the job
to it:

    jobs:
      push-model:
        environment: huggingface      # reviewers / branch rules on this env
        steps:
          - run: hf upload org/model ./out
            env:
              HF_TOKEN: ${{ secrets.HF_WRITE_TOKEN }}   # an environment secret]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  profile = "auditor",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-NOENV", "zizmor:secrets-outside-env"},
  references = {
    "https://docs.zizmor.sh/audits/#secrets-outside-env",
    "https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment#environment-secrets",
  },
  files = {".github/workflows/*.{yml,yaml}"},
  params = {allow = {}},

  check = function(file, ctx)
    local allow = ctx.params.allow
    if type(allow) ~= "table" then
      return ctx:error("param 'allow' must be a list of secret names")
    end
    local allowed = {github_token = true}
    for _, name in ipairs(allow) do
      if type(name) ~= "string" then
        return ctx:error("param 'allow' must be a list of secret names")
      end
      allowed[name:lower()] = true
    end

    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local exposed = {}
    for _, job in ipairs(m.jobs or {}) do
      if job.kind ~= "reusable" and not job.environment then exposed[job.id] = job end
    end
    if not next(exposed) then return end

    local seen = {}
    for _, e in ipairs(m.exprs or {}) do
      local job = e.job and exposed[e.job]
      if job and e.fenced and e.text:lower():find("secrets", 1, true) then
        local refs = mlgate.gha.refs(e.text)
        for _, r in ipairs(refs or {}) do
          local name = r.path:match("^secrets%.(.+)$")
          if name and not allowed[name] then
            local line, col = position(e, r.offset)
            local k = ("%s:%s"):format(e.route, name)
            seen[k] = (seen[k] or 0) + 1
            ctx:fail{
              message = ("Job '%s' reads `%s` but has no `environment:`; store the "
                .. "secret in a protected deployment environment and bind the job to it.")
                :format(job.id, e.text:sub(r.offset + 1, r.offset + r.len)),
              line = line, column = col,
              key = k .. (seen[k] > 1 and (":" .. seen[k]) or ""),
              details = {job = job.id, secret = name, route = e.route},
            }
          end
        end
      end
    end
  end,
}
