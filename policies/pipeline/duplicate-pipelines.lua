-- pipeline/duplicate-pipelines: GitLab jobs whose rules run them in both
-- branch pipelines and merge request pipelines, with no `workflow:rules`
-- to keep only one of the two. checkov's CKV_GITLABCI_2; the catalog's
-- HYG-DOUBLEPIPE row.

local P = mlgate.pipeline

-- The first rule of the job that admits merge request pipelines.
local function mr_rule(job)
  for _, r in ipairs(job.rules or {}) do
    local c = r.cond and r.cond.text or ""
    if c:find("merge_request_event", 1, true) or c:find("CI_MERGE_REQUEST_", 1, true) then
      if not (r.when and r.when.text == "never") then return r end
    end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/duplicate-pipelines",
  title = "Rules must not start the same jobs in a branch and a merge request pipeline",
  description = [[
When a job's `rules:` admit both merge request pipelines
(`$CI_PIPELINE_SOURCE == "merge_request_event"`) and branch pipelines (a
rule for pushes, for `$CI_COMMIT_BRANCH`, or a catch-all rule), and no
`workflow:rules` choose between them, every push to a branch with an open
merge request starts two pipelines: the job runs twice, on two runners,
with two sets of artifacts. For ML pipelines that doubles GPU time for
training and evaluation jobs, and the two runs can publish different
results for the same commit.]],
  remediation = [[
Let `workflow:rules` start merge request pipelines for merge requests and
branch pipelines otherwise, as GitLab documents:

    workflow:
      rules:
        - if: $CI_PIPELINE_SOURCE == "merge_request_event"
        - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
          when: never
        - if: $CI_COMMIT_BRANCH]],
  gate = "pipeline",
  severity = "low",
  confidence = "medium",
  atlas = {"AML.T0034"},
  aliases = {"catalog:HYG-DOUBLEPIPE", "checkov:CKV_GITLABCI_2"},
  references = {
    "https://docs.gitlab.com/ci/jobs/job_rules/#avoid-duplicate-pipelines",
    "https://docs.gitlab.com/ci/yaml/workflow/#switch-between-branch-pipelines-and-merge-request-pipelines",
  },
  files = P.files("gitlab"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "gitlab-ci" then return end
    if m.workflow and m.workflow.rules and #m.workflow.rules > 0 then return end
    for _, job in ipairs(m.jobs or {}) do
      local reach = job.reach
      local r = mr_rule(job)
      -- Default-branch pipelines rarely have an open merge request of their
      -- own: only other branches run twice.
      if r and reach and reach.merge_request and reach.branch then
        ctx:fail{
          message = ("Job '%s' runs in both branch and merge request pipelines, so a push to "
            .. "a branch with an open merge request runs it twice; add workflow:rules that "
            .. "keep one of the two."):format(job.id),
          path = r.path or job.path,
          line = r.line, column = r.col,
          key = job.route .. ":double",
          details = {job = job.id},
        }
      end
    end
  end,
}
