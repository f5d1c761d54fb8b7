-- pipeline/unpinned-images: container images (job container, services,
-- docker:// steps, docker actions) that are not pinned by digest.
--
-- Follows zizmor's unpinned-images audit: untagged and `:latest` images are
-- regular findings, other tags pedantic ones (per finding); `${{ }}` images
-- are expanded through the job's matrix (include entries and dimension
-- values) and string literals of `a || b`, `c && 'x'` expressions; what
-- cannot be resolved statically (inputs, vars, computed matrices) is
-- reported with low confidence.
--
-- ML/GPU base images (catalog ML-UNPINNED-TRAIN-IMAGE: pytorch/*,
-- nvcr.io/nvidia/*, tensorflow/*, huggingface/*, rocm/*, vllm/*, *cuda*,
-- plus param `ml_images`) are reported once with both catalog ids: high
-- for untagged/`:latest`, medium (regular profile, not pedantic) for a
-- version tag. GitLab CI (`image:`, `services:`) and Jenkins (docker
-- agents, docker.image()) images are read from the shared model fields
-- job.container / job.services; there a reference holding a `$VARIABLE`
-- is reported only when its tag is literally `latest`.

local P = mlgate.pipeline

local ML_IMAGES = {"pytorch/*", "nvcr.io/nvidia/*", "nvidia/*", "tensorflow/*", "huggingface/*",
                   "ghcr.io/huggingface/*", "rocm/*", "vllm/*", "*cuda*"}

local function glob_match(pat, s)
  local lp = "^" .. pat:lower():gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
  return s:match(lp) ~= nil
end

-- Whether an image reference (without digest) is an ML/GPU base image.
local function ml_image(raw, extra)
  local r = (raw or ""):lower():gsub("@.*$", "")
  r = r:gsub("^docker%.io/", ""):gsub("^index%.docker%.io/", ""):gsub("^registry%-1%.docker%.io/", "")
  r = r:gsub("^library/", "")
  for _, list in ipairs({ML_IMAGES, extra or {}}) do
    for _, pat in ipairs(list) do
      if glob_match(pat, r) then return true end
    end
  end
  return false
end

-- {tag, digest} of an image reference, or nil when it is empty.
local function parse_image(s)
  s = (s or ""):match("^%s*(.-)%s*$"):gsub("^docker://", "")
  if s == "" then return nil end
  local name, digest = s:match("^([^@]*)@(.*)$")
  name = name or s
  local last = name:match("[^/]*$")
  local tag = last:match(":([^:]*)$")
  return {raw = s, tag = tag, digest = digest}
end

-- zizmor's verdict for one concrete reference: nil (pinned), or
-- {what, profile}.
local function verdict(img)
  if not img or img.digest then return nil end
  if img.tag == "latest" then
    return {what = "uses the floating 'latest' tag", profile = nil, pin = "latest"}
  end
  if img.tag and img.tag ~= "" then
    return {what = ("is pinned to the tag '%s', not a sha256 digest"):format(img.tag),
            profile = "pedantic", pin = "tag"}
  end
  return {what = "has no tag, so it means 'latest'", profile = nil, pin = "none"}
end

local function strip(n)
  while n and n.type == "group" do n = n.left end
  return n
end

local function ctx_path(n)
  n = strip(n)
  if not n then return nil end
  if n.type == "context" then return n.name:lower() end
  if n.type == "property" then
    local l = ctx_path(n.left)
    return l and (l .. "." .. n.name:lower()) or nil
  end
  if n.type == "index" and n.right and n.right.type == "literal" and type(n.right.value) == "string" then
    local l = ctx_path(n.left)
    return l and (l .. "." .. n.right.value:lower()) or nil
  end
  return nil
end

-- The expressions whose value may become the image: every operand of
-- `||`, the last operand of `&&` (the others only yield falsy values, which
-- mean "no container").
local function leaves(n, out)
  n = strip(n)
  if n and n.type == "or" and n.args then
    for _, a in ipairs(n.args) do leaves(a, out) end
  elseif n and n.type == "and" and n.args and #n.args > 0 then
    leaves(n.args[#n.args], out)
  elseif n then
    out[#out + 1] = n
  end
  return out
end

local function scalar_text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v == math.floor(v) then return string.format("%d", v) end
    return tostring(v)
  end
  if t == "boolean" then return tostring(v) end
  if t == "table" and v.text then return v.text end
  return nil
end

-- Every (path, value) a job's matrix can give: "matrix.<key>[.sub]" ->
-- list of strings; nil when the matrix itself is computed.
local function expansions(job)
  local mx = job.strategy and job.strategy.matrix
  if not mx then return {} end
  if mx.expr then return nil end
  local out = {}
  local function add(path, v)
    local t = scalar_text(v)
    if t then
      out[path] = out[path] or {}
      table.insert(out[path], t)
    elseif type(v) == "table" then
      for _, k in ipairs(mlgate.keys(v)) do
        if type(k) == "string" then add(path .. "." .. k:lower(), v[k]) end
      end
    end
  end
  -- Values that an `exclude` entry naming only that key removes entirely.
  local excluded = {}
  for _, ex in ipairs(mx.exclude or {}) do
    local ks = type(ex) == "table" and mlgate.keys(ex) or {}
    if #ks == 1 and type(ks[1]) == "string" then
      local t = scalar_text(ex[ks[1]])
      if t then excluded[ks[1]:lower() .. "\0" .. t] = true end
    end
  end
  for _, k in ipairs(mlgate.keys(mx.keys or {})) do
    local vals = mx.keys[k]
    for _, v in ipairs(vals) do
      local t = scalar_text(v)
      if not (t and excluded[k:lower() .. "\0" .. t]) then add("matrix." .. k:lower(), v) end
    end
  end
  for _, inc in ipairs(mx.include or {}) do
    if type(inc) == "table" then
      for _, k in ipairs(mlgate.keys(inc)) do
        if type(k) == "string" then add("matrix." .. k:lower(), inc[k]) end
      end
    end
  end
  return out
end

-- Candidates {img = parsed|nil, opaque = bool, via = text} of an image
-- written as `raw` in a job (job may be nil for actions).
local function candidates(raw, job)
  local inner = raw:match("^%s*%${{(.-)}}%s*$")
  if not inner or inner:find("}}", 1, true) then
    if raw:find("${{", 1, true) then return {{opaque = true, via = raw}} end
    return {{img = parse_image(raw), via = raw}}
  end
  local ast
  if mlgate.gha and mlgate.gha.parse then
    local ok, a = pcall(mlgate.gha.parse, inner)
    if ok then ast = a end
  else
    -- Without the expression engine only `${{ matrix.x }}` is resolved.
    local path = inner:match("^%s*(matrix%.[%w_%-%.]+)%s*$")
    if path then ast = {type = "_path", path = path:lower()} end
  end
  if not ast then return {{opaque = true, via = raw}} end
  local out = {}
  local exp, exp_done
  for _, leaf in ipairs(leaves(ast, {})) do
    local path = leaf.type == "_path" and leaf.path or ctx_path(leaf)
    if leaf.type == "literal" then
      if type(leaf.value) == "string" then
        local img = parse_image(leaf.value)
        if img then out[#out + 1] = {img = img, via = leaf.value} end
      else
        out[#out + 1] = {opaque = true, via = raw}
      end
    elseif path and path:match("^matrix%.") then
      if not exp_done then
        exp_done = true
        if job then exp = expansions(job) else exp = {} end
      end
      if exp == nil then
        out[#out + 1] = {opaque = true, via = raw}
      else
        for _, v in ipairs(exp[path] or {}) do
          if v:find("${{", 1, true) then
            out[#out + 1] = {opaque = true, via = v}
          else
            local img = parse_image(v)
            if img then out[#out + 1] = {img = img, via = v, matrix = path} end
          end
        end
      end
    else
      out[#out + 1] = {opaque = true, via = raw}
    end
  end
  return out
end

return mlgate.policy {
  id = "pipeline/unpinned-images",
  title = "Container images must be pinned by digest",
  description = [[
Checks the images a workflow or action runs: `container:`, `services:`,
`uses: docker://...` steps and `runs.image` of Docker actions. An image
without a tag or on `:latest` is whatever the registry serves at run time;
a version tag can also be re-pushed. Only `@sha256:<digest>` names fixed
content. For ML pipelines the job container usually holds the framework and
CUDA stack (pytorch/pytorch, nvcr.io/nvidia/*) and sees the training-data
and registry credentials: a swapped image owns the run.

As in zizmor's unpinned-images audit, untagged and `:latest` images are
reported in the default profile and other tags only in the pedantic one;
`${{ matrix.image }}` is expanded through the job's matrix, string
literals in `${{ a || 'img' }}` are checked, and references that cannot be
resolved offline (inputs, vars, computed matrices) are reported with low
confidence.

ML and GPU base images (pytorch/*, nvcr.io/nvidia/*, nvidia/*,
tensorflow/*, huggingface/*, ghcr.io/huggingface/*, rocm/*, vllm/*,
*cuda*, and the patterns in param `ml_images`, where `*` matches any
characters) are also catalog ML-UNPINNED-TRAIN-IMAGE: the one finding
carries both ids, and a version tag is reported in the default profile
with medium severity (it holds the CUDA stack and sees the training
credentials). GitLab CI and Jenkins images are checked too.]],
  remediation = [[
Pin the digest (keep the tag for readers; Dependabot and Renovate update
both):

    container:
      image: pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime@sha256:<digest>

`docker buildx imagetools inspect IMAGE:TAG` prints the digest.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0010.004", "AML.M0013"},
  aliases = {"catalog:PIN-IMAGE", "zizmor:unpinned-images"},
  references = {
    "https://docs.zizmor.sh/audits/#unpinned-images",
    "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainerimage",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),
  params = {ml_images = {}},

  check = function(file, ctx)
    local ml_extra = ctx.params.ml_images
    if type(ml_extra) ~= "table" then
      return ctx:error("param 'ml_images' must be a list of image patterns")
    end
    for _, x in ipairs(ml_extra) do
      if type(x) ~= "string" then return ctx:error("param 'ml_images': patterns are strings") end
    end
    local m = P.load(file.path)
    if not m then return end
    local github = m.kind == "workflow" or m.kind == "action"
    if not github and m.kind ~= "gitlab-ci" and m.kind ~= "jenkinsfile" then return end
    local seen = {}

    local function report(image, where, job, extra)
      if not image or not image.raw then return end
      local cands
      if not github and image.raw:find("$", 1, true) then
        local img = parse_image(image.raw)
        if not img or img.tag ~= "latest" then return end
        cands = {{img = img, via = image.raw}}
      else
        cands = candidates(image.raw, job)
      end
      for _, c in ipairs(cands) do
        local v
        if c.opaque then
          v = {what = "cannot be resolved offline and may be unpinned", pin = "expr"}
        else
          v = verdict(c.img)
        end
        local id = image.line .. ":" .. image.col .. ":" .. (c.via or "")
        if v and not seen[id] then
          seen[id] = true
          local shown = c.opaque and image.raw or c.img.raw
          local via = c.matrix and (" (from %s)"):format(c.matrix) or ""
          local ml = not c.opaque and ml_image(c.img.raw, ml_extra)
          ctx:fail{
            message = ("The %s image %s%s %s%s; pin it by digest (IMAGE@sha256:...) so the "
              .. "registry cannot change what runs."):format(where, shown, via, v.what,
              ml and " (an ML/GPU base image: it holds the training stack)" or ""),
            path = job and job.path and job.path ~= m.path and job.path or nil,
            line = image.line, column = image.col,
            confidence = c.opaque and "low" or nil,
            profile = not ml and v.profile or nil,
            severity = ml and v.pin == "tag" and "medium" or nil,
            aliases = ml and {"catalog:ML-UNPINNED-TRAIN-IMAGE"} or nil,
            key = (extra or where) .. ":" .. (c.opaque and image.raw or c.img.raw),
            details = {image = shown, pin = v.pin, job = job and job.id or nil,
                       matrix = c.matrix, expression = c.opaque and image.raw or nil},
          }
        end
      end
    end

    if m.kind == "action" then
      local img = m.runs and m.runs.image
      if type(img) == "table" and img.raw and not img.text then
        report(img, "action", nil, "runs.image")
      end
      for _, step in ipairs(m.steps or {}) do
        if step.uses and step.uses.kind == "docker" then
          report(step.uses.image, "step", nil, step.route)
        end
      end
      return
    end

    for _, job in ipairs(m.jobs or {}) do
      if not github and not mlgate.mlcmd.own(m, job) then goto next_job end
      if job.container then report(job.container, "job container", job, job.route .. ".container") end
      for _, svc in ipairs(job.services or {}) do
        report(svc.image, ("service '%s'"):format(svc.name), job, job.route .. ".services." .. svc.name)
      end
      for _, step in ipairs(job.steps or {}) do
        if step.uses and step.uses.kind == "docker" then
          report(step.uses.image, "step", job, step.route)
        end
      end
      ::next_job::
    end
  end,
}
