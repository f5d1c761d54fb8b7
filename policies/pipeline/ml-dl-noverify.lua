-- pipeline/ml-dl-noverify: model or dataset artifacts downloaded in a CI
-- job and then used (loaded, trained on, evaluated, served) with no digest
-- check in between (catalog ML-DL-NOVERIFY). All platforms, through
-- mlgate.mlcmd; Hugging Face Hub fetches are left to pipeline/ml-hf-unpinned.

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/ml-dl-noverify",
  title = "Downloaded model and data artifacts must be verified before use",
  description = [[
Flags a download of a model or dataset artifact in a CI job that is
followed, in a later line or step of the same job, by something that uses
it (inline Python that loads files or models, `python`, `torchrun`,
`accelerate`, `deepspeed`, lm-eval, vLLM, `mlflow models serve`, `dvc
repro`, ...) with no digest or signature check in between. Downloads:
`curl`/`wget` of an artifact (a URL or output file with a model/data
extension such as .safetensors, .pt, .bin, .ckpt, .onnx, .gguf, .pkl,
.parquet, .csv, .jsonl, .tar.gz, .zip), `aws s3 cp/sync`, `gsutil cp/rsync`,
`gcloud storage cp`, `az storage blob download`, `azcopy copy`, `mlflow
artifacts download`, `wandb artifact get` (not for immutable `:vN`
versions), `kaggle ... download`, `dvc get/import` without `--rev <sha>`.
Verifications: `sha256sum -c` and the other `*sum -c`, `shasum -c`, a
`--checksum...` flag on the download, `cosign verify-blob`, `gpg
--verify`, `gh attestation verify`, `model_signing verify`, hashlib in the
inline Python; `dvc pull` is content-addressed and counts as verified.

Buckets and artifact stores are mutable: whoever can write to them (a
leaked key, another team's pipeline) changes what the job trains on or
ships. Confidence is high when the consumer loads the downloaded file
itself, medium when it is a command that may read it. Hugging Face Hub
downloads are reported by pipeline/ml-hf-unpinned instead.]],
  remediation = [[
Record the digest when the artifact is produced and check it before use:

    aws s3 cp s3://ml-artifacts/weights.safetensors .
    echo "9b2f4c0d...3c4d  weights.safetensors" | sha256sum -c -
    python eval.py --weights weights.safetensors

or track the artifact with DVC (`dvc pull` checks the recorded md5), or
fetch immutable versions (`wandb artifact get team/proj/model:v12`).]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0010.002", "AML.T0020", "AML.M0014"},
  aliases = {"catalog:ML-DL-NOVERIFY"},
  references = {
    "https://doc.dvc.org/command-reference/pull",
    "https://github.com/sigstore/model-transparency",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local m = C.load(file.path)
    if not m then return end
    for events, job in C.owned_jobs(m) do
      for i, d in ipairs(events) do
        if d.kind == "fetch" and not d.verified and not d.pinned and not d.cache_only
           and not (d.hf and C.hf_id(d.repo)) and (d.artifact or d.url == nil) then
          local consumer, direct
          for j = i + 1, #events do
            local c = events[j]
            if c.kind == "verify" then break end
            if c.kind == "load" and c.file and d.dest and C.same_path(d.dest, d.dest_dir, c.file) then
              consumer, direct = c, true
              break
            end
            if not consumer and (c.kind == "consume" or (c.kind == "load" and (not c.file or not d.dest)))
               and c.seq > d.seq then
              consumer = c
            end
          end
          if consumer then
            local src = d.repo or d.url or "an artifact"
            ctx:fail{
              message = ("%s downloads %s%s and %s uses it on line %d with no digest check in "
                .. "between; verify a pinned sha256 (sha256sum -c) or signature before using it.")
                :format(d.tool, src, d.alias == "latest" and " (the moving 'latest' alias)" or "",
                        consumer.call or consumer.tool or "a later command", consumer.line),
              path = C.path(m, job),
              line = d.line, column = d.col,
              confidence = not direct and "medium" or nil,
              key = ("%s:%s:%s"):format(job and job.route or "steps", d.tool, src),
              details = {job = job and job.id or nil, step = d.step and d.step.index or nil,
                         source = src, dest = d.dest, consumer_line = consumer.line},
            }
          end
        end
      end
    end
  end,
}
