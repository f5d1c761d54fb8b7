-- pipeline/persistent-runner: GitLab jobs on self-managed runners and
-- Jenkins stages on static agents, above all when merge requests run them
-- (the catalog's RUNNER-SELFHOSTED row for GitLab and Jenkins; GitHub's is
-- pipeline/self-hosted-runner).

local P = mlgate.pipeline

local function lower(s) return (s or ""):lower() end

-- GitLab.com's hosted runners are selected by saas-* tags; any other tag
-- picks a runner of the project, group or instance.
local function gitlab_self_managed(labels, allowed)
  local names = {}
  for _, l in ipairs(labels or {}) do
    local t = lower(l.text)
    if allowed[t] then return nil end
    if not t:match("^saas%-") then names[#names + 1] = l.text end
  end
  if #names == 0 then return nil end
  return table.concat(names, ", ")
end

return mlgate.policy {
  id = "pipeline/persistent-runner",
  title = "Merge request code must not run on persistent GitLab runners or Jenkins agents",
  description = [[
A self-managed GitLab runner (a job selects one with `tags:`) or a static
Jenkins agent (`agent any`, `agent { label 'x' }`, `node('x')` without a
container) is a machine that outlives the job: what one job leaves there
(a modified toolchain, a poisoned model or pip cache, a backdoored Docker
daemon, a process that waits) meets the next job, including release jobs
with deploy credentials. With shell or Docker executors on a shared host,
jobs can also read each other's workspaces.

When merge requests run the job (GitLab rules admitting
`merge_request_event`, Jenkins stages limited to `changeRequest()`), code
chosen by the request's author reaches that machine: high, and shown by
default. Otherwise the finding is informational (auditor profile):
mlgate cannot know whether the runner is ephemeral (autoscaled, Kubernetes
executor) and isolated. GitLab.com hosted runners (`saas-*` tags) and
Jenkins docker/kubernetes agents are not reported; param `allowed_labels`
lists runner tags or agent labels known to be ephemeral.]],
  remediation = [[
Run merge request jobs on ephemeral, isolated runners: GitLab's hosted
runners, autoscaled or Kubernetes-executor runners, or Jenkins agents in
containers:

    unit-tests:
      tags: [saas-linux-small-amd64]

    agent { docker { image 'python:3.11-slim@sha256:...' } }

and list their tags or labels in `allowed_labels` so mlgate knows them.
Keep protected runners (GitLab: "Run untagged jobs" off, "Protected") for
jobs that deploy.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "medium",
  atlas = {"AML.T0010.001", "AML.T0055"},
  aliases = {"catalog:RUNNER-SELFHOSTED"},
  references = {
    "https://docs.gitlab.com/ci/runners/configure_runners/#prevent-runners-from-revealing-sensitive-information",
    "https://docs.gitlab.com/runner/security/",
    "https://www.jenkins.io/doc/book/security/controller-isolation/",
  },
  params = {allowed_labels = {}},
  files = P.files("gitlab", "jenkins"),

  check = function(file, ctx)
    if type(ctx.params.allowed_labels) ~= "table" then
      return ctx:error("param 'allowed_labels' must be a list of runner tags or agent labels")
    end
    local allowed = {}
    for _, l in ipairs(ctx.params.allowed_labels) do
      if type(l) ~= "string" then return ctx:error("param 'allowed_labels': labels are strings") end
      allowed[l:lower()] = true
    end
    local m = P.load(file.path)
    if not m or (m.kind ~= "gitlab-ci" and m.kind ~= "jenkinsfile") then return end
    local seen = {}
    for _, job in ipairs(m.jobs or {}) do
      local reach = P.reach(m, job)
      local what, line, col, path
      if m.kind == "gitlab-ci" then
        local ro = job.runs_on
        local names = ro and gitlab_self_managed(ro.labels, allowed)
        if names then
          what = ("the self-managed runner tagged %s"):format(names)
          line, col = ro.line, ro.col
          path = ro.labels[1] and ro.labels[1].path or (job.path ~= m.path and job.path) or nil
        end
      elseif not job.container then
        local agent = job.agent
        local ro = job.runs_on
        if ro and ro.labels and #ro.labels > 0 then
          local l = ro.labels[1].text
          if not allowed[lower(l)] then
            what = ("the static agent labelled '%s'"):format(l)
            line, col = ro.line, ro.col
          end
        elseif agent and agent.kind == "any" then
          what = "any static agent (`agent any`)"
          line, col = agent.line, agent.col
        end
      end
      local mr = reach.merge_request or reach.fork
      if m.kind == "jenkinsfile" then mr = mr and job.when and job.when.change_request == true end
      if what and not seen[line .. ":" .. col .. ":" .. tostring(mr)] then
        seen[line .. ":" .. col .. ":" .. tostring(mr)] = true
        local noun = m.kind == "jenkinsfile" and "Stage" or "Job"
        ctx:fail{
          message = mr
            and ("%s '%s' runs merge request code on %s, a persistent host that later jobs "
              .. "share; use ephemeral, isolated runners for merge requests."):format(noun, job.id, what)
            or ("%s '%s' runs on %s; make sure it is ephemeral and isolated, or list its label "
              .. "in allowed_labels."):format(noun, job.id, what),
          path = path,
          line = line, column = col,
          severity = mr and "high" or "medium",
          profile = not mr and "auditor" or nil,
          key = ("%s:runner"):format(job.route),
          details = {job = job.id, runner = what, merge_request = mr or false},
        }
      end
    end
  end,
}
