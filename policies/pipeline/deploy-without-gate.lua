-- pipeline/deploy-without-gate: a job that deploys to production without
-- a deployment environment (no approval, no branch protection, no
-- environment-scoped secrets).
--
-- Deliberately conservative: a job is reported only when both hold
--   * it deploys: a `run:` command matches param `commands` (kubectl
--     apply, helm upgrade, terraform apply, cloud deploy commands, model
--     endpoint updates, ...) or a step uses an action matching param
--     `actions` (ECS/Cloud Run/App Service/... deploy actions);
--   * the target is production: param `production` matches the job id or
--     name, the workflow name, a step name, the deploy command or the
--     deploy action's inputs;
-- and the job has no `environment:`. Jobs calling reusable workflows are
-- not judged (the called workflow may bind the environment). The finding
-- points at the job's key and names the deploy step.

local P = mlgate.pipeline

local DEFAULT_COMMANDS = {
  [[^kubectl\s+(.*\s)?(apply|create|replace|patch|scale|set\s+image|rollout\s+restart)\b]],
  [[^(helm|helmfile)\s+(.*\s)?(upgrade|install|sync|apply)\b]],
  [[^(terraform|tofu|terragrunt)\s+(.*\s)?(apply|destroy)\b]],
  [[^pulumi\s+(.*\s)?(up|destroy)\b]],
  [[^(cdk|sam)\s+(.*\s)?deploy\b]],
  [[^aws\s+(.*\s)?(ecs\s+update-service|lambda\s+update-function-code|cloudformation\s+deploy|deploy\s+create-deployment|sagemaker\s+(create|update)-endpoint|apprunner\s+start-deployment)\b]],
  [[^gcloud\s+(.*\s)?((run|app|functions)\s+deploy|ai\s+endpoints\s+deploy-model|deploy\s+releases\s+promote)\b]],
  [[^az\s+(.*\s)?(webapp\s+(deploy|up)|functionapp\s+deployment|containerapp\s+update|ml\s+online-(deployment|endpoint)\s+(create|update))\b]],
  [[^(serverless|sls|firebase|modal|bentoml|flyctl|fly|railway|wrangler)\s+(.*\s)?deploy\b]],
  [[^mlflow\s+(.*\s)?deployments\s+(create|update)\b]],
  [[^(vercel|netlify)\s+(.*\s)?--prod\b]],
  [[^(ansible-playbook|kamal\s+deploy|cap\s+\S+\s+deploy)\b]],
}

local DEFAULT_ACTIONS = {
  [[^aws-actions/(amazon-ecs-deploy-task-definition|aws-cloudformation-github-deploy)$]],
  [[^azure/(webapps-deploy|functions-action|k8s-deploy|container-apps-deploy-action|arm-deploy)$]],
  [[^google-github-actions/(deploy-cloudrun|deploy-appengine|deploy-cloud-functions)$]],
  [[^(superfly/flyctl-actions|serverless/github-action|cloudflare/wrangler-action|amondnet/vercel-action)$]],
}

local DEFAULT_PRODUCTION = [[(?i)(^|[^a-z])(prod|production|live)([^a-z]|$)]]

local compiled
local function patterns(ctx)
  if compiled then return compiled end
  local function list(name)
    local raw = ctx.params[name]
    if type(raw) ~= "table" then
      error(("param '%s' must be a list of regular expressions"):format(name), 0)
    end
    local out = {}
    for i, p in ipairs(raw) do
      if type(p) ~= "string" then
        error(("param '%s': entry %d must be a string"):format(name, i), 0)
      end
      local ok, r = pcall(mlgate.re.compile, p)
      if not ok then error(("param '%s': %s: %s"):format(name, p, tostring(r)), 0) end
      out[#out + 1] = r
    end
    return out
  end
  local prod = ctx.params.production
  if type(prod) ~= "string" then error("param 'production' must be a regular expression", 0) end
  local ok, pr = pcall(mlgate.re.compile, prod)
  if not ok then error(("param 'production': %s"):format(tostring(pr)), 0) end
  compiled = {commands = list("commands"), actions = list("actions"), production = pr}
  return compiled
end

local function any_match(list, s)
  for _, r in ipairs(list) do
    if r:test(s) then return true end
  end
  return false
end

local function basename(s) return s:match("([^/]+)$") or s end

-- Whether a step can show a production target (its name, script or
-- inputs match): when the job itself does not, other steps cannot count.
local function step_mentions_prod(step, pats)
  if step.name and step.name.text and pats.production:test(step.name.text) then return true end
  if step.run and step.run.text and pats.production:test(step.run.text) then return true end
  for _, e in ipairs(step.with or {}) do
    if e.value and e.value.text and pats.production:test(e.value.text) then return true end
  end
  return false
end

-- The first deploy evidence of a job: {text, line, step, prod = bool}.
-- job_prod: the job already names production, so any deploy counts.
local function deploy_evidence(job, pats, job_prod)
  local found
  for _, step in ipairs(job.steps or {}) do
    local u = step.uses
    if not job_prod and not step_mentions_prod(step, pats) then
      u = nil -- cannot be production evidence: skip the lexer too
    elseif u and u.kind == "action" and u.owner and u.repo then
      local id = (u.owner .. "/" .. u.repo .. (u.subpath and ("/" .. u.subpath) or "")):lower()
      if any_match(pats.actions, id) then
        local prod = step.name and pats.production:test(step.name.text) or false
        for _, e in ipairs(step.with or {}) do
          if e.value and e.value.text and pats.production:test(e.value.text) then prod = true end
        end
        local ev = {text = u.raw, line = u.key_line or u.line, step = step, prod = prod}
        if prod then return ev end
        found = found or ev
      end
    elseif step.run and step.run.text then
      local script = mlgate.shell.parse(step.run.text)
      for _, c in ipairs(script and script.cmds or {}) do
        if c.argv[1] then
          local words = {basename(c.argv[1].text)}
          for i = 2, #c.argv do words[i] = c.argv[i].text end
          local line_text = table.concat(words, " ")
          if any_match(pats.commands, line_text) then
            local prod = pats.production:test(line_text)
              or (step.name and pats.production:test(step.name.text)) or false
            local line = mlgate.pipeline.where(step.run, c.offset)
            local shown = #line_text > 60 and (line_text:sub(1, 57) .. "...") or line_text
            local ev = {text = shown, line = line, step = step, prod = prod}
            if prod then return ev end
            found = found or ev
          end
        end
      end
    end
  end
  return found
end

return mlgate.policy {
  id = "pipeline/deploy-without-gate",
  title = "Production deployments should run in a protected environment",
  description = [[
A job that deploys to production (kubectl/helm/terraform apply, cloud deploy
commands, model endpoint updates on SageMaker, Vertex AI or Azure ML, deploy
actions) without `environment:` runs as soon as the workflow does: no
required reviewer, no wait timer, no restriction to protected branches or
tags, and its credentials are repository secrets that every workflow and
branch can read. A merged mistake, a compromised dependency or a malicious
workflow change on any branch can then push a model or service straight to
production. Binding the job to an environment gives an approval gate,
deployment history, and secrets released only to that job.

Conservative by design: reported only when the job both deploys (param
`commands`, regular expressions over each command with the program's base
name; param `actions`, over owner/repo[/path]) and targets production
(param `production`, over the job id and name, workflow name, step names
and the deploy command or action inputs). Jobs with any `environment:` and
jobs calling reusable workflows are not reported.

GitLab CI: a deploy job without `environment:` (protected environments are
GitLab's approval gate; a job that is only `when: manual` is reported with
low severity, since any developer can start it). Jenkins: a deploy stage
with neither an `input` approval nor a `when { branch ... }` restriction.]],
  remediation = [[
Bind the job to an environment with protection rules (required reviewers,
deployment branches limited to main or release tags), and move the deploy
credentials into that environment's secrets:

    jobs:
      deploy-prod:
        runs-on: ubuntu-latest
        environment:
          name: production
          url: https://models.example.com
        steps:
          - run: kubectl apply -f k8s/inference.yaml

GitLab (protect the environment and require approvals in the project's
settings):

    deploy_prod:
      environment:
        name: production
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      script: helm upgrade --install serving charts/serving

Jenkins:

    stage('Deploy prod') {
      when { branch 'main' }
      input { message 'Deploy the model to production?' }
      steps { sh 'helm upgrade --install serving charts/serving' }
    }]],
  gate = "pipeline",
  severity = "medium",
  confidence = "medium",
  atlas = {"AML.M0019", "AML.T0010.001"},
  aliases = {"catalog:DEPLOY-NOGATE"},
  references = {
    "https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment",
  },
  files = P.files("github", "gitlab", "jenkins"),
  params = {
    commands = DEFAULT_COMMANDS,
    actions = DEFAULT_ACTIONS,
    production = DEFAULT_PRODUCTION,
  },

  check = function(file, ctx)
    local ok, pats = pcall(patterns, ctx)
    if not ok then return ctx:error(pats) end
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "gitlab-ci" and m.kind ~= "jenkinsfile") then
      return
    end
    local wf_prod = m.name and m.name.text and pats.production:test(m.name.text) or false

    for _, job in ipairs(m.jobs or {}) do
      local gate, severity, advice
      if m.kind == "workflow" then
        gate = job.kind == "reusable" or job.environment
        advice = "bind it to a protected environment with required reviewers and "
          .. "environment-scoped secrets"
      elseif m.kind == "gitlab-ci" then
        -- A protected environment is GitLab's approval gate; a manual job
        -- without one can be started by any developer.
        gate = job.environment or job.trigger
        if job.when and job.when.text == "manual" then severity = "low" end
        advice = "set `environment:` to a protected environment with required approvals"
      else
        gate = job.input or (job.when and job.when.branches and #job.when.branches > 0)
        advice = "add an `input` approval step and `when { branch 'main' }`"
      end
      if not gate then
        local job_prod = wf_prod or pats.production:test(job.id)
          or (job.name and job.name.text and pats.production:test(job.name.text)) or false
        local ev = deploy_evidence(job, pats, job_prod)
        if ev and (ev.prod or job_prod) then
          local what = m.kind == "jenkinsfile" and "Stage" or "Job"
          local missing = m.kind == "jenkinsfile" and "an approval gate"
            or m.kind == "gitlab-ci" and severity and "`environment:` (it is only `when: manual`)"
            or "`environment:`"
          ctx:fail{
            message = ("%s '%s' deploys to production (`%s`, line %d) without %s; %s."):format(
              what, job.id, ev.text, ev.line, missing, advice),
            path = job.path ~= m.path and job.path or nil,
            line = job.line, column = job.col,
            severity = severity,
            key = job.route .. ":no-environment",
            details = {job = job.id, deploy = ev.text, deploy_line = ev.line,
                       step = ev.step.index},
          }
        end
      end
    end
  end,
}
