-- pipeline/self-hosted-runner: jobs on self-hosted runners (zizmor's
-- self-hosted-runner, auditor profile), raised to high and shown in the
-- default profile when the workflow runs for pull requests (poutine's
-- pr_runs_on_self_hosted): untrusted code then reaches a persistent host.
-- When such a runner is also a GPU runner (mlgate.mlcmd.gpu_label on its
-- labels, group or matrix values), the one finding also carries
-- catalog:ML-GPU-SELFHOSTED-PR (pipeline/ml-gpu-pr-runner covers the other
-- GPU runners and GitLab/Jenkins).

local P = mlgate.pipeline

local PR_EVENTS = {pull_request = true, pull_request_target = true,
                   pull_request_review = true, pull_request_review_comment = true}

local function fenced(text)
  local inner = text:match("^%s*%${{(.-)}}%s*$")
  if inner and not inner:find("}}", 1, true) then return inner end
  return nil
end

local function scalar_text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t == "table" and v.text then return v.text end
  if t == "table" then
    local parts = {}
    for _, x in ipairs(v) do
      local s = scalar_text(x)
      if s then parts[#parts + 1] = s end
    end
    return table.concat(parts, ",")
  end
  return nil
end

-- Values the matrix gives `path` ("matrix.os"): dimension values (minus
-- fully excluded ones) and include entries.
local function matrix_values(job, path)
  local mx = job.strategy and job.strategy.matrix
  if not mx or mx.expr then return {} end
  local key = path:match("^matrix%.(.+)$")
  if not key then return {} end
  local out, excluded = {}, {}
  for _, ex in ipairs(mx.exclude or {}) do
    local ks = type(ex) == "table" and mlgate.keys(ex) or {}
    if #ks == 1 and type(ks[1]) == "string" and ks[1]:lower() == key then
      excluded[scalar_text(ex[ks[1]]) or ""] = true
    end
  end
  for _, k in ipairs(mlgate.keys(mx.keys or {})) do
    if k:lower() == key then
      for _, v in ipairs(mx.keys[k]) do
        local t = scalar_text(v)
        if t and not excluded[t] then out[#out + 1] = t end
      end
    end
  end
  for _, inc in ipairs(mx.include or {}) do
    if type(inc) == "table" then
      for _, k in ipairs(mlgate.keys(inc)) do
        if type(k) == "string" and k:lower() == key then out[#out + 1] = scalar_text(inc[k]) end
      end
    end
  end
  return out
end

return mlgate.policy {
  id = "pipeline/self-hosted-runner",
  title = "Self-hosted runners, above all for pull requests",
  description = [[
Flags jobs whose `runs-on:` selects a self-hosted runner: a `self-hosted`
label, a runner group, or an expression or matrix that can expand to one.
Self-hosted runners are usually persistent machines: a job can leave
processes, modified toolchains, poisoned caches (model caches, pip caches)
or stolen credentials behind for the next job, and they often sit inside
the network next to GPU clusters, data lakes and model registries. GitHub
advises against them for public repositories.

Without pull request triggers the finding is informational (auditor
profile, medium; zizmor cannot know whether the runners are ephemeral and
neither can we). In workflows triggered by pull_request or
pull_request_target it is high and shown by default: code from a pull
request then runs on the persistent host; when the runner is a GPU runner
(labels such as gpu, cuda, a100, h100, or param `gpu_labels`), the finding
is also ML-GPU-SELFHOSTED-PR (shared model caches and drivers persist on
it). Param `allowed_labels` lists
labels of runners known to be ephemeral and isolated (for example
`ephemeral`, an ARC scale set name); jobs using one are not reported.]],
  remediation = [[
Run untrusted (pull request) jobs on GitHub-hosted runners and keep
self-hosted capacity for trusted branches:

    on:
      pull_request:
    jobs:
      test:
        runs-on: ubuntu-latest

If self-hosted runners are required, make them ephemeral (one job per
runner, e.g. actions-runner-controller scale sets) and list their label in
`allowed_labels`.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0055"},
  aliases = {"catalog:RUNNER-SELFHOSTED", "zizmor:self-hosted-runner", "poutine:pr_runs_on_self_hosted"},
  references = {
    "https://docs.zizmor.sh/audits/#self-hosted-runner",
    "https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/about-self-hosted-runners#self-hosted-runner-security",
  },
  files = {".github/workflows/*.{yml,yaml}"},
  params = {allowed_labels = {}, gpu_labels = {}},

  check = function(file, ctx)
    local allowed = {}
    if type(ctx.params.allowed_labels) ~= "table" then
      return ctx:error("param 'allowed_labels' must be a list of runner labels")
    end
    for _, l in ipairs(ctx.params.allowed_labels) do
      if type(l) ~= "string" then return ctx:error("param 'allowed_labels': labels are strings") end
      allowed[l:lower()] = true
    end
    if type(ctx.params.gpu_labels) ~= "table" then
      return ctx:error("param 'gpu_labels' must be a list of label substrings")
    end
    local gpu_extra = {}
    for _, l in ipairs(ctx.params.gpu_labels) do
      if type(l) ~= "string" then return ctx:error("param 'gpu_labels': labels are strings") end
      gpu_extra[#gpu_extra + 1] = l
    end
    local m = P.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local pr
    for name in pairs((m.on and m.on.names) or {}) do
      if PR_EVENTS[name] then pr = pr and (pr < name and pr or name) or name end
    end

    local src
    for _, job in ipairs(m.jobs or {}) do
      local ro = job.runs_on
      if job.kind == "normal" and ro then
        local labels = ro.labels or {}
        local skip = false
        for _, l in ipairs(labels) do
          if allowed[(l.text or ""):lower()] then skip = true end
        end
        if ro.group and allowed[(ro.group.text or ""):lower()] then skip = true end
        local why, conf
        if not skip then
          -- The model sets `expr` for `runs-on: ["${{ x }}"]` as well; zizmor
          -- treats that list form like other label lists (work-around: look
          -- at the character before the label in the source).
          local list_form = false
          if ro.expr and labels[1] and labels[1].offset then
            src = src or mlgate.fs.read(file.path, 4 << 20) or ""
            local i = labels[1].offset
            while i > 0 and src:sub(i, i):match("[%s\"']") do i = i - 1 end
            local c = src:sub(i, i)
            list_form = c == "[" or c == "-" or c == ","
          end
          if ro.expr and not list_form then
            local inner = labels[1] and fenced(labels[1].text or "")
            local path = inner and inner:match("^%s*(.-)%s*$"):lower()
            if path then
              for _, v in ipairs(matrix_values(job, path)) do
                if v and v:find("self-hosted", 1, true) then
                  why, conf = ("its matrix puts `%s` on a self-hosted runner"):format(path), "high"
                  break
                end
              end
            end
          elseif ro.group then
            why, conf = ("it runs in the runner group '%s', which implies self-hosted runners")
              :format(ro.group.text or ""), "low"
          else
            for i, l in ipairs(labels) do
              local t = (l.text or ""):lower()
              if t == "self-hosted" then
                why, conf = "it selects the `self-hosted` label", "high"
                break
              elseif i == 1 and fenced(l.text or "") then
                why, conf = "its runner label is an expression that may select a self-hosted runner", "low"
              end
            end
          end
        end
        if why then
          local on_pr = pr ~= nil
          local gpu
          if on_pr then
            local cands = {}
            for _, l in ipairs(labels) do cands[#cands + 1] = l.text end
            if ro.group then cands[#cands + 1] = ro.group.text end
            local inner = labels[1] and fenced(labels[1].text or "")
            local path = inner and inner:match("^%s*(.-)%s*$"):lower()
            if path then
              for _, v in ipairs(matrix_values(job, path)) do cands[#cands + 1] = v end
            end
            for _, t in ipairs(cands) do
              if not gpu and t and mlgate.mlcmd.gpu_label(t, gpu_extra) then gpu = t end
            end
          end
          ctx:fail{
            message = on_pr
              and ("Job '%s' runs on a self-hosted %srunner (%s) in a workflow triggered by %s, so "
                .. "pull request code reaches a persistent host%s; use GitHub-hosted or ephemeral "
                .. "runners for pull requests."):format(job.id, gpu and "GPU " or "", why, pr,
                gpu and " and its model caches" or "")
              or ("Job '%s' runs on a self-hosted runner (%s); make sure the runner is ephemeral "
                .. "and isolated, or use a GitHub-hosted runner."):format(job.id, why),
            line = ro.line, column = ro.col,
            severity = on_pr and "high" or nil,
            confidence = conf,
            -- auditor-only unless pull requests reach the runner
            profile = not on_pr and "auditor" or nil,
            aliases = gpu and {"catalog:ML-GPU-SELFHOSTED-PR"} or nil,
            key = job.route .. ":runs-on",
            details = {job = job.id, pull_request_trigger = pr,
                       labels = (function()
                         local t = {}
                         for _, l in ipairs(labels) do t[#t + 1] = l.text end
                         return t
                       end)(), group = ro.group and ro.group.text or nil},
          }
        end
      end
    end
  end,
}
