-- pipeline/ml-secrets-untrusted: ML secrets (Hub, experiment tracking,
-- registry, cloud keys) in scope of a job that runs untrusted code, model
-- or data (catalog ML-SECRETS-UNTRUSTED). Reads mlgate.pipeline.secrets
-- and .reach, and the job's ML commands from mlgate.mlcmd.

local P = mlgate.pipeline

local CHECKOUT_HEAD = mlgate.re.compile(
  [[github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|refs/pull/|]] ..
  [[github\.event\.workflow_run\.head_(?:sha|branch)|pull_request\.merge_commit_sha]], "i")
local SCRIPT_HEAD = mlgate.re.compile(
  [[\bgh\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull/|\bgit\s+checkout\b[^\n]*(?:FETCH_HEAD|head_ref|HEAD_SHA)]], "i")

-- Whether a GitHub job checks out the pull request's code.
local function runs_pr_head(job)
  for _, step in ipairs(job.steps or {}) do
    local u = step.uses
    if u and u.owner and (u.owner .. "/" .. (u.repo or "")):lower() == "actions/checkout" then
      for _, kv in ipairs(step.with or {}) do
        if (kv.name == "ref" or kv.name == "repository") and kv.value and kv.value.text
           and CHECKOUT_HEAD:test(kv.value.text) then
          return step.line
        end
      end
    end
    if step.run and step.run.text and SCRIPT_HEAD:test(step.run.text) then return step.line end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/ml-secrets-untrusted",
  title = "ML secrets must not be in scope of jobs that run untrusted code, models or data",
  description = [[
Flags jobs that hold ML secrets (HF_TOKEN, WANDB_API_KEY,
MLFLOW_TRACKING_TOKEN, cloud keys, ... as mlgate.pipeline.secrets finds
them: GitHub `${{ secrets.X }}` in env/with/run and `secrets: inherit`,
GitLab variables and script references, Jenkins credentials) while the job
runs something an outsider controls:
- change-request code with the repository's secrets: GitHub
  pull_request_target, issue_comment or workflow_run jobs that check out
  the pull request head; GitLab merge request pipelines that fork merge
  requests can run in the parent project; Jenkins change-request builds
  from forks;
- remote model code (trust_remote_code, --trust-remote-code, unpinned
  torch.hub.load);
- a Hugging Face model or dataset not pinned to a commit;
- a download that is used without a digest check, or a fetched pickle.
Model code and pickled weights run with the job's environment: they can
read the token and push a poisoned model, read private datasets or spend
the cloud account. The finding points at the first line that brings the
secret into the job. Param `extra_secrets` names more secret variables.]],
  remediation = [[
Split the job: evaluate untrusted models/code in a job without secrets and
with `permissions: {}`, and give the token only to a later job that
consumes the (verified) results, on trusted triggers, ideally in a
protected environment:

    jobs:
      eval:            # no secrets here
        runs-on: ubuntu-latest
        steps: [...]
      publish:
        needs: eval
        if: github.event_name == 'push'
        environment: hub-publish
        env:
          HF_TOKEN: ${{ secrets.HF_TOKEN }}]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0055", "AML.T0010.003", "AML.T0011.000", "AML.M0005"},
  aliases = {"catalog:ML-SECRETS-UNTRUSTED"},
  references = {
    "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    "https://docs.gitlab.com/ci/pipelines/merge_request_pipelines/#run-pipelines-in-the-parent-project",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),
  params = {extra_secrets = {}},

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local extra, e1 = C.list_param(ctx, "extra_secrets")
    if not extra then return ctx:error(e1) end
    local m = C.load(file.path)
    if not m or not m.jobs then return end
    for _, job in ipairs(m.jobs) do
      if C.own(m, job) then
        local held = {}
        for _, s in ipairs(P.secrets(m, job, extra)) do
          if C.ml_secret(s.name, extra) then held[#held + 1] = s end
        end
        if #held > 0 then
          local reasons, conf = {}, "medium"
          local reach = P.reach(m, job)
          if reach.fork_secrets then
            if m.platform == "github" or not m.platform then
              local line = runs_pr_head(job)
              if line then
                reasons[#reasons + 1] = ("it checks out pull request code (line %d) on a trigger "
                  .. "that runs with secrets"):format(line)
                conf = "high"
              end
            else
              reasons[#reasons + 1] = "merge requests from forks can run it"
              conf = "high"
            end
          end
          local seen = {}
          for _, e in ipairs(C.job(m, job)) do
            local r
            if e.kind == "remote_code" and not (e.tool == "torch.hub" and e.pinned) then
              r = ("it runs remote model code (%s, line %d)"):format(e.what, e.line)
              conf = "high"
            elseif e.kind == "fetch" and e.hf and e.repo and not e.pinned and e.revision ~= "?"
                   and C.hf_id(e.repo) then
              r = ("it fetches the unpinned model '%s' (line %d)"):format(e.repo, e.line)
            elseif e.kind == "load" and e.unsafe == "explicit" then
              r = ("it unpickles %s (line %d)"):format(e.file or "a file", e.line)
            end
            if r and not seen[e.kind] then
              seen[e.kind] = true
              reasons[#reasons + 1] = r
            end
          end
          if #reasons > 0 then
            local first = held[1]
            local names = {}
            for _, s in ipairs(held) do names[#names + 1] = s.name == "*" and "all secrets" or s.name end
            ctx:fail{
              message = ("Job '%s' holds %s while %s; run untrusted models and code in a job "
                .. "without secrets and pass the token only to a trusted follow-up job.")
                :format(job.id, table.concat(names, ", "), table.concat(reasons, "; ")),
              path = C.path(m, job),
              line = first.line, column = first.col,
              confidence = conf,
              key = job.route .. ":secrets",
              details = {job = job.id, secrets = names, reasons = reasons,
                         merge_request = reach.merge_request, fork = reach.fork},
            }
          end
        end
      end
    end
  end,
}
