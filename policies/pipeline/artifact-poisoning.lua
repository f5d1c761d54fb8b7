-- pipeline/artifact-poisoning: artifacts that untrusted code produced,
-- consumed by a privileged job (the catalog's ARTIFACT-POISON row):
--   GitHub  a workflow run by `workflow_run` (or `pull_request_target`)
--           that downloads the triggering run's artifacts: that run may
--           have been a fork's pull request, and the privileged workflow
--           has the repository's secrets and write token.
--   GitLab  a `reports: dotenv` artifact made by a job that merge request
--           pipelines run, read (needs/dependencies) by a deploy or
--           release job: the dotenv file sets that job's variables.
--   Jenkins `copyArtifacts` into a release or deploy stage from "the last
--           build" of another job, which may be a pull request build.

local P = mlgate.pipeline

local DOWNLOAD_ACTIONS = {["actions/download-artifact"] = true,
                          ["dawidd6/action-download-artifact"] = true,
                          ["bettermarks/action-artifact-download"] = true}
local RELEASE = {"release", "publish", "deploy", "upload", "register", "promote", "prod"}

local function lower(s) return s and s:lower() end

local function kv(list, name)
  for _, e in ipairs(list or {}) do
    if e.name == name then return e end
  end
  return nil
end

local function releasing(id)
  local l = (id or ""):lower()
  for _, w in ipairs(RELEASE) do
    if l:find(w, 1, true) then return true end
  end
  return false
end

local function check_github(m, ctx)
  local on = P.triggers(m)
  local trig = on.workflow_run and "workflow_run" or on.pull_request_target and "pull_request_target"
  if not trig then return end
  for step, job in P.steps(m) do
    local u = step.uses
    local id = u and u.kind == "action" and u.owner and u.repo and (lower(u.owner) .. "/" .. lower(u.repo))
    local hit
    if id and DOWNLOAD_ACTIONS[id] then
      -- actions/download-artifact reads the current run's artifacts unless
      -- given a run-id; the other actions default to another run.
      local run_id = kv(step.with, "run-id") or kv(step.with, "run_id")
      local wf = kv(step.with, "workflow")
      if id ~= "actions/download-artifact" or run_id or wf then
        hit = {line = u.key_line or u.line, col = u.col, what = u.raw}
      end
    elseif step.run and step.run.text:find("gh run download", 1, true) then
      local off = step.run.text:find("gh run download", 1, true) - 1
      local line, col = P.where(step.run, off)
      hit = {line = line, col = col, what = "gh run download"}
    end
    if hit then
      ctx:fail{
        message = ("This %s workflow downloads artifacts of another run (%s), which a fork's "
          .. "pull request can have produced, into a job with the repository's secrets; treat "
          .. "them as untrusted data: never execute, source or `>> $GITHUB_ENV` them."):format(
          trig, hit.what),
        line = hit.line, column = hit.col,
        key = ("%s:%s"):format(step.route, hit.what),
        details = {job = job and job.id, step = step.index, trigger = trig},
      }
    end
  end
end

local function check_gitlab(m, ctx)
  local producers = {}
  for _, job in ipairs(m.jobs or {}) do
    local r = job.reach
    local rep = job.artifacts and job.artifacts.reports
    if r and (r.merge_request or r.fork) and rep and rep.dotenv and #rep.dotenv > 0 then
      producers[job.id] = job
    end
  end
  if next(producers) == nil then return end
  for _, job in ipairs(m.jobs or {}) do
    if job.environment or releasing(job.id) then
      for _, n in ipairs(job.needs or {}) do
        local p = n.job and producers[n.job]
        if p and n.artifacts ~= false and p ~= job then
          ctx:fail{
            message = ("Job '%s' takes its variables from the dotenv report of '%s', which "
              .. "merge request pipelines run, so a merge request can set what '%s' deploys "
              .. "with; do not pass dotenv reports from merge request jobs to deploy jobs "
              .. "(`needs: [{job: %s, artifacts: false}]`)."):format(job.id, p.id, job.id, p.id),
            path = n.path or (job.path ~= m.path and job.path) or nil,
            line = n.line, column = n.col,
            key = ("%s:needs:%s"):format(job.route, p.id),
            details = {job = job.id, producer = p.id},
          }
        end
      end
    end
  end
end

local function check_jenkins(m, ctx)
  for _, job in ipairs(m.jobs or {}) do
    local r = job.reach
    local release = releasing(job.id) or (r and not r.merge_request and not r.fork)
    if release then
      for _, c in ipairs(job.calls or {}) do
        if c.name == "copyArtifacts" then
          local project, selector
          for _, a in ipairs(c.args or {}) do
            if a.name == "projectName" or (not a.name and not project) then project = a.value end
            if a.name == "selector" then selector = a.value end
          end
          local sel = selector and selector.text or "lastSuccessful()"
          -- A specific build number or a permalink of the same branch is
          -- chosen by whoever wrote the pipeline; "the last build" of a
          -- multibranch job may be a pull request's.
          if not sel:find("specific", 1, true) and not sel:find("upstream", 1, true) then
            ctx:fail{
              message = ("Stage '%s' copies artifacts from %s of '%s', which may be a pull "
                .. "request build; copy from a specific build of a protected branch "
                .. "(selector: specific(...)) and verify them before use."):format(
                job.id, sel, project and project.text or "another job"),
              line = c.line, column = c.col,
              severity = "medium",
              key = ("%s:copyArtifacts:%s"):format(job.route, project and project.text or ""),
              details = {job = job.id, project = project and project.text, selector = sel},
            }
          end
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/artifact-poisoning",
  title = "Privileged jobs must not consume artifacts that untrusted builds produced",
  description = [[
Artifacts carry files from one job or pipeline to another. When the
producer runs code from a pull or merge request (a fork's, possibly) and
the consumer is privileged, the artifact is a way in: a model file, a
script, a wheel or a dotenv file planted by the request ends up executed or
published by the job that holds the deploy and registry credentials. Known
from real compromises of GitHub workflows (`workflow_run` downloading
pull request artifacts).

Reported: GitHub workflows triggered by `workflow_run` or
`pull_request_target` that download another run's artifacts
(actions/download-artifact with `run-id`, dawidd6/action-download-artifact,
`gh run download`); GitLab deploy or release jobs that read the
`reports: dotenv` of a job merge request pipelines run; Jenkins release or
deploy stages that `copyArtifacts` from the last build of another job
instead of a specific build.]],
  remediation = [[
Treat downloaded artifacts as untrusted data: verify a digest recorded by a
trusted job, never execute or source them, and never write their content
to $GITHUB_ENV. Keep publishing in the producing workflow when it is
trusted (push to main, tags). In GitLab, pass dotenv reports only between
jobs of protected pipelines (`needs: [{job: build, artifacts: false}]` for
the rest). In Jenkins, copy from a specific build of a protected branch:

    copyArtifacts projectName: 'train/main', selector: specific("${params.BUILD}")]],
  gate = "pipeline",
  severity = "high",
  confidence = "medium",
  atlas = {"AML.T0010.003", "AML.T0010.001"},
  aliases = {"catalog:ARTIFACT-POISON"},
  references = {
    "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    "https://docs.gitlab.com/ci/yaml/artifacts_reports/#artifactsreportsdotenv",
    "https://plugins.jenkins.io/copyartifact/",
  },
  files = P.files("github", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m then return end
    if m.kind == "workflow" then
      check_github(m, ctx)
    elseif m.kind == "gitlab-ci" then
      check_gitlab(m, ctx)
    elseif m.kind == "jenkinsfile" then
      check_jenkins(m, ctx)
    end
  end,
}
