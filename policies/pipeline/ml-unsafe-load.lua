-- pipeline/ml-unsafe-load: CI scripts that deserialise model or data files
-- with formats that execute code (catalog ML-UNSAFE-LOAD): pickle, joblib,
-- dill/cloudpickle, torch.load(weights_only=False), np.load(allow_pickle=
-- True), Keras load_model(safe_mode=False). High when the file was fetched
-- earlier in the job without a digest check; medium for repo-local files.

local P = mlgate.pipeline

local FETCHERS = {"hf_hub_download(", "snapshot_download(", "urlretrieve(", "urlopen(",
                  "requests.get(", "download_url(", "download("}

return mlgate.policy {
  id = "pipeline/ml-unsafe-load",
  title = "CI jobs must not unpickle fetched model or data files",
  description = [[
Flags inline Python in CI scripts (`python -c`, `python - <<'PY'`
heredocs, `shell: python` steps, heredocs written to a *.py file) that
deserialises a file with a format that runs code while loading:
`pickle.load(s)`, `joblib.load`, `dill.load`, `cloudpickle.load`,
`pd.read_pickle`, `torch.load(..., weights_only=False)`, `np.load(...,
allow_pickle=True)` and `keras...load_model(..., safe_mode=False)`.
`torch.load` without `weights_only` is reported with low confidence: it is
safe only from PyTorch 2.6, whose default became weights_only=True.

Severity is high when the file was fetched earlier in the same job (an
earlier line or step: curl/wget, aws s3, gsutil, az, mlflow, wandb, dvc
get, huggingface-cli/hf download, hf_hub_download, ...) with no digest or
signature check in between, or when the loaded name is unknown and
something was fetched; medium for files from the repository or verified
downloads. Whoever controls the bucket, the model repository or the
network path runs code in the job, next to its credentials.]],
  remediation = [[
Load tensors with safe formats and loaders: safetensors
(`safetensors.torch.load_file`), `torch.load(path, weights_only=True)`,
`np.load(path)` (allow_pickle defaults to False), Keras `.keras` files with
safe_mode. If a pickle is unavoidable, verify it before loading:

    aws s3 cp s3://ml-artifacts/model.joblib .
    echo "3f5e...c9a1  model.joblib" | sha256sum -c -
    python -c "import joblib; joblib.load('model.joblib')"

and scan it (`mlgate eval . --gate model`).]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0011.000", "AML.T0010.003", "AML.T0018.002", "AML.M0014", "AML.M0016"},
  aliases = {"catalog:ML-UNSAFE-LOAD"},
  references = {
    "https://docs.python.org/3/library/pickle.html",
    "https://pytorch.org/docs/stable/generated/torch.load.html",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local m = C.load(file.path)
    if not m then return end
    for events, job in C.owned_jobs(m) do
      for i, e in ipairs(events) do
        if e.kind == "load" and e.unsafe then
          -- the download this load reads, if any, and whether it was verified
          local source, verified
          local inline = false
          if e.call_text then
            for _, f in ipairs(FETCHERS) do
              if e.call_text:find(f, 1, true) then inline = true end
            end
          end
          for j = i - 1, 1, -1 do
            local d = events[j]
            if d.kind == "fetch" and not d.cache_only and not d.dvc and d.seq < e.seq then
              if not e.file or not d.dest or C.same_path(d.dest, d.dest_dir, e.file) then
                local ok = d.verified
                for k = j + 1, i - 1 do
                  if events[k].kind == "verify" then ok = true end
                end
                source, verified = d, ok
                break
              end
            end
          end
          local fetched = inline or (source and not verified)
          local what = e.file and ("'" .. e.file .. "'") or "a file"
          local origin
          if inline then origin = "downloaded in the same call"
          elseif source and not verified then
            origin = ("fetched by %s on line %d without a digest check"):format(source.tool, source.line)
          elseif source then origin = "fetched and verified earlier"
          else origin = "from the repository" end
          local how = e.unsafe == "default"
            and "without weights_only=True, which unpickles arbitrary objects before PyTorch 2.6"
            or ("with %s, which can run code while loading"):format(e.arg or "a pickle format")
          ctx:fail{
            message = ("%s loads %s (%s) %s; use safetensors or a weights-only loader, "
              .. "or verify the file's sha256 before loading it."):format(e.fn, what, origin, how),
            path = C.path(m, job),
            line = e.line, column = e.col,
            severity = not fetched and "medium" or nil,
            confidence = e.unsafe == "default" and "low" or nil,
            key = ("%s:%s:%s:%d"):format(job and job.route or "steps", e.fn, e.file or "",
                                        e.step and e.step.index or 0),
            details = {job = job and job.id or nil, step = e.step and e.step.index or nil,
                       call = e.fn, file = e.file, argument = e.arg, fetched = fetched or false,
                       source = source and source.tool or nil},
          }
        end
      end
    end
  end,
}
