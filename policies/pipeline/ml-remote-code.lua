-- pipeline/ml-remote-code: CI scripts that execute model code from a hub
-- (catalog ML-REMOTE-CODE): trust_remote_code=True, --trust-remote-code,
-- torch.hub.load of a repository not pinned to a commit. All platforms,
-- through mlgate.mlcmd.

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/ml-remote-code",
  title = "CI jobs must not execute remote model code",
  description = [[
Flags CI scripts that run Python code shipped with a model: a
`trust_remote_code=True` argument in inline Python (`from_pretrained`,
`pipeline`, `load_dataset`, ... in `python -c`, heredocs, `shell: python`
steps), `--trust-remote-code` / `--trust_remote_code` on vLLM, lm-eval,
TGI, optimum-cli or training scripts, lm-eval `--model_args
...,trust_remote_code=True`, and `torch.hub.load('owner/repo', ...)`
without a `:<commit>` ref (with or without `trust_repo=True`). The model
repository's `modeling_*.py` or `hubconf.py` then runs inside the job, with
its tokens (model registry, dataset buckets, cloud credentials) and its
write access to caches and artifacts; whoever can push to that repository
owns the job.

Severity high. Confidence is medium when the model is pinned to a 40-hex
commit (the code was reviewable), high otherwise. Params `allowed_orgs`
and `allowed_models` exempt repositories you control.]],
  remediation = [[
Use an architecture that transformers implements natively (no remote code),
or vendor the reviewed modeling code into your repository and load the
weights without trust_remote_code. When remote code is unavoidable, pin the
commit you reviewed and keep secrets out of the job:

    AutoModel.from_pretrained("org/model", trust_remote_code=True,
                              revision="0e9e39f249a16976918f6564b8830bc894c89659")

    torch.hub.load("pytorch/vision:5f7d4b4e3d4b1e63f0c0a0f36c4b4c4e0b5d8c1a", "resnet50")]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0011.000", "AML.T0018.002", "AML.M0014"},
  aliases = {"catalog:ML-REMOTE-CODE"},
  references = {
    "https://huggingface.co/docs/transformers/models#custom-models",
    "https://pytorch.org/docs/stable/hub.html#torch.hub.load",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),
  params = {allowed_orgs = {}, allowed_models = {}},

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local orgs, e1 = C.list_param(ctx, "allowed_orgs")
    if not orgs then return ctx:error(e1) end
    local models, e2 = C.list_param(ctx, "allowed_models")
    if not models then return ctx:error(e2) end
    local m = C.load(file.path)
    if not m then return end
    for events, job in C.owned_jobs(m) do
      for _, e in ipairs(events) do
        if e.kind == "remote_code" then
          local repo = e.repo and e.repo:gsub(":.*$", "")
          local hub = e.tool == "torch.hub"
          if not (hub and e.pinned) and not C.allowed(repo, orgs, models) then
            local what
            if hub then
              what = ("torch.hub.load runs hubconf.py of '%s' from %s%s"):format(
                repo or "?", e.revision and ("the branch or tag '" .. e.revision .. "'")
                or "its default branch",
                e.trust_repo and (" (trust_repo=" .. e.trust_repo .. ")") or "")
            else
              what = ("%s runs the Python code shipped with %s"):format(
                e.what, repo and ("'" .. repo .. "'") or "the model")
            end
            ctx:fail{
              message = ("%s inside this job; load a natively supported architecture or vendored "
                .. "code instead, or pin the reviewed commit and keep secrets out of the job.")
                :format(what),
              path = C.path(m, job),
              line = e.line, column = e.col,
              confidence = e.pinned and "medium" or nil,
              key = ("%s:%s:%s:%d"):format(job and job.route or "steps", e.what, repo or "",
                                          e.step and e.step.index or 0),
              details = {job = job and job.id or nil, step = e.step and e.step.index or nil,
                         repo = e.repo, revision = e.revision, pattern = e.what},
            }
          end
        end
      end
    end
  end,
}
