-- mlgate.pipeline: helpers over the typed CI model that
-- mlgate.pipeline.load(path) returns (shape: core/src/pipeline.h).
local mlgate, share = ...
local M = mlgate.pipeline

-- reach and secrets of a job are the same for every policy that asks:
-- computed once per evaluating process (lua_api_share.c), keyed by the
-- file and the job.
local function shared(what, model, job, compute)
  if not share or not model.path then return compute() end
  local key = what .. "\0" .. (model.kind or "") .. "\0" .. model.path .. "\0"
              .. (job and job.route or "-")
  local v = share.get(key)
  if v == nil then v = share.put(key, compute()) end
  return v
end

-- mlgate.pipeline.load(path [, kind]): the C loader, except that a GitLab
-- file that the project's root .gitlab-ci.yml includes (ci/train.gitlab-ci.yml)
-- is not judged a second time on its own: its jobs are judged, with their
-- own path, through the root's model. Such a file loads as nil (no CI
-- definition of its own), as any YAML file that is none.
local c_load = M.load
local ROOTS = {".gitlab-ci.yml", ".gitlab-ci.yaml"}

local function included_by_root(path)
  for _, root in ipairs(ROOTS) do
    if root ~= path and mlgate.fs.exists(root) then
      local m = c_load(root)
      for _, inc in ipairs(m and m.includes or {}) do
        if inc.file == path then return true end
      end
    end
  end
  return false
end

function M.load(path, kind)
  -- Before loading: judged alone, an included file may not even be valid
  -- (its stages are declared by the root).
  if (kind or M.kind(path)) == "gitlab-ci" and included_by_root(path) then return nil end
  return c_load(path, kind)
end

-- The file globs of each kind of CI definition, for a policy's `files`:
--   files = P.files("github", "action", "gitlab", "jenkins" [, {more globs}])
-- "github": workflows; "action": action.yml; "gitlab": .gitlab-ci.yml and
-- *.gitlab-ci.yml; "jenkins": Jenkinsfile, Jenkinsfile.*, *.Jenkinsfile.
M.GLOBS = {
  github = {".github/workflows/*.{yml,yaml}"},
  action = {"**/action.{yml,yaml}"},
  gitlab = {".gitlab-ci.yml", "**/*.gitlab-ci.{yml,yaml}"},
  jenkins = {"**/Jenkinsfile", "**/Jenkinsfile.*", "**/*.{Jenkinsfile,jenkinsfile}"},
}

function M.files(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    local list = type(v) == "table" and v or M.GLOBS[v]
    if not list then error(("mlgate.pipeline.files: no globs named '%s'"):format(tostring(v)), 2) end
    for _, g in ipairs(list) do out[#out + 1] = g end
  end
  return out
end

-- File line and column of byte `off` (0-based) of a val object's text.
-- Multi-line values carry `map`: {text_off, line, col, ...} ascending, the
-- file position at each point where the text continues on a new line.
function M.where(val, off)
  off = off or 0
  local map = val.map
  if not map or #map == 0 then
    return val.line, val.col + off
  end
  -- Binary search for the last entry at or before off.
  local lo, hi = 1, #map // 3
  local best = 0
  while lo <= hi do
    local mid = (lo + hi) // 2
    if map[mid * 3 - 2] <= off then
      best = mid
      lo = mid + 1
    else
      hi = mid - 1
    end
  end
  if best == 0 then return val.line, val.col + off end
  local base = map[best * 3 - 2]
  return map[best * 3 - 1], map[best * 3] + (off - base)
end

-- Lower-case base name of the program that runs a step's script: "bash",
-- "sh", "pwsh", "powershell", "cmd", "python", "bat", ... GitHub steps give
-- `shell` as a val (else job, then workflow `defaults.shell`; default
-- bash), GitLab and Jenkins steps as a plain string (default sh). The
-- first word counts ("bash -e {0}" -> "bash"), without directories or
-- ".exe" ("C:\\...\\pwsh.exe" -> "pwsh"). A shell written as a ${{ }}
-- expression is not known before the run: the platform default.
function M.shell(step, job, model)
  local default = "bash"
  if model and (model.platform == "gitlab" or model.platform == "jenkins") then
    default = "sh"
  end
  local v = step and step.shell
  if v == nil and type(job) == "table" and type(job.defaults) == "table" then
    v = job.defaults.shell
  end
  if v == nil and model and type(model.defaults) == "table" then v = model.defaults.shell end
  if type(v) == "table" then v = v.text end
  if type(v) ~= "string" or v:find("${{", 1, true) then return default end
  -- The program: a quoted path, a Windows path up to ".exe" (it may hold
  -- spaces: C:\Program Files\...), else the first word.
  local first = v:match('^%s*"([^"]+)"')
  if not first then
    first = v:match("^%s*(.-%.[eE][xX][eE])%f[%s%z]")
    if not (first and first:find("[/\\]")) then first = v:match("^%s*(%S+)") end
  end
  if not first then return default end
  first = first:match("([^/\\]+)$") or first
  first = first:lower():gsub("%.exe$", "")
  if first == "" then return default end
  return first
end

-- Every step of a workflow (with its job) or of an action, in file order.
function M.steps(model)
  local jobs = model.jobs
  if not jobs then
    local steps = model.steps or (model.runs and model.runs.steps) or {}
    local i = 0
    return function()
      i = i + 1
      local s = steps[i]
      if s then return s, nil end
    end
  end
  local j, i = 1, 0
  return function()
    while true do
      local job = jobs[j]
      if not job then return nil end
      local steps = job.steps
      i = i + 1
      local s = steps and steps[i]
      if s then return s, job end
      j, i = j + 1, 0
    end
  end
end

-- Every `uses` object: reusable-workflow calls (job level) and steps.
function M.uses(model)
  local list = {}
  for _, job in ipairs(model.jobs or {}) do
    if job.uses then list[#list + 1] = {job.uses, nil, job} end
    for _, step in ipairs(job.steps or {}) do
      if step.uses then list[#list + 1] = {step.uses, step, job} end
    end
  end
  if not model.jobs then
    for step in M.steps(model) do
      if step.uses then list[#list + 1] = {step.uses, step, nil} end
    end
  end
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if e then return e[1], e[2], e[3] end
  end
end

-- The set of trigger names of a workflow ({} for other kinds).
function M.triggers(model)
  local on = model.on
  local set = {}
  if on and on.names then
    for name in pairs(on.names) do set[name] = true end
  end
  return set
end

-- ---------------------------------------------------------------------
-- Reach: which pipelines can run a job.
--
-- P.reach(model, job) -> {merge_request, fork, branch, default_branch, tag,
--   schedule, manual, api, trigger, fork_secrets = bool, events = set?}
--
-- GitLab and Jenkins models carry job.reach (pipeline.h); it is returned
-- as a copy (all true when the job has none: unknown), with fork_secrets =
-- fork. For GitHub workflows it is computed from the triggers (on:) and
-- the job's `if:`:
--   pull_request, pull_request_review, pull_request_review_comment
--                        merge_request, fork (a fork's pull request runs
--                        them, but without the repository's secrets:
--                        fork_secrets stays false)
--   pull_request_target, issue_comment, workflow_run
--                        merge_request, fork, fork_secrets (they run in the
--                        base repository with its secrets for events an
--                        outsider causes)
--   merge_group          merge_request (queued pull requests were approved)
--   push                 branch (some branch matches branches /
--                        branches-ignore, or neither is given and tags is
--                        not the only filter), default_branch (main or
--                        master matches: the real default branch is not
--                        known offline), tag (tags / tags-ignore, or no
--                        ref filter at all)
--   release              tag;  create: branch, tag
--   schedule             schedule, default_branch
--   workflow_dispatch    manual;  repository_dispatch: api
--   workflow_call        trigger (what the callers' triggers are is not
--                        followed)
--   anything else        api (issues, discussion, label, status, ...)
-- An action (no jobs) or a model without `on` reaches everything.
-- The job's `if:` removes a scenario only when it is plainly false for
-- it: each trigger is tried as a few concrete scenarios (github.event_name,
-- github.ref/ref_name/ref_type/head_ref/base_ref, and for pull requests
-- github.event.pull_request.head.repo.fork/full_name against
-- github.repository, from a fork or not), the condition is evaluated in
-- three-valued logic (anything else is unknown; ==/!= and startsWith,
-- endsWith, contains on known strings; success()/always() true, other
-- status functions unknown), and a scenario is dropped only when the
-- result is surely false. `events` is the set of trigger names left.
-- ---------------------------------------------------------------------

local REACH_KEYS = {"merge_request", "fork", "branch", "default_branch", "tag",
                    "schedule", "manual", "api", "trigger"}
local UNKNOWN = setmetatable({}, {__tostring = function() return "unknown" end})

local function glob_re(g)
  -- GitHub filter globs: ** any, * no '/', ? one char, + and ? modifiers
  -- approximated; used only to test "main", "master" and "feature-x".
  local out = {"^"}
  local i = 1
  while i <= #g do
    local c = g:sub(i, i)
    if c == "*" and g:sub(i + 1, i + 1) == "*" then
      out[#out + 1] = ".*"; i = i + 2
    elseif c == "*" then
      out[#out + 1] = "[^/]*"; i = i + 1
    elseif c == "?" then
      out[#out + 1] = "."; i = i + 1
    else
      out[#out + 1] = c:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"); i = i + 1
    end
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

local function filter_admits(list, ignore, name)
  if list then
    local ok = false
    for _, g in ipairs(list) do
      local neg = g:sub(1, 1) == "!"
      local pat = glob_re(neg and g:sub(2) or g)
      if name:match(pat) then ok = not neg end
    end
    return ok
  end
  if ignore then
    for _, g in ipairs(ignore) do
      if name:match(glob_re(g)) then return false end
    end
  end
  return true
end

-- Three-valued evaluation of a GitHub expression AST against known
-- context values (ctx: path -> value); anything else is UNKNOWN.
local function path_of(n)
  if not n then return nil end
  if n.type == "group" then return path_of(n.left) end
  if n.type == "context" then return n.name:lower() end
  if n.type == "property" then
    local l = path_of(n.left)
    return l and (l .. "." .. n.name:lower()) or nil
  end
  if n.type == "index" and n.right and n.right.type == "literal"
     and type(n.right.value) == "string" then
    local l = path_of(n.left)
    return l and (l .. "." .. n.right.value:lower()) or nil
  end
  return nil
end

local function truthy3(v)
  if v == UNKNOWN then return UNKNOWN end
  if v == nil or v == false or v == "" or v == 0 or v == mlgate.null then return false end
  return true
end

local function eval3(n, ctx)
  if not n then return UNKNOWN end
  local t = n.type
  if t == "group" then return eval3(n.left, ctx) end
  if t == "literal" then return n.value end
  if t == "context" or t == "property" or t == "index" then
    local p = path_of(n)
    if p and ctx[p] ~= nil then return ctx[p] end
    return UNKNOWN
  end
  if t == "not" then
    local v = truthy3(eval3(n.left, ctx))
    if v == UNKNOWN then return UNKNOWN end
    return not v
  end
  if t == "and" or t == "or" then
    local unknown = false
    for _, a in ipairs(n.args or {}) do
      local v = truthy3(eval3(a, ctx))
      if v == UNKNOWN then unknown = true
      elseif t == "and" and v == false then return false
      elseif t == "or" and v == true then return true end
    end
    if unknown then return UNKNOWN end
    return t == "and"
  end
  if t == "compare" then
    local l, r = eval3(n.left, ctx), eval3(n.right, ctx)
    if l == UNKNOWN or r == UNKNOWN then return UNKNOWN end
    if n.name == "==" or n.name == "!=" then
      local eq
      if type(l) == "string" and type(r) == "string" then eq = l:lower() == r:lower()
      else eq = l == r end
      if n.name == "==" then return eq end
      return not eq
    end
    return UNKNOWN
  end
  if t == "call" then
    local name = (n.name or ""):lower()
    if name == "success" or name == "always" then return true end
    if name == "startswith" or name == "endswith" or name == "contains" then
      local a, b = eval3(n.args and n.args[1], ctx), eval3(n.args and n.args[2], ctx)
      if type(a) ~= "string" or type(b) ~= "string" then return UNKNOWN end
      a, b = a:lower(), b:lower()
      if name == "startswith" then return a:sub(1, #b) == b end
      if name == "endswith" then return b == "" or a:sub(-#b) == b end
      return a:find(b, 1, true) ~= nil
    end
    return UNKNOWN
  end
  return UNKNOWN
end

local PR_FORK = {pull_request = true, pull_request_review = true,
                 pull_request_review_comment = true}
local PR_PRIV = {pull_request_target = true, issue_comment = true, workflow_run = true}

-- Concrete scenarios a trigger stands for: {ctx = {...}, flags = {...}}.
local function scenarios(ev)
  local name = ev.name
  local out = {}
  local function add(ref, flags, extra)
    local ctx = {["github.event_name"] = name}
    if ref then
      ctx["github.ref"] = ref
      ctx["github.ref_type"] = ref:match("^refs/tags/") and "tag" or "branch"
      ctx["github.ref_name"] = ref:match("^refs/[^/]+/(.*)$") or ref
    end
    for k, v in pairs(extra or {}) do ctx[k] = v end
    out[#out + 1] = {ctx = ctx, flags = flags}
  end
  if name == "push" then
    local any_ref = ev.branches or ev.branches_ignore or ev.tags or ev.tags_ignore
    local branches = not any_ref or ev.branches or ev.branches_ignore
    local tags = not any_ref or ev.tags or ev.tags_ignore
    if branches then
      for _, b in ipairs({"main", "master"}) do
        if filter_admits(ev.branches, ev.branches_ignore, b) then
          add("refs/heads/" .. b, {branch = true, default_branch = true})
        end
      end
      if filter_admits(ev.branches, ev.branches_ignore, "feature-x") or
         (ev.branches and #ev.branches > 0 and not (function()
           for _, g in ipairs(ev.branches) do
             if g ~= "main" and g ~= "master" and g:sub(1, 1) ~= "!" then return false end
           end
           return true end)()) then
        add("refs/heads/feature-x", {branch = true})
      end
    end
    if tags then
      add("refs/tags/v1.0.0", {tag = true})
    end
  elseif PR_FORK[name] or PR_PRIV[name] then
    local base = name == "pull_request_target" or name == "issue_comment" or name == "workflow_run"
    local ref = base and "refs/heads/main" or "refs/pull/1/merge"
    local pr = name ~= "issue_comment" and name ~= "workflow_run"
    local function extra(fork)
      if not pr then return {} end
      return {["github.head_ref"] = "feature-x", ["github.base_ref"] = "main",
              ["github.repository"] = "owner/repo",
              ["github.event.pull_request.head.repo.fork"] = fork,
              ["github.event.pull_request.head.repo.full_name"] = fork and "outsider/repo" or "owner/repo"}
    end
    add(ref, {merge_request = true}, extra(false))
    add(ref, {merge_request = true, fork = true, fork_secrets = PR_PRIV[name] or nil}, extra(true))
  elseif name == "merge_group" then
    add("refs/heads/gh-readonly-queue/main/pr-1", {merge_request = true})
  elseif name == "release" then
    add("refs/tags/v1.0.0", {tag = true})
  elseif name == "create" or name == "delete" then
    add("refs/heads/feature-x", {branch = true})
    add("refs/tags/v1.0.0", {tag = true})
  elseif name == "schedule" then
    add("refs/heads/main", {schedule = true, default_branch = true})
  elseif name == "workflow_dispatch" then
    add(nil, {manual = true})
  elseif name == "workflow_call" then
    add(nil, {trigger = true})
  else
    add(nil, {api = true})
  end
  return out
end

local function all_reach(v)
  local r = {}
  for _, k in ipairs(REACH_KEYS) do r[k] = v end
  return r
end

local reach_of

function M.reach(model, job)
  return shared("pipeline.reach", model, job, function() return reach_of(model, job) end)
end

reach_of = function(model, job)
  if model.platform and model.platform ~= "github" then
    local src = job and job.reach
    local r
    if src then
      r = {}
      for _, k in ipairs(REACH_KEYS) do r[k] = src[k] and true or false end
    else
      r = all_reach(true)
    end
    r.fork_secrets = r.fork
    return r
  end
  local on = model.on
  if not on or not on.events then
    local r = all_reach(true)
    r.fork_secrets = true
    return r
  end
  local r = all_reach(false)
  r.fork_secrets = false
  r.events = {}
  local ast
  local cond = job and job.cond and job.cond.text
  if cond then
    local inner = cond:match("^%s*%${{(.*)}}%s*$")
    if inner and not inner:find("}}", 1, true) then cond = inner end
    if not cond:find("${{", 1, true) and mlgate.gha and mlgate.gha.parse then
      local ok, a = pcall(mlgate.gha.parse, cond)
      if ok and type(a) == "table" then ast = a end
    end
  end
  for _, ev in ipairs(on.events) do
    for _, sc in ipairs(scenarios(ev)) do
      if not ast or truthy3(eval3(ast, sc.ctx)) ~= false then
        r.events[ev.name] = true
        for k in pairs(sc.flags) do r[k] = true end
      end
    end
  end
  return r
end

-- ---------------------------------------------------------------------
-- Secrets a job brings in scope.
--
-- P.secrets(model, job) -> list of {name, line, col, via} in file order,
-- one entry per name (its first appearance):
--   GitHub: ${{ secrets.X }} / secrets['X'] in the job's env, with, run,
--     secrets and other fields (not in `if:`), in its steps, and in the
--     workflow-level env (via = the field: "env", "with", "run", ...);
--     toJSON(secrets) / secrets[expr] gives name "*" (via "all");
--     `secrets: inherit` gives name "*" (via "inherit").
--   GitLab: job.env (variables) entries whose name looks like a secret
--     (TOKEN, SECRET, PASSWORD, PASSWD, API_KEY, ACCESS_KEY, PRIVATE_KEY,
--     CREDENTIAL; via "variables"), and $NAME / ${NAME} of a well-known
--     secret variable (P.SECRET_VARS) in a step script (via "script",
--     position of the reference).
--   Jenkins: job.credentials entries (withCredentials bindings,
--     credentials() in environment{}; name = the bound variable, else the
--     credentials id; via "credentials"), job.env entries with
--     credential = true (via "credentials"), and script references as for
--     GitLab.
-- `extra` (optional) is a set or list of more variable names to find in
-- scripts.
-- ---------------------------------------------------------------------

M.SECRET_VARS = {
  "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_TOKEN", "HF_API_TOKEN", "HF_WRITE_TOKEN",
  "WANDB_API_KEY", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD",
  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY",
  "AZURE_STORAGE_CONNECTION_STRING", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_SA_KEY",
  "DATABRICKS_TOKEN", "COMET_API_KEY", "NEPTUNE_API_TOKEN", "REPLICATE_API_TOKEN",
  "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "KAGGLE_KEY", "CLEARML_API_SECRET_KEY",
  "DVC_REMOTE_PASSWORD", "SAGEMAKER_ROLE_ARN", "GITHUB_TOKEN", "GH_TOKEN",
}

local SECRETISH = {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY",
                   "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH_KEY"}

function M.secretish(name)
  local u = (name or ""):upper()
  for _, s in ipairs(SECRETISH) do
    if u:find(s, 1, true) then return true end
  end
  return false
end

local function secret_names(text)
  local out = {}
  for name in text:gmatch("secrets%s*%.%s*([%w_%-]+)") do out[#out + 1] = name end
  for _, name in text:gmatch("secrets%s*%[%s*(['\"])([%w_%-]+)%1%s*%]") do out[#out + 1] = name end
  local rest = text:gsub("secrets%s*%.%s*[%w_%-]+", ""):gsub("secrets%s*%[%s*(['\"])[%w_%-]+%1%s*%]", "")
  if rest:match("%f[%w_.]secrets%f[^%w_]") then out[#out + 1] = "*" end
  return out
end

local secrets_of

function M.secrets(model, job, extra)
  if extra ~= nil and next(extra) ~= nil then return secrets_of(model, job, extra) end
  return shared("pipeline.secrets", model, job, function() return secrets_of(model, job) end)
end

secrets_of = function(model, job, extra)
  local found, list = {}, {}
  local function add(name, line, col, via)
    if not name or name == "" then return end
    local k = name:upper()
    local prev = found[k]
    if prev then
      if line < prev.line or (line == prev.line and col < prev.col) then
        prev.line, prev.col, prev.via = line, col, via
      end
      return
    end
    local e = {name = name, line = line, col = col, via = via}
    found[k] = e
    list[#list + 1] = e
  end
  local platform = model.platform or "github"
  if platform == "github" then
    local jid = job and job.id
    for _, x in ipairs(model.exprs or {}) do
      local mine = (jid and x.job == jid) or (not x.job and x.field == "env"
                    and (x.route or ""):match("^env%.")) or (not jid and model.kind == "action")
      if mine and x.field ~= "if" and x.text and x.text:find("secrets", 1, true) then
        for _, n in ipairs(secret_names(x.text)) do
          add(n, x.line, x.col, n == "*" and "all" or x.field)
        end
      end
    end
    if job and job.secrets and job.secrets.inherit then
      add("*", job.secrets.line, job.secrets.col, "inherit")
    end
  else
    for _, kv in ipairs(job and job.env or {}) do
      if kv.credential then
        add(kv.name, kv.line, kv.col, "credentials")
      elseif M.secretish(kv.name) then
        add(kv.name, kv.line, kv.col, "variables")
      end
    end
    for _, c in ipairs(job and job.credentials or {}) do
      local name = c.variable or (c.variables and c.variables[1])
      if type(name) == "table" then name = name.text end
      if not name then
        name = type(c.id) == "table" and c.id.text or c.id or c.name
        if type(name) == "table" then name = name.text end
      end
      if c.line then add(name, c.line, c.col or 1, "credentials") end
    end
    local want = {}
    for _, n in ipairs(M.SECRET_VARS) do want[n] = true end
    if type(extra) == "table" then
      for k, v in pairs(extra) do
        if type(k) == "string" then want[k] = true end
        if type(v) == "string" then want[v] = true end
      end
    end
    for _, step in ipairs(job and job.steps or {}) do
      local run = step.run
      local text = run and run.text
      if text and text:find("$", 1, true) then
        local pos = 1
        while true do
          local s, e, name = text:find("%${?([%a_][%w_]*)", pos)
          if not s then break end
          if want[name] or want[name:upper()] then
            local line, col = M.where(run, s - 1)
            add(name, line, col, "script")
          end
          pos = e + 1
        end
      end
    end
  end
  table.sort(list, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    return a.col < b.col
  end)
  return list
end

return M
