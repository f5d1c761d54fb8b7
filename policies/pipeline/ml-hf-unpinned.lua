-- pipeline/ml-hf-unpinned: Hugging Face models, datasets and tokenizers
-- fetched in CI without a 40-hex commit revision (catalog ML-HF-UNPINNED),
-- on GitHub Actions, GitLab CI and Jenkins alike: the scripts of every job
-- are read through mlgate.mlcmd (shell commands, inline Python, heredocs).

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/ml-hf-unpinned",
  title = "Hugging Face models and datasets fetched in CI must be pinned to a commit",
  description = [[
Flags Hub downloads in CI scripts that do not name a 40-hex commit as the
revision: `huggingface-cli download` / `hf download` without `--revision
<sha>`, and in inline Python (`python -c`, `python - <<'PY'` heredocs,
`shell: python` steps, heredocs written to a *.py file) `from_pretrained(`,
`snapshot_download(`, `hf_hub_download(`, `load_dataset(`,
`pipeline(model=...)`, `SentenceTransformer(` without `revision="<sha>"`;
lm-eval `--model_args pretrained=X` without `revision=`, transformers
example scripts' `--model_name_or_path X` without `--model_revision`, vLLM
and TGI models without `--revision`, and `git clone https://huggingface.co/...`.
Branch and tag names (`main`, `v1.0`) do not count: whoever can push to the
model repository (its owner, a stolen token, a compromised org) changes
what your pipeline trains on, evaluates or ships, and a new revision can
bring pickled weights or remote code.

Severity is medium, high when the job holds secrets (the downloaded model
runs next to them). Local paths, builtin dataset loaders (`csv`, `json`,
`parquet`, ...), ids that are not literals (variables) and revisions given
as variables are not reported. Params `allowed_orgs` and `allowed_models`
exempt repositories you control.]],
  remediation = [[
Pin the commit you reviewed (the Hub shows it under "Files and versions";
`huggingface-cli download ORG/NAME --revision SHA` or the API give it):

    huggingface-cli download meta-llama/Llama-3.1-8B \
      --revision 0e9e39f249a16976918f6564b8830bc894c89659 --local-dir model

    AutoModel.from_pretrained("org/model",
                              revision="0e9e39f249a16976918f6564b8830bc894c89659")

    lm_eval --model hf --model_args pretrained=org/model,revision=0e9e39f249a16976918f6564b8830bc894c89659]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0010.002", "AML.M0014"},
  aliases = {"catalog:ML-HF-UNPINNED"},
  references = {
    "https://huggingface.co/docs/huggingface_hub/guides/download#from-specific-version",
    "https://bandit.readthedocs.io/en/latest/plugins/b615_huggingface_unsafe_download.html",
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
      local locals = {}
      local secrets
      for _, e in ipairs(events) do
        if e.kind == "fetch" and e.dest then locals[#locals + 1] = e end
        if e.kind == "fetch" and e.hf and e.repo and not e.pinned and e.revision ~= "?"
           and C.hf_id(e.repo) and not C.allowed(e.repo, orgs, models) then
          local is_local = false
          for _, d in ipairs(locals) do
            if d ~= e and C.same_path(d.dest, true, e.repo) then is_local = true end
          end
          if not is_local then
            if secrets == nil then secrets = P.secrets(m, job) end
            local held = #secrets > 0
            local rev = e.revision and ("revision '%s', which is a branch or tag"):format(e.revision)
                        or "no revision (the default branch)"
            ctx:fail{
              message = ("%s fetches %s '%s' from the Hugging Face Hub with %s; pin the 40-hex "
                .. "commit SHA you reviewed as the revision."):format(
                e.tool, e.what or "model", e.repo, rev),
              path = C.path(m, job),
              line = e.line, column = e.col,
              severity = held and "high" or nil,
              key = ("%s:%s:%s"):format(job and job.route or "steps", e.tool, e.repo),
              details = {job = job and job.id or nil, step = e.step and e.step.index or nil,
                         repo = e.repo, revision = e.revision, tool = e.tool,
                         secrets_in_scope = held and (function()
                           local t = {}
                           for _, s in ipairs(secrets) do t[#t + 1] = s.name end
                           return t
                         end)() or nil},
            }
          end
        end
      end
    end
  end,
}
