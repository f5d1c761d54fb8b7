-- pipeline/ml-model-publish-token: models pushed to a hub or registry with
-- a long-lived token and no signing or attestation step in the job
-- (catalog ML-MODEL-PUBLISH-TOKEN). All platforms, through mlgate.mlcmd.

local P = mlgate.pipeline

local TOKENISH = {"HF_", "HUGGING", "MLFLOW", "WANDB", "DATABRICKS", "REGISTRY", "COMET", "NEPTUNE"}

return mlgate.policy {
  id = "pipeline/ml-model-publish-token",
  title = "Models must be published with signing or attestation, not a bare long-lived token",
  description = [[
Flags model publishing in CI scripts (`huggingface-cli upload`, `hf upload`,
`push_to_hub(`, `upload_folder(`, `mlflow.register_model(`,
`log_model(registered_model_name=...)`, `mlflow ... register`, `wandb
artifact put`) when the job authenticates with a long-lived token (a
`--token` / `token=` argument, a `huggingface-cli login --token`, or an
HF/MLflow/W&B/registry secret in the job's scope) and no step of the job
signs or attests what it publishes (cosign sign/attest, model_signing
sign, sigstore, notation, actions/attest-build-provenance, ...). A leaked
write token lets anyone replace the model; without a signature consumers
cannot tell the difference. Severity medium.]],
  remediation = [[
Sign the model and publish the signature and provenance with it, and use a
fine-grained write token scoped to the one repository, kept in a protected
environment:

    - run: python -m model_signing sign sigstore out/ --signature out/model.sig
    - uses: actions/attest-build-provenance@<sha>
      with: {subject-path: "out/*.safetensors"}
    - run: hf upload acme/model out/ --token "$HF_TOKEN"
      env: {HF_TOKEN: "${{ secrets.HF_WRITE_TOKEN }}"}]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0058", "AML.T0055", "AML.M0013", "AML.M0014"},
  aliases = {"catalog:ML-MODEL-PUBLISH-TOKEN"},
  references = {
    "https://github.com/sigstore/model-transparency",
    "https://huggingface.co/docs/hub/security-tokens",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local m = C.load(file.path)
    if not m then return end
    for events, job in C.owned_jobs(m) do
      local signed = false
      for _, e in ipairs(events) do
        if e.kind == "sign" then signed = true end
      end
      if not signed then
        local secret
        for _, s in ipairs(P.secrets(m, job)) do
          local u = s.name:upper()
          if s.name == "*" then secret = secret or s end
          for _, p in ipairs(TOKENISH) do
            if u:find(p, 1, true) then secret = secret or s end
          end
        end
        local login
        for _, e in ipairs(events) do
          if e.kind == "login" and e.token then login = login or e end
          if e.kind == "publish" then
            local how
            if e.token then how = ("with --token %s"):format(e.token)
            elseif login then how = ("after logging in with a token on line %d"):format(login.line)
            elseif secret then
              how = ("with the secret %s in scope"):format(secret.name == "*" and "set (all secrets)" or secret.name)
            end
            if how then
              ctx:fail{
                message = ("%s publishes %s %s and nothing in the job signs or attests it; sign "
                  .. "the model (model_signing, cosign) or attest its provenance, and use a "
                  .. "repository-scoped token in a protected environment."):format(
                  e.tool, e.repo and ("'" .. e.repo .. "'") or "a model", how),
                path = C.path(m, job),
                line = e.line, column = e.col,
                key = ("%s:%s:%s"):format(job and job.route or "steps", e.tool, e.repo or ""),
                details = {job = job and job.id or nil, step = e.step and e.step.index or nil,
                           tool = e.tool, repo = e.repo},
              }
            end
          end
        end
      end
    end
  end,
}
