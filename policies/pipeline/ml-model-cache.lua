-- pipeline/ml-model-cache: model caches (~/.cache/huggingface, HF_HOME,
-- TORCH_HOME, ...) that change-request jobs write and release jobs
-- restore, or host directories mounted into change-request jobs (catalog
-- ML-MODEL-CACHE).

local P = mlgate.pipeline

local CACHE_PATHS = {".cache/huggingface", "huggingface/hub", ".cache/torch", "hf_home",
                     "torch_home", "transformers_cache", "hf_datasets_cache",
                     "huggingface_hub_cache", "hf_hub_cache", "sentence_transformers_home",
                     ".cache/hf", "hf-cache", "hf_cache", "model-cache", "model_cache"}

local function model_path(text, extra)
  local t = (text or ""):lower()
  for _, list in ipairs({CACHE_PATHS, extra}) do
    for _, p in ipairs(list) do
      if t:find(p:lower(), 1, true) then return true end
    end
  end
  return false
end

local CACHE_ACTIONS = {["actions/cache"] = true, ["actions/cache/restore"] = true,
                       ["actions/cache/save"] = true}

-- Model caches of a job: {key = text, val = the path value (anchor), line, col}.
local function caches(m, job, extra)
  local out = {}
  if m.platform == "github" or not m.platform then
    for _, step in ipairs(job.steps or {}) do
      local u = step.uses
      local slug = u and u.owner and u.repo and (u.owner .. "/" .. u.repo .. (u.subpath and u.subpath ~= ""
                   and ("/" .. u.subpath) or "")):lower()
      if slug and CACHE_ACTIONS[slug] then
        local path, key
        for _, kv in ipairs(step.with or {}) do
          if kv.name == "path" then path = kv end
          if kv.name == "key" then key = kv end
        end
        if path and path.value and model_path(path.value.text, extra) then
          out[#out + 1] = {key = key and key.value and key.value.text or "", line = path.line,
                           col = path.col, what = slug}
        end
      end
    end
  else
    local list = job.cache
    if list and list.paths then list = {list} end
    for _, c in ipairs(list or {}) do
      for _, p in ipairs(c.paths or {}) do
        local text = type(p) == "table" and p.text or p
        if model_path(text, extra) then
          local key = c.key
          if type(key) == "table" then key = key.text or "" end
          out[#out + 1] = {key = key or "default",
                           line = type(p) == "table" and (p.key_line or p.line) or c.line,
                           col = type(p) == "table" and (p.key_col or p.col) or c.col,
                           what = "cache"}
          break
        end
      end
    end
  end
  return out
end

return mlgate.policy {
  id = "pipeline/ml-model-cache",
  title = "Model caches must not flow from merge request jobs to release jobs",
  description = [[
Flags model caches (~/.cache/huggingface, HF_HOME, TORCH_HOME,
TRANSFORMERS_CACHE, HF_DATASETS_CACHE, ... and param `cache_paths`) that a
change-request job can write and a release or publishing job restores:
- GitHub: an actions/cache (or cache/restore, cache/save) step caching a
  model cache in a job that pull requests can run, when a job that runs on
  tags, on the default branch or that publishes a model uses the same
  cache key; and any such step in a job on pull_request_target,
  issue_comment or workflow_run, which write to the default branch's cache
  scope;
- GitLab CI: a `cache:` with a model path in a merge request job whose
  key a tag/default-branch job also uses (GitLab keeps separate caches for
  protected refs unless that setting is off: confidence medium);
- all platforms: `docker run -v /host/dir:/root/.cache/huggingface`
  style mounts of a host directory holding models into a change-request
  job (persistent runners share it with every later job).
A poisoned cache gives the release job pickled weights or tokenizer files
chosen by whoever opened the merge request. The finding points at the
cache path line, or the mount command.]],
  remediation = [[
Give release jobs their own cache key (or no cache), and never save caches
from pull request jobs:

    - uses: actions/cache/restore@<sha>      # PR jobs: restore only
      with:
        path: ~/.cache/huggingface
        key: hf-pr-${{ github.event.pull_request.number }}

Pin models by commit (they are then verified on load) and mount host
model caches read-only, only on protected branches.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0018.000", "AML.M0014"},
  aliases = {"catalog:ML-MODEL-CACHE"},
  references = {
    "https://adnanthekhan.com/2024/05/06/the-monsters-in-your-build-cache-github-actions-cache-poisoning/",
    "https://docs.gitlab.com/ci/caching/#cache-key-names",
  },
  files = P.files("github", "gitlab", "jenkins"),
  params = {cache_paths = {}},

  check = function(file, ctx)
    local C = mlgate.mlcmd
    local extra, e1 = C.list_param(ctx, "cache_paths")
    if not extra then return ctx:error(e1) end
    local m = C.load(file.path)
    if not m or not m.jobs then return end
    local github = m.platform == "github" or not m.platform
    local info = {}
    for _, job in ipairs(m.jobs) do
      local publishes = false
      local events = C.job(m, job)
      for _, e in ipairs(events) do
        if e.kind == "publish" then publishes = true end
      end
      local reach = P.reach(m, job)
      info[#info + 1] = {job = job, reach = reach, events = events,
                         caches = caches(m, job, extra),
                         release = reach.tag or publishes or (reach.default_branch and not reach.merge_request)}
    end
    for _, a in ipairs(info) do
      local job, reach = a.job, a.reach
      if reach.merge_request and C.own(m, job) then
        for _, c in ipairs(a.caches) do
          local why
          if github and reach.fork_secrets then
            why = "runs for events outsiders trigger in the default branch's cache scope"
          else
            for _, b in ipairs(info) do
              if b.release and (b ~= a or reach.tag) then
                for _, c2 in ipairs(b.caches) do
                  if c2.key == c.key and not why then
                    why = ("shares the cache key '%s' with the release job '%s'"):format(c.key, b.job.id)
                  end
                end
              end
            end
          end
          if why then
            ctx:fail{
              message = ("Job '%s' caches models and %s, so a merge request can plant weights that "
                .. "the release restores; use separate keys for release jobs and restore-only caches "
                .. "in merge request jobs."):format(job.id, why),
              path = C.path(m, job),
              line = c.line, column = c.col,
              confidence = not github and "medium" or nil,
              key = job.route .. ":cache:" .. c.key,
              details = {job = job.id, key = c.key},
            }
          end
        end
        for _, e in ipairs(a.events) do
          if e.kind == "mount" and e.host and e.host:match("^/") and
             (model_path(e.target, extra) or model_path(e.host, extra)) then
            ctx:fail{
              message = ("Job '%s' runs for merge requests and mounts the host directory %s into "
                .. "%s, a model cache every later job on that runner reads; use a per-job cache or "
                .. "mount it read-only only on protected branches."):format(job.id, e.host, e.target or "the container"),
              path = C.path(m, job),
              line = e.line, column = e.col,
              key = job.route .. ":mount:" .. e.host,
              details = {job = job.id, host = e.host, target = e.target},
            }
          end
        end
        local opts = job.container and job.container.options
        local otext = type(opts) == "table" and opts.text or opts
        if type(otext) == "string" then
          for host, target in otext:gmatch("%-v%s*=?%s*(/[^:%s]+):([^:%s]+)") do
            if model_path(host, extra) or model_path(target, extra) then
              ctx:fail{
                message = ("Job '%s' runs for merge requests and mounts the host directory %s into "
                  .. "%s, a model cache every later job on that runner reads; use a per-job cache or "
                  .. "mount it read-only only on protected branches."):format(job.id, host, target),
                path = C.path(m, job),
                line = opts.line or job.container.line, column = opts.col or job.container.col,
                key = job.route .. ":mount:" .. host,
                details = {job = job.id, host = host, target = target},
              }
            end
          end
        end
      end
    end
  end,
}
