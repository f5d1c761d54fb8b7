-- pipeline/dangerous-triggers: a workflow runs on pull_request_target or
-- workflow_run, the two triggers that run with the base repository's
-- secrets and write token while handling a fork's contribution.
--
-- Compatible with zizmor's dangerous-triggers audit: one finding per
-- trigger at the `on:` key (high, confidence medium), none for
-- pull_request_target when the workflow is a single job whose single step
-- is actions/labeler (param `single_step_exceptions`). Whether the
-- workflow then runs the contribution's code is pipeline/untrusted-checkout.

local TRIGGERS = {
  pull_request_target = "runs in the base repository with its secrets and a read/write "
    .. "GITHUB_TOKEN for every pull request, forks included",
  workflow_run = "runs with the repository's secrets and write token after another "
    .. "workflow, often one a fork's pull request started, and sees that run's "
    .. "branch, commits and artifacts",
}

local function exception(m, list)
  local jobs = m.jobs or {}
  if #jobs ~= 1 or jobs[1].kind == "reusable" then return false end
  local steps = jobs[1].steps or {}
  if #steps ~= 1 then return false end
  local u = steps[1].uses
  if not u or u.kind ~= "action" or not u.owner or not u.repo then return false end
  if u.subpath and u.subpath ~= "" then return false end
  local name = (u.owner .. "/" .. u.repo):lower()
  for _, allowed in ipairs(list) do
    if type(allowed) == "string" and allowed:lower() == name then return true end
  end
  return false
end

return mlgate.policy {
  id = "pipeline/dangerous-triggers",
  title = "Workflows should not use pull_request_target or workflow_run",
  description = [[
`pull_request_target` runs a workflow for every pull request, forks
included, in the context of the base repository: with its secrets, its
caches and a GITHUB_TOKEN that can write. `workflow_run` runs after another
workflow, with the same privileges, on a run that a fork's pull request may
have started. Neither is unsafe by itself, but both are the starting point
of most GitHub Actions compromises: one checkout of the pull request's head,
one `${{ github.event.pull_request.title }}` in a script, one artifact of
the triggering run unpacked and executed, and an outsider runs code with
write access to the repository and with the model registry, dataset and
cloud credentials an ML pipeline keeps in its secrets.

Reported once per such trigger, at the `on:` key. A workflow whose only job
has a single step running one of `single_step_exceptions`
(actions/labeler by default, as zizmor) is not reported for
pull_request_target. pipeline/untrusted-checkout reports the workflows
that actually run the contribution's code; pipeline/template-injection and
pipeline/github-env the ones that paste its text into scripts.]],
  remediation = [[
Use `pull_request` (read-only token, no secrets for forks) for anything that
builds, tests or trains on the contribution. If a privileged follow-up is
really needed (commenting results, labelling), split it: the `pull_request`
workflow uploads plain data as an artifact, and the privileged workflow
never checks out or runs the pull request's code, treats the artifact as
untrusted input, and declares the least permissions:

    on:
      workflow_run:
        workflows: ["eval"]
        types: [completed]
    permissions:
      pull-requests: write   # comment only; no contents: write, no secrets

Review such workflows with the rest of this gate (template-injection,
github-env, untrusted-checkout) and keep them small.]],
  gate = "pipeline",
  severity = "high",
  confidence = "medium",
  atlas = {"AML.T0010.001", "AML.T0049", "AML.T0055"},
  aliases = {"catalog:PRIV-TRIGGER", "zizmor:dangerous-triggers"},
  references = {
    "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    "https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows#pull_request_target",
    "https://docs.zizmor.sh/audits/#dangerous-triggers",
  },
  files = {".github/workflows/*.{yml,yaml}"},
  params = {
    single_step_exceptions = {"actions/labeler"},
  },

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" or not m.on then return end
    local list = ctx.params.single_step_exceptions
    if type(list) ~= "table" then
      return ctx:error("param 'single_step_exceptions' must be a list of owner/repo names")
    end
    local trig = mlgate.pipeline.triggers(m)
    for _, name in ipairs({"pull_request_target", "workflow_run"}) do
      if trig[name] and not (name == "pull_request_target" and exception(m, list)) then
        local ev
        for _, e in ipairs(m.on.events or {}) do
          if e.name == name then ev = e end
        end
        ctx:fail{
          message = ("This workflow runs on %s, which %s; make sure it never runs or "
            .. "checks out the contribution's code and never pastes its text into scripts, "
            .. "or use pull_request instead."):format(name, TRIGGERS[name]),
          line = m.on.line, column = m.on.col,
          end_line = ev and ev.line or m.on.line,
          key = "on." .. name,
          details = {trigger = name, trigger_line = ev and ev.line},
        }
      end
    end
  end,
}
