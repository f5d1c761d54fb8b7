-- pipeline/ml-gpu-pr-runner: change-request jobs on GPU runners (catalog
-- ML-GPU-SELFHOSTED-PR) on GitLab CI (`tags:`), Jenkins (agent labels) and
-- GitHub (custom GPU runner labels). GitHub jobs with the `self-hosted`
-- label, a runner group or an expression label are reported once by
-- pipeline/self-hosted-runner, which adds this row's alias for GPU labels.

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/ml-gpu-pr-runner",
  title = "Merge request jobs must not run on GPU runners",
  description = [[
Flags jobs that change requests can run (GitHub pull_request and related
triggers, GitLab merge request pipelines, Jenkins change-request builds:
mlgate.pipeline.reach) on a GPU or accelerator runner: a runner label or
tag such as `gpu`, `cuda`, `a100`, `h100`, `l4`, `t4`, `rocm`, `tpu`. GPU
runners are nearly always self-managed, long-lived machines: drivers,
shared model caches (~/.cache/huggingface), mounted datasets and cloud
credentials persist between jobs, so code from a merge request can poison
the cache or the toolchain for the next release job, read other jobs'
data, or mine on the GPUs.

GitLab and Jenkins findings have high confidence. On GitHub, a custom GPU
label may also be a GitHub-hosted larger runner (ephemeral), so confidence
is medium; jobs that select `self-hosted` are reported by
pipeline/self-hosted-runner with this row's alias. Params: `gpu_labels`
(more label substrings that mean a GPU runner) and `allowed_labels`
(labels of ephemeral, isolated runners that are fine).]],
  remediation = [[
Run merge request jobs on ephemeral runners (autoscaled, one job per VM or
pod) and keep persistent GPU hosts for protected branches and tags:

    gpu-eval:
      tags: [gpu-ephemeral]
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

For GitHub, trigger GPU evaluation on push to main or with a label set by
a maintainer, on an ephemeral runner scale set listed in allowed_labels.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0055", "AML.T0018.000"},
  aliases = {"catalog:ML-GPU-SELFHOSTED-PR"},
  references = {
    "https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/about-self-hosted-runners#self-hosted-runner-security",
    "https://docs.gitlab.com/ci/runners/configure_runners/#prevent-runners-from-revealing-sensitive-information",
  },
  files = P.files("github", "gitlab", "jenkins"),
  params = {gpu_labels = {}, allowed_labels = {}},

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local extra, e1 = C.list_param(ctx, "gpu_labels")
    if not extra then return ctx:error(e1) end
    local allowed, e2 = C.list_param(ctx, "allowed_labels")
    if not allowed then return ctx:error(e2) end
    local allow = {}
    for _, l in ipairs(allowed) do allow[l:lower()] = true end
    local m = C.load(file.path)
    if not m or not m.jobs then return end
    local github = m.platform == "github" or not m.platform
    for _, job in ipairs(m.jobs) do
      local ro = job.runs_on
      if ro and C.own(m, job) and job.kind ~= "reusable" then
        local labels = ro.labels or {}
        local skip, gpu = false, nil
        for _, l in ipairs(labels) do
          local t = (l.text or ""):lower()
          if allow[t] then skip = true end
          if github and (t == "self-hosted" or t:find("${{", 1, true)) then skip = true end
          if not gpu and C.gpu_label(t, extra) then gpu = l.text end
        end
        if github and (ro.group or ro.expr) then skip = true end
        if gpu and not skip then
          local reach = P.reach(m, job)
          if reach.merge_request then
            local how = github and "pull requests trigger it" or
              (reach.fork and "merge requests, also from forks, run it" or "merge requests run it")
            ctx:fail{
              message = ("Job '%s' runs on the GPU runner label '%s' and %s, so change-request "
                .. "code reaches a persistent GPU host and its caches; run it on ephemeral runners "
                .. "or only for protected branches."):format(job.id, gpu, how),
              path = C.path(m, job),
              line = ro.line, column = ro.col,
              confidence = github and "medium" or nil,
              key = job.route .. ":runs-on",
              details = {job = job.id, label = gpu, fork = reach.fork},
            }
          end
        end
      end
    end
  end,
}
