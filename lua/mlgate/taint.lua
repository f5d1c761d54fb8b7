-- mlgate.taint: how much of a GitHub Actions context value an outsider
-- controls. Pipeline policies ask it whether a `${{ ... }}` that lands in a
-- script, an environment file or a checkout ref carries attacker text.
--
-- Classes (taint.RANK orders them):
--   "arbitrary"   free text an outsider writes: issue/PR titles and bodies,
--                 comments, commit messages, branch names, fork repository
--                 names, string inputs of composite actions, and of reusable
--                 workflows when a caller passes such text.
--   "structured"  an outsider chooses the value within a format that rules
--                 out shell metacharacters in practice, or only maintainers
--                 choose it among existing names: GitHub-generated URLs,
--                 e-mail addresses, github.ref / ref_name / base_ref.
--   "fixed"       nobody outside chooses the text: numbers, ids, SHAs,
--                 timestamps, booleans, enums, logins, secrets, variables,
--                 runner facts, static env and matrix values.
--   nil           unknown: an undeclared input, the output of an action this
--                 module knows nothing about, a context it does not model.
--
-- Following (with a model): `env.X` goes to the nearest env: that defines
-- X (step, then job, then workflow; a whole-expression env: is unknown; a
-- name defined nowhere is static unless an earlier step of the job writes
-- it to $GITHUB_ENV); `matrix.X` to the dimension's values and include
-- rows; `inputs.X` to its declaration (see taint.inputs) and, for
-- workflow_call, to what local callers in the workspace pass in `with:`;
-- `steps.S.outputs.O` (best effort) to the `O=...` a `run:` step S
-- appends to $GITHUB_OUTPUT (echo/printf, heredoc form, ::set-output), the
-- value's ${{ }}, env: variables and earlier shell assignments followed
-- (a command substitution with no known input makes it unknown), or to
-- taint.ACTION_OUTPUTS for well-known actions; `needs.J.outputs.O` to job
-- J's outputs: value. Recursion is bounded (depth 6, cycles cut).
--
-- The split follows zizmor's template-injection capability table
-- (crates/zizmor/data/context-capabilities.csv, generated from GitHub's
-- webhook schemas: free strings "arbitrary", integers/booleans/enums/dates
-- "fixed") and its heuristics for inputs, env and matrix, written here as
-- rules over the path rather than a copied table. Deliberate differences
-- (each commented below): logins are "fixed" (GitHub restricts them to
-- [A-Za-z0-9-] and "[bot]"), generated URLs and node ids are "structured"
-- / "fixed" where zizmor says "arbitrary", github.ref/ref_name/base_ref are
-- "structured" where zizmor says nothing (and flags them high), SHAs are
-- "fixed" everywhere.
--
-- API
--   taint.classify(path [, model [, job [, step]]]) -> class|nil, kind, via
--     path: a context path as mlgate.gha.refs spells it (lower-cased, "*"
--     for filters and numeric indexes, "?" for computed indexes).
--     model/job/step (pipeline model objects, optional): where the
--     expression sits, so that `inputs.*`, `env.*`, `matrix.*`,
--     `steps.*.outputs.*`, `needs.*.outputs.*` are followed to what they
--     carry. kind says on what the answer rests (see KINDS below); via is a
--     short human-readable trail ("env.TITLE <- github.event.issue.title").
--   taint.expression(text_or_ast [, model [, job [, step]]]) -> list
--     The contexts whose value flows into the expression's result (zizmor's
--     "dataflow contexts": `a || b` both, `a && b` only b, format/join/toJSON
--     arguments, not comparisons or other function results), each
--     {path=, class=, kind=, via=, offset=, len=}; path is nil (kind
--     "computed") for a chain that starts at a call or a parenthesised
--     expression, such as fromJSON(x).y. Contexts inside fromJSON(...) are
--     listed only when they carry attacker text (zizmor ignores them; the
--     parsed value of a JSON string is that string). Returns nil, err when the text
--     does not parse with the standard context names. The list may be
--     shared with later calls (a cache): do not modify it.
--   taint.text(text [, model [, job [, step]]]) -> worst class|nil, list
--     Every `${{ }}` in a string value: the worst class and the items.
--   taint.worse(a, b) -> the more attacker-controlled class (nil < fixed).
--   taint.inputs(model, name) -> class|nil, kind   declared input type
--     (kind "input" for action inputs and typed inputs, "input-call" for
--     string inputs of workflow_call, "input-dispatch" for string inputs
--     only workflow_dispatch declares)
--   taint.callers(model) -> {{model=, job=, path=}}  local callers of a
--     reusable workflow in the workspace (their `with:` feeds inputs.*)
--   taint.env_value(model, job, step, name) -> kv entry|nil, scope, dynamic
--   taint.env_expr(model, holder) -> expr|nil   `env:` that is one expression
--   taint.shell_vars(script, model, job, step) -> {NAME = {class=, via=}}
--     variables a parsed run: script (mlgate.shell.parse) assigns
--   taint.word(text, model, job, step [, vars]) -> class|nil, via
--     a shell word: ${{ }}, $VARs (script variables, env:, runner
--     variables) and $(...) followed; "fixed" for literal text
--   taint.step_by_id(model, job, id) -> step|nil
--   taint.job_by_id(model, id) -> job|nil
--
-- KINDS: "context" (table), "input" (action input or typed input),
--   "input-call" (string input of a reusable workflow; class from what its
--   local callers pass, nil without any), "input-dispatch" (string input of
--   workflow_dispatch only: chosen by someone with write access, so "fixed"
--   as far as outsiders go),
--   "input-undeclared", "env" (followed env value), "env-static",
--   "env-dynamic" (an `env:` that is one expression), "env-unknown",
--   "matrix" (value with expressions), "matrix-static", "matrix-dynamic",
--   "step-output", "job-output", "output-unknown", "status" (needs.*.result,
--   steps.*.outcome/conclusion), "secret", "unknown".
--
-- Data: the tables taint.GITHUB, taint.EVENT_PATHS, taint.EVENT_LEAVES,
-- taint.EVENT_SUFFIXES, taint.CONTEXTS, taint.RUNNER_ENV and
-- taint.ACTION_OUTPUTS below are plain Lua tables so that policies and
-- tests can read them.
local mlgate = ...
local taint = {}

local A, S, F = "arbitrary", "structured", "fixed"
taint.RANK = {fixed = 1, structured = 2, arbitrary = 3}
local RANK = taint.RANK

--- The more attacker-controlled of two classes (nil counts below "fixed").
function taint.worse(a, b)
  if not a then return b end
  if not b then return a end
  return RANK[a] >= RANK[b] and a or b
end

---------------------------------------------------------------------------
-- Data
---------------------------------------------------------------------------

--- github.<key> outside github.event (keys lower-cased).
taint.GITHUB = {
  action = F, action_path = F, action_ref = F, action_repository = F,
  action_status = F, actor_id = F, api_url = F, env = F, event_name = F,
  event_path = F, graphql_url = F, job = F, output = F, path = F,
  ref_protected = F, ref_type = F, repository = F, repository_id = F,
  repository_owner = F, repository_owner_id = F, repositoryurl = F,
  retention_days = F, run_attempt = F, run_id = F, run_number = F,
  secret_source = F, server_url = F, sha = F, state = F, step_summary = F,
  token = F, workflow_sha = F, workspace = F,
  -- Logins: GitHub allows [A-Za-z0-9-] (apps: "<slug>[bot]"), so neither can
  -- break out of a shell word. zizmor agrees for triggering_actor only.
  actor = F, triggering_actor = F,
  -- The PR's source branch: any name git accepts, "$(...)" included.
  head_ref = A,
  -- Refs of the repository itself: pushing them needs write access (for
  -- pull_request they are refs/pull/N/merge); still git ref syntax.
  ref = S, ref_name = S, base_ref = S, workflow = S, workflow_ref = S,
}

--- Exact paths under github.event that the leaf rules would get wrong.
taint.EVENT_PATHS = {
  ["github.event"] = A,                 -- toJSON(github.event): everything
  ["github.event.commits"] = A,         -- push: the commit list (messages)
  ["github.event.action"] = A,          -- repository_dispatch: the sender's event_type
  ["github.event.ref"] = A,             -- push/create/delete: any ref name
  ["github.event.workflow_run.event"] = F,
}

--- Leaf names (last path segment) under github.event.
taint.EVENT_LEAVES = {
  -- numbers and counters
  id = F, number = F, size = F, additions = F, deletions = F, changed_files = F,
  commits = F, comments = F, review_comments = F, line = F, original_line = F,
  position = F, original_position = F, start_line = F, original_start_line = F,
  run_attempt = F, run_number = F, duration = F, forks = F, watchers = F,
  stargazers = F, open_issues = F, total = F, completed = F,
  percent_completed = F, blocked_by = F, blocking = F,
  -- object ids, digests, SHAs
  node_id = F, sha = F, head_sha = F, base_sha = F, before = F, after = F,
  merge_commit_sha = F, tree_id = F, gravatar_id = F, commit_oid = F,
  -- booleans
  draft = F, merged = F, locked = F, private = F, fork = F, site_admin = F,
  deleted = F, forced = F, created = F, distinct = F, prerelease = F,
  default = F, mergeable = F, rebaseable = F, maintainer_can_modify = F,
  archived = F, disabled = F, protected = F, verified = F, immutable = F,
  answerable = F, web_commit_signoff_required = F,
  -- enums and dates
  state = F, state_reason = F, author_association = F, type = F,
  active_lock_reason = F, mergeable_state = F, ref_type = F, pusher_type = F,
  side = F, start_side = F, subject_type = F, conclusion = F, status = F,
  visibility = F, role = F, permission = F, timestamp = F, date = F,
  due_on = F, color = F, user_view_type = F, data_type = F,
  -- logins (see taint.GITHUB.actor) and commit usernames (logins too)
  login = F, username = F,
  -- addresses: a format (local@domain), though git lets a committer write
  -- nearly anything there
  email = S,
  -- URLs GitHub generates from ids and names
  url = S, html_url = S, diff_url = S, patch_url = S,
  -- free text GitHub does not generate
  homepage = A, blog = A, external_url = A,
}

--- Leaf name patterns, tried in order after EVENT_LEAVES.
taint.EVENT_SUFFIXES = {
  {"_id$", F}, {"_count$", F}, {"_at$", F}, {"^has_", F}, {"^allow_", F},
  {"^is_", F}, {"_url$", S},
}

--- Path segments below which every value is fixed (counts, permissions).
taint.EVENT_FIXED_SUBTREES = {reactions = true, permissions = true,
  issue_dependencies_summary = true, sub_issues_summary = true}

--- Other contexts, by their first segment.
taint.CONTEXTS = {
  runner = F,      -- facts about the runner (names are set by its admins)
  strategy = F,    -- job-index, job-total, fail-fast, max-parallel
  job = F,         -- status, container/service ids and ports
  secrets = F,     -- never attacker text (leaking them is another rule)
  vars = F,        -- configuration variables: set by repository admins
}

--- Default runner environment variables, as `$NAME` in scripts or `env.NAME`.
taint.RUNNER_ENV = {
  GITHUB_HEAD_REF = A, GITHUB_REF = S, GITHUB_REF_NAME = S, GITHUB_BASE_REF = S,
  GITHUB_WORKFLOW = S, GITHUB_WORKFLOW_REF = S,
  CI = F, GITHUB_ACTION = F, GITHUB_ACTION_PATH = F, GITHUB_ACTION_REPOSITORY = F,
  GITHUB_ACTIONS = F, GITHUB_ACTOR = F, GITHUB_ACTOR_ID = F, GITHUB_API_URL = F,
  GITHUB_ENV = F, GITHUB_EVENT_NAME = F, GITHUB_EVENT_PATH = F,
  GITHUB_GRAPHQL_URL = F, GITHUB_JOB = F, GITHUB_OUTPUT = F, GITHUB_PATH = F,
  GITHUB_REF_PROTECTED = F, GITHUB_REF_TYPE = F, GITHUB_REPOSITORY = F,
  GITHUB_REPOSITORY_ID = F, GITHUB_REPOSITORY_OWNER = F,
  GITHUB_REPOSITORY_OWNER_ID = F, GITHUB_RETENTION_DAYS = F, GITHUB_RUN_ATTEMPT = F,
  GITHUB_RUN_ID = F, GITHUB_RUN_NUMBER = F, GITHUB_SERVER_URL = F, GITHUB_SHA = F,
  GITHUB_STEP_SUMMARY = F, GITHUB_TRIGGERING_ACTOR = F, GITHUB_WORKFLOW_SHA = F,
  GITHUB_WORKSPACE = F, RUNNER_ARCH = F, RUNNER_DEBUG = F, RUNNER_NAME = F,
  RUNNER_OS = F, RUNNER_TEMP = F, RUNNER_TOOL_CACHE = F, HOME = F, PATH = F,
}

--- Outputs of well-known actions ("owner/repo" lower-cased -> output name
--- or "*" -> class). Anything else a `uses:` step outputs is unknown.
taint.ACTION_OUTPUTS = {
  ["tj-actions/changed-files"] = {["*"] = A},          -- file names from the PR
  ["dorny/paths-filter"] = {changes = S, ["*"] = F},   -- filter names, "true"/"false"
  ["tj-actions/branch-names"] = {["*"] = A},
  ["xt0rted/pull-request-comment-branch"] = {head_ref = A, base_ref = S,
    head_sha = F, base_sha = F},
  ["peter-evans/find-comment"] = {["comment-body"] = A, ["comment-author"] = F,
    ["comment-id"] = F},
  ["actions/checkout"] = {ref = S, commit = F},
  ["actions/setup-python"] = {["*"] = F},
  ["actions/setup-node"] = {["*"] = F},
  ["actions/cache"] = {["cache-hit"] = F},
  ["actions/create-github-app-token"] = {["*"] = F},
  ["docker/metadata-action"] = {["*"] = S},            -- tags/labels from refs
}

---------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------

local lower = string.lower

local function split(path)
  local segs = {}
  for seg in path:gmatch("[^.]+") do
    -- numeric and computed indexes stand for any element
    if seg:match("^%d+$") or seg == "?" then seg = "*" end
    segs[#segs + 1] = seg
  end
  return segs
end

local function text_of(v)
  if type(v) == "table" then return v.text end
  if type(v) == "string" then return v end
  return nil
end

-- Finds a kv entry by name: exact first, then ignoring case.
local function kv_get(list, name)
  if type(list) ~= "table" then return nil end
  local lname
  for _, kv in ipairs(list) do
    if kv.name == name then return kv end
  end
  lname = lower(name)
  for _, kv in ipairs(list) do
    if type(kv.name) == "string" and lower(kv.name) == lname then return kv end
  end
  return nil
end

-- Per-model indexes (jobs and steps by id), one model at a time: a policy
-- checks one file after the other, so a single entry is enough and bounds
-- memory.
local index_model, index

local function model_index(model)
  if index_model == model then return index end
  local idx = {jobs = {}, steps = {}, env_expr = {}}
  for _, job in ipairs(model.jobs or {}) do
    if job.id then idx.jobs[lower(job.id)] = job end
  end
  -- `env: ${{ ... }}` (the whole mapping one expression) shows up as an
  -- expr of field "env" without a key; the model has no env_expr for it yet.
  for _, e in ipairs(model.exprs or {}) do
    if e.field == "env" and e.key == nil and type(e.route) == "string" then
      idx.env_expr[e.route] = e
    end
  end
  index_model, index = model, idx
  return idx
end

--- The expr object when holder's whole `env:` is one expression
--- (holder: the model for the workflow level, a job or a step), else nil.
function taint.env_expr(model, holder)
  if not model or not holder then return nil end
  if holder.env_expr then return holder.env_expr end
  local route = holder == model and "env" or (holder.route and holder.route .. ".env")
  return route and model_index(model).env_expr[route] or nil
end

--- The job with this id (ids compare ignoring case, as GitHub does).
function taint.job_by_id(model, id)
  if not model or not model.jobs or type(id) ~= "string" then return nil end
  return model_index(model).jobs[lower(id)]
end

--- The step with `id: <id>` in job (or in an action's steps when job is nil).
function taint.step_by_id(model, job, id)
  if not model or type(id) ~= "string" then return nil end
  local steps
  if job then steps = job.steps else steps = model.steps or (model.runs and model.runs.steps) end
  if type(steps) ~= "table" then return nil end
  local lid = lower(id)
  for _, st in ipairs(steps) do
    local sid = text_of(st.id)
    if sid and lower(sid) == lid then return st end
  end
  return nil
end

---------------------------------------------------------------------------
-- Inputs
---------------------------------------------------------------------------

local INPUT_TYPES = {string = A, boolean = F, number = F, choice = F, environment = F}

--- The class of `inputs.<name>` from its declaration: string inputs of
--- workflow_call / workflow_dispatch and every action input are "arbitrary"
--- (whoever calls or dispatches chooses them), typed ones "fixed"; both
--- events declaring the name: the worse. nil, "input-undeclared" when no
--- declaration names it.
function taint.inputs(model, name)
  if not model or type(name) ~= "string" then return nil, "input-undeclared" end
  local lname = lower(name)
  if model.kind == "action" then
    for _, inp in ipairs(model.inputs or {}) do
      if type(inp.name) == "string" and lower(inp.name) == lname then return A, "input" end
    end
    return nil, "input-undeclared"
  end
  local class, call, dispatch
  local on = model.on
  for _, ev in ipairs(on and on.events or {}) do
    if ev.name == "workflow_call" or ev.name == "workflow_dispatch" then
      for _, inp in ipairs(ev.inputs or {}) do
        if type(inp.name) == "string" and lower(inp.name) == lname then
          local t = inp.type and lower(text_of(inp.type) or "") or "string"
          local c = INPUT_TYPES[t] or A
          class = taint.worse(class, c)
          if c ~= F then
            if ev.name == "workflow_call" then call = true else dispatch = true end
          end
        end
      end
    end
  end
  if not class then return nil, "input-undeclared" end
  if class == F then return F, "input" end
  -- Free text, but from whom? workflow_dispatch: someone with write access;
  -- workflow_call: whatever the caller passes (see taint.callers).
  if call then return class, "input-call" end
  -- only someone who may dispatch the workflow (write access) chooses it:
  -- insider text, "fixed" for attacker control
  return F, "input-dispatch"
end

--- Jobs of other workflows in the workspace that call this one as a local
--- reusable workflow (`uses: ./.github/workflows/<file>`): list of
--- {model=, job=, path=}. Built once per Lua state from mlgate.fs.list.
local callers_index
function taint.callers(model)
  if not model or type(model.path) ~= "string" then return {} end
  if not callers_index then
    callers_index = {}
    local ok, list = pcall(mlgate.fs.list, {".github/workflows/*.yml", ".github/workflows/*.yaml"})
    for _, p in ipairs(ok and list or {}) do
      local okm, m = pcall(mlgate.pipeline.load, p)
      if okm and m and m.kind == "workflow" then
        for _, job in ipairs(m.jobs or {}) do
          local u = job.uses
          local raw = u and u.raw
          if type(raw) == "string" and raw:sub(1, 2) == "./" then
            local target = raw:sub(3):gsub("@.*$", "")
            local t = callers_index[target] or {}
            t[#t + 1] = {model = m, job = job, path = p}
            callers_index[target] = t
          end
        end
      end
    end
  end
  local path = model.path:gsub("^%./", "")
  return callers_index[path] or {}
end

---------------------------------------------------------------------------
-- github.*
---------------------------------------------------------------------------

local function classify_event(segs, path)
  local exact = taint.EVENT_PATHS[path]
  if exact then return exact end
  for i = 3, #segs do
    if taint.EVENT_FIXED_SUBTREES[segs[i]] then return F end
  end
  if segs[3] == "client_payload" then return A end -- repository_dispatch
  local leaf = segs[#segs]
  if leaf == "*" then return A end -- an element of a list of objects or strings
  local c = taint.EVENT_LEAVES[leaf]
  if c then return c end
  for _, rule in ipairs(taint.EVENT_SUFFIXES) do
    if leaf:find(rule[1]) then return rule[2] end
  end
  -- Any other string of a webhook payload is text some user typed (titles,
  -- bodies, names, labels, refs, paths); objects contain such strings.
  return A
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

local DATAFLOW_FNS = {tojson = true, format = true, join = true}

-- Path of a property/index/star chain rooted at a context, or nil when the
-- chain starts at a call or at a parenthesised non-chain.
local function chain_path(node)
  local parts = {}
  local n = node
  while n do
    local t = n.type
    if t == "property" then
      table.insert(parts, 1, lower(n.name or ""))
      n = n.left
    elseif t == "index" then
      local r = n.right
      if r and r.type == "literal" and type(r.value) == "string" then
        table.insert(parts, 1, lower(r.value))
      else
        table.insert(parts, 1, "*")
      end
      n = n.left
    elseif t == "star" then
      table.insert(parts, 1, "*")
      n = n.left
    elseif t == "group" then
      n = n.left
    elseif t == "context" then
      table.insert(parts, 1, lower(n.name or ""))
      return table.concat(parts, ".")
    else
      return nil
    end
  end
  return nil
end

local CHAIN = {context = true, property = true, index = true, star = true}

-- fromJSON(x) evaluates to x's text parsed: a JSON string stays the same
-- attacker text. zizmor does not count it as dataflow; here its argument's
-- contexts count as "weak" items: reported only when they carry attacker
-- text, never as unknowns.
local function dataflow(node, out, weak)
  if not node then return out end
  local t = node.type
  if t == "group" then
    if node.left and CHAIN[node.left.type] then
      out[#out + 1] = node -- (a.b).c handled by chain_path; (a.b) itself too
      if weak then out.weak[node] = true end
    else
      dataflow(node.left, out, weak)
    end
  elseif CHAIN[t] then
    out[#out + 1] = node
    if weak then out.weak[node] = true end
  elseif t == "call" then
    local fn = lower(node.name or "")
    local args = node.args or {}
    if DATAFLOW_FNS[fn] then
      for _, a in ipairs(args) do dataflow(a, out, weak) end
    elseif fn == "fromjson" then
      dataflow(args[1], out, true)
    elseif fn == "case" then
      -- case(pred1, val1, pred2, val2, ..., default): the values flow
      for i = 2, #args, 2 do dataflow(args[i], out, weak) end
      if #args % 2 == 1 then dataflow(args[#args], out, weak) end
    end
  elseif t == "and" then
    local args = node.args or {}
    dataflow(args[#args], out, weak)
  elseif t == "or" then
    for _, a in ipairs(node.args or {}) do dataflow(a, out, weak) end
  end
  return out
end

--- The dataflow nodes of a parsed expression (see taint.expression).
function taint.dataflow(ast)
  return dataflow(ast, {weak = {}})
end

---------------------------------------------------------------------------
-- Following env, matrix, step and job outputs
---------------------------------------------------------------------------

local MAX_DEPTH = 6

local classify -- forward

-- Worst class over every `${{ }}` of text (nil when none is known), the
-- items, and whether there was any expression at all.
local function text_taint(text, model, job, step, depth, seen)
  local gha = mlgate.gha
  if type(text) ~= "string" or not text:find("${{", 1, true) or not gha then
    return nil, {}, false
  end
  local worst, items, unknown = nil, {}, false
  for _, sp in ipairs(gha.find(text) or {}) do
    local inner = sp.expr
    if type(inner) ~= "string" then
      inner = text:sub((sp.inner or 0) + 1, (sp.inner or 0) + (sp.inner_len or 0))
    end
    local ast = gha.parse(inner)
    if ast then
      local flows = dataflow(ast, {weak = {}})
      for _, node in ipairs(flows) do
        local path = chain_path(node)
        local c, kind, via
        if path then
          c, kind, via = classify(path, model, job, step, depth + 1, seen)
        else
          kind = "computed"
        end
        local weak = flows.weak[node]
        if not weak or c == A or c == S then
          if not c then unknown = true end
          worst = taint.worse(worst, c)
          items[#items + 1] = {path = path, class = c, kind = kind, via = via}
        end
      end
    else
      unknown = true
    end
  end
  return worst, items, true, unknown
end

-- Looks `name` up in step env, job env, workflow env (nearest first).
-- Returns the kv entry (or nil), the scope ("step", "job", "workflow") and,
-- when a whole-expression `env:` was met first (the value is then whatever
-- that expression yields), its expr object.
function taint.env_value(model, job, step, name, skip_step)
  local scopes = {}
  if step and not skip_step then scopes[#scopes + 1] = {step, "step"} end
  if job then scopes[#scopes + 1] = {job, "job"} end
  if model and model.kind ~= "action" then scopes[#scopes + 1] = {model, "workflow"} end
  for _, sc in ipairs(scopes) do
    local holder = sc[1]
    local ee = taint.env_expr(model, holder)
    if ee then return nil, sc[2], ee end
    local kv = kv_get(holder.env, name)
    if kv then return kv, sc[2], false end
  end
  return nil, nil, false
end

local function via_join(head, via)
  if via and via ~= "" then return head .. " <- " .. via end
  return head
end

-- The trail of an item: its path, then where classify followed it (a via
-- that already starts with the path is the whole trail).
local function trail(path, via)
  if not via or via == path then return path end
  if via:sub(1, #path) == path then return via end
  return path .. " <- " .. via
end

local function follow_env(name, model, job, step, depth, seen, skip_step)
  if seen.skip_step_env then skip_step = true end
  local kv, scope, dynamic = taint.env_value(model, job, step, name, skip_step)
  if dynamic then
    -- env: ${{ fromJSON(...) }}: the mapping is whatever that yields; only
    -- attacker text in it (fromJSON's argument) decides, else unknown
    local head = "env." .. name .. " (env: is an expression)"
    local text = type(dynamic) == "table" and dynamic.text
    local key = "envx:" .. scope .. ":" .. tostring(job and job.id)
    if type(text) == "string" and not seen[key] then
      seen[key] = true
      local c, items = text_taint("${{" .. text .. "}}", model,
        scope ~= "workflow" and job or nil, scope == "step" and step or nil, depth, seen)
      seen[key] = nil
      if c == A or c == S then
        local it
        for _, x in ipairs(items) do if x.class == c then it = x; break end end
        return c, "env-dynamic", via_join(head, it and trail(it.path or "computed", it.via))
      end
    end
    return nil, "env-dynamic", head
  end
  if not kv then
    local r = taint.RUNNER_ENV[name] or taint.RUNNER_ENV[name:upper()]
    if r then return r, "env-static", "runner variable " .. name:upper() end
    -- A value an earlier step appended to $GITHUB_ENV also lands in `env`.
    if step and job and job.steps then
      local lname = lower(name) .. "="
      for _, st in ipairs(job.steps) do
        if st == step or (st.index and st.index == step.index) then break end
        local t = text_of(st.run)
        if t and t:find("GITHUB_ENV", 1, true) and lower(t):find(lname, 1, true) then
          return nil, "env-unknown", "env." .. name .. " (written to $GITHUB_ENV by an earlier step)"
        end
      end
    end
    -- zizmor: a name no env: block defines is static (an invalid workflow).
    return F, "env-static", "env." .. name .. " (not defined)"
  end
  local shown = "env." .. tostring(kv.name or name)
  local text = kv.value and kv.value.text
  if kv.value == nil or text == nil then return nil, "env-unknown", shown end
  local key = "env:" .. scope .. ":" .. tostring(job and job.id) .. ":" .. lower(name)
  if seen[key] then return nil, "env-unknown", shown .. " (cycle)" end
  seen[key] = true
  -- A step's env values see the job's and workflow's env (not their own
  -- step's); job and workflow env values see no env at all.
  local cstep = scope == "step" and step or nil
  local cjob = scope ~= "workflow" and job or nil
  local saved = seen.skip_step_env
  seen.skip_step_env = true
  local worst, items, any = text_taint(text, model, cjob, cstep, depth, seen)
  seen.skip_step_env = saved
  seen[key] = nil
  if not any then return F, "env-static", shown .. " = literal" end
  local via
  for _, it in ipairs(items) do
    if it.class == worst or not via then
      via = trail(it.path or "computed", it.via)
      if it.class == worst then break end
    end
  end
  return worst, "env", via_join(shown, via)
end

-- Values of one matrix key: the dimension's values and include rows.
local function matrix_values(matrix, key, out)
  local function collect(v)
    if type(v) == "string" then out[#out + 1] = v
    elseif type(v) == "table" then
      if v.text then out[#out + 1] = v.text
      else for _, x in pairs(v) do collect(x) end end
    end
  end
  local keys = matrix.keys
  if type(keys) == "table" then
    for k, vals in pairs(keys) do
      if type(k) == "string" and lower(k) == key then collect(vals) end
    end
  end
  for _, row in ipairs(type(matrix.include) == "table" and matrix.include or {}) do
    if type(row) == "table" then
      for k, v in pairs(row) do
        if type(k) == "string" and lower(k) == key then collect(v) end
      end
    end
  end
  return out
end

local function follow_matrix(segs, model, job, depth, seen)
  local strategy = job and job.strategy
  local matrix = strategy and strategy.matrix
  if not matrix then return nil, "unknown", "matrix (no strategy.matrix)" end
  -- expr: the matrix or one of its dimensions is an expression; only the
  -- former leaves nothing to follow.
  local has_keys = false
  if type(matrix.keys) == "table" then
    for _ in pairs(matrix.keys) do has_keys = true break end
  end
  local has_rows = type(matrix.include) == "table" and #matrix.include > 0
  if matrix.expr and not has_keys and not has_rows then
    return nil, "matrix-dynamic", "matrix is an expression"
  end
  local key = segs[2]
  if not key or key == "*" then
    -- toJSON(matrix): every value
    local worst, any = nil, false
    local vals = {}
    if type(matrix.keys) == "table" then
      for k in pairs(matrix.keys) do matrix_values(matrix, lower(k), vals) end
    end
    for _, v in ipairs(vals) do
      local c, _, had = text_taint(v, model, job, nil, depth, seen)
      if had then any = true; worst = taint.worse(worst, c or S) end
    end
    if matrix.include_expr then return nil, "matrix-dynamic", "matrix.include is an expression" end
    if not any then return F, "matrix-static", "matrix" end
    return worst, "matrix", "matrix"
  end
  local vals = matrix_values(matrix, key, {})
  local worst, any, unknown, via = nil, false, false, nil
  for _, v in ipairs(vals) do
    local c, items, had, unk = text_taint(v, model, job, nil, depth, seen)
    if had and not unk and not c then c = F end -- no context flows: constant
    if had then
      any = true
      if unk or not c then unknown = true end
      if c and (not worst or RANK[c] > RANK[worst]) then
        worst = c
        local it = items[1]
        for _, x in ipairs(items) do if x.class == c then it = x; break end end
        via = it and trail(it.path or "computed", it.via)
      end
    end
  end
  if matrix.include_expr then return nil, "matrix-dynamic", "matrix.include is an expression" end
  if #vals == 0 and matrix.expr then return nil, "matrix-dynamic", "matrix." .. key .. " (set by an expression)" end
  if not any then return F, "matrix-static", "matrix." .. key .. " (literal values)" end
  if unknown and (not worst or worst == F) then worst = nil end
  return worst, "matrix", via_join("matrix." .. key, via)
end

-- Class and trail of the part of a shell word after "NAME=" in
-- `echo "NAME=..." >> $GITHUB_OUTPUT`: its ${{ }} and $VARs followed.
local function value_taint(word, model, job, step, depth, seen, vars)
  local worst, unknown, any, via = nil, false, false, nil
  local function take(c, v)
    if c and (not worst or RANK[c] > RANK[worst]) then via = v end
    if not via then via = v end
    worst = taint.worse(worst, c)
  end
  if word:find("${{", 1, true) then
    local c, items, had, unk = text_taint(word, model, job, step, depth, seen)
    if had then any = true end
    if unk then unknown = true end
    local it = items[1]
    for _, x in ipairs(items) do if x.class == c then it = x; break end end
    take(c, it and trail(it.path or "computed", it.via))
  end
  -- $NAME / ${NAME}: step env, job env, workflow env, runner variables
  local stripped = word:gsub("%${{.-}}", "")
  for name in stripped:gmatch("%$%{?([%a_][%w_]*)") do
    any = true
    local c, v
    local sv = vars and vars[name]
    if sv then
      c, v = sv.class, sv.via
    else
      c, _, v = follow_env(name, model, job, step, depth + 1, seen)
    end
    if not c then unknown = true end
    take(c, v)
  end
  if stripped:find("%$%(") or stripped:find("`", 1, true) then
    any, unknown = true, true
  end
  if not any then return F, "literal" end
  if unknown and (not worst or worst == F) then return nil end
  return worst, via
end

local DECLARERS = {export = true, ["local"] = true, declare = true, typeset = true,
  readonly = true}

-- Shell variables a script assigns (NAME=value, export NAME=value), with
-- the class of what they hold: the value's ${{ }} and $VARs followed,
-- earlier assignments first. Not flow-sensitive: a name assigned twice
-- keeps the worse class; nil (unknown) when a command substitution with no
-- known input makes it.
local function shell_vars(script, model, job, step, depth, seen)
  local vars = {}
  for _, cmd in ipairs(script and script.cmds or {}) do
    local argv = cmd.argv or {}
    local words = {}
    if #argv == 0 then
      words = cmd.assigns or {}
    elseif argv[1].text and DECLARERS[argv[1].text] then
      for i = 2, #argv do words[#words + 1] = argv[i] end
    end
    for _, w in ipairs(words) do
      local name, val = (w.text or ""):match("^([%a_][%w_]*)=(.*)$")
      if name then
        local c, via = value_taint(val, model, job, step, depth, seen, vars)
        via = (via and via ~= "literal") and ("$" .. name .. " <- " .. via) or ("$" .. name)
        local old = vars[name]
        if old and (old.class == nil or c == nil) then
          vars[name] = {class = nil, via = via or old.via}
        elseif not old or RANK[c] > RANK[old.class] then
          vars[name] = {class = c, via = via}
        end
      end
    end
  end
  return vars
end

--- Shell variables assigned in a parsed script (mlgate.shell.parse) ->
--- {NAME = {class=, via=}}; see taint.word.
function taint.shell_vars(script, model, job, step)
  return shell_vars(script, model, job, step, 0, {})
end

--- Class and trail of a shell word's text (as mlgate.shell gives it):
--- its ${{ }}, $VARs (vars from taint.shell_vars first, then env: and
--- runner variables) and command substitutions. "fixed" for a literal.
function taint.word(text, model, job, step, vars)
  local c, via = value_taint(text or "", model, job, step, 0, {}, vars)
  if via == "literal" then via = nil end
  return c, via
end

-- Class and trail of what a `run:` step writes as output `name`, or nil.
local function run_output(st, name, model, job, depth, seen)
  local text = text_of(st.run)
  if not text then return nil end
  local ltext = lower(text)
  if not ltext:find(name, 1, true) then return nil end
  local shell = mlgate.shell
  local worst, found, unknown, via = nil, false, false, nil
  local function take(c, v)
    if not c then unknown = true return end
    if not worst or RANK[c] > RANK[worst] then via = v end
    worst = taint.worse(worst, c)
  end
  local prefix = name .. "="
  local lprefix = lower(prefix)
  -- ::set-output name=NAME::value (deprecated, still seen)
  local qname = name:gsub("%p", "%%%0")
  local pos = 1
  while true do
    local s, e = ltext:find("::set%-output name=" .. qname .. "::", pos)
    if not s then break end
    found = true
    local v = text:sub(e + 1):match("^[^\n]*")
    take(value_taint(v, model, job, st, depth, seen))
    pos = e + 1
  end
  local script = shell and shell.parse(text)
  if script and script.cmds then
    local vars = shell_vars(script, model, job, st, depth, seen)
    local heredoc_mode = false
    for _, cmd in ipairs(script.cmds) do
      local to_output = false
      for _, r in ipairs(cmd.redirs or {}) do
        if r.target and r.target.text and r.target.text:find("GITHUB_OUTPUT", 1, true) then
          to_output = true
        end
      end
      local argv = cmd.argv or {}
      if to_output and argv[1] and (argv[1].text == "echo" or argv[1].text == "printf") then
        for i = 2, #argv do
          local w = argv[i].text or ""
          if lower(w:sub(1, #prefix)) == lprefix then
            found = true
            take(value_taint(w:sub(#prefix + 1), model, job, st, depth, seen, vars))
          elseif lower(w):find("^" .. qname .. "<<") then
            found, heredoc_mode = true, true
          elseif heredoc_mode then
            take(value_taint(w, model, job, st, depth, seen, vars))
          end
        end
      elseif to_output and heredoc_mode then
        unknown = true
      end
    end
  end
  if not found then return nil end
  if unknown and (not worst or worst == F) then return nil end
  return worst, via
end

local function action_output(uses, name)
  if not uses or not uses.owner or not uses.repo then return nil end
  local t = taint.ACTION_OUTPUTS[lower(uses.owner .. "/" .. uses.repo)]
  if not t then return nil end
  return t[lower(name)] or t["*"]
end

local function follow_step_output(segs, model, job, step, depth, seen)
  local sid, what, out = segs[2], segs[3], segs[4]
  if what == "outcome" or what == "conclusion" then return F, "status", "steps." .. tostring(sid) .. "." .. what end
  if what ~= "outputs" or not sid or sid == "*" then
    return nil, "output-unknown", "steps." .. tostring(sid)
  end
  local st = taint.step_by_id(model, job, sid)
  local head = "steps." .. sid .. ".outputs." .. tostring(out)
  if not st or not out or out == "*" then return nil, "output-unknown", head end
  local key = "step:" .. tostring(job and job.id) .. ":" .. sid .. ":" .. out
  if seen[key] then return nil, "output-unknown", head .. " (cycle)" end
  seen[key] = true
  local c, via
  if st.run then
    c, via = run_output(st, out, model, job, depth, seen)
    if via == "literal" then via = "a literal" end
  elseif st.uses then
    c = action_output(st.uses, out)
    via = st.uses.raw
  end
  seen[key] = nil
  if not c then return nil, "output-unknown", head end
  return c, "step-output", via_join(head, via)
end

local function follow_job_output(segs, model, depth, seen)
  local jid, what, out = segs[2], segs[3], segs[4]
  if what == "result" then return F, "status", segs[1] .. "." .. tostring(jid) .. ".result" end
  if what ~= "outputs" or not jid or jid == "*" or not out or out == "*" then
    return nil, "output-unknown", table.concat(segs, ".")
  end
  local j = taint.job_by_id(model, jid)
  local head = segs[1] .. "." .. jid .. ".outputs." .. out
  if not j or j.kind == "reusable" then return nil, "output-unknown", head end
  local kv = kv_get(j.outputs, out)
  if not kv or not kv.value then return nil, "output-unknown", head end
  local key = "job:" .. jid .. ":" .. out
  if seen[key] then return nil, "output-unknown", head .. " (cycle)" end
  seen[key] = true
  local c, items, any, unk = text_taint(kv.value.text, model, j, nil, depth, seen)
  seen[key] = nil
  if not any then return F, "job-output", head .. " = literal" end
  if unk and (not c or c == F) then return nil, "output-unknown", head end
  local it = items[1]
  for _, x in ipairs(items) do if x.class == c then it = x; break end end
  local via = it and trail(it.path or "computed", it.via)
  return c, "job-output", via_join(head, via)
end

-- inputs.<name> of a reusable workflow: what the local callers pass in
-- `with:`. Unknown (nil, "input-call") without callers that pass it.
local function follow_callers(name, model, depth, seen)
  local head = "inputs." .. name
  local key = "call:" .. tostring(model.path) .. ":" .. name
  if seen[key] then return nil, "input-call", head .. " (cycle)" end
  seen[key] = true
  local worst, via, unknown, any = nil, nil, false, false
  for _, cl in ipairs(taint.callers(model)) do
    local kv = kv_get(cl.job.with, name)
    if kv and kv.value and kv.value.text then
      any = true
      local c, items, had, unk = text_taint(kv.value.text, cl.model, cl.job, nil, depth, seen)
      if not had then c = F end
      if unk then unknown = true end
      if c and (not worst or RANK[c] > RANK[worst]) then
        worst = c
        local it
        for _, x in ipairs(items or {}) do if x.class == c then it = x; break end end
        via = ("%s jobs.%s.with.%s"):format(cl.path, tostring(cl.job.id), tostring(kv.name))
        if it then via = via_join(via, trail(it.path or "computed", it.via)) end
      end
    end
  end
  seen[key] = nil
  if not any or (unknown and (not worst or worst == F)) then return nil, "input-call", head end
  return worst, "input-call", via_join(head, via)
end

---------------------------------------------------------------------------
-- classify
---------------------------------------------------------------------------

function classify(path, model, job, step, depth, seen)
  if type(path) ~= "string" or path == "" then return nil, "unknown", nil end
  depth = depth or 0
  seen = seen or {}
  path = lower(path)
  local segs = split(path)
  local root = segs[1]
  if depth > MAX_DEPTH then return nil, "unknown", path .. " (too deep)" end

  if root == "github" then
    if #segs == 1 then return A, "context", path end -- toJSON(github)
    if segs[2] == "event" then
      if segs[3] == "inputs" and segs[4] then
        -- the workflow_dispatch inputs (strings): chosen by whoever may
        -- dispatch, someone with write access
        if model and model.on then
          local lname = segs[4]
          for _, ev in ipairs(model.on.events or {}) do
            if ev.name == "workflow_dispatch" then
              for _, inp in ipairs(ev.inputs or {}) do
                if type(inp.name) == "string" and lower(inp.name) == lname then
                  local t = inp.type and lower(text_of(inp.type) or "") or "string"
                  return F, (INPUT_TYPES[t] or A) == A and "input-dispatch" or "input", path
                end
              end
            end
          end
          return nil, "input-undeclared", path
        end
        return nil, "input-undeclared", path
      end
      -- github.event.number etc. also go through the leaf rules
      path = table.concat(segs, ".")
      return classify_event(segs, path), "context", path
    end
    local c = taint.GITHUB[segs[2]]
    if c and #segs == 2 then return c, "context", path end
    return nil, "unknown", path
  end

  if root == "inputs" then
    if not segs[2] or segs[2] == "*" then return A, "input", path end
    if not model then return nil, "input-undeclared", path end
    local c, kind = taint.inputs(model, segs[2])
    if kind == "input-call" then
      return follow_callers(segs[2], model, depth, seen)
    end
    return c, kind, path
  end

  if root == "env" then
    local name = segs[2]
    if not name or name == "*" then return nil, "env-unknown", path end
    -- keep the variable's case: find it in the original path
    local orig = path
    if model then
      -- env names are case-sensitive on Linux runners; the path we got is
      -- lower-cased, so kv_get falls back to a case-insensitive match.
      return follow_env(name, model, job, step, depth, seen)
    end
    return nil, "env-unknown", orig
  end

  if root == "matrix" then
    if not model then return nil, "unknown", path end
    return follow_matrix(segs, model, job, depth, seen)
  end

  if root == "steps" then
    if segs[3] == "outcome" or segs[3] == "conclusion" then return F, "status", path end
    if not model then return nil, "output-unknown", path end
    return follow_step_output(segs, model, job, step, depth, seen)
  end

  if root == "needs" or root == "jobs" then
    if segs[3] == "result" then return F, "status", path end
    if not model then return nil, "output-unknown", path end
    return follow_job_output(segs, model, depth, seen)
  end

  if root == "secrets" then return F, "secret", path end
  local c = taint.CONTEXTS[root]
  if c then return c, "context", path end
  return nil, "unknown", path
end

--- See the header. `path` as given by mlgate.gha.refs.
function taint.classify(path, model, job, step)
  return classify(path, model, job, step, 0, {})
end

--- The dataflow contexts of one expression (text inside ${{ }} or an AST
--- from mlgate.gha.parse), classified. Returns nil, err if it does not parse.
-- Expressions whose contexts do not depend on the file (github.*,
-- secrets, runner, ...) are classified once per Lua state: the same
-- `${{ github.event.pull_request.title }}` recurs across a repository.
local INDEPENDENT = {github = true, secrets = true, runner = true, vars = true,
  strategy = true, job = true}
local expr_cache, expr_cache_n = {}, 0

function taint.expression(expr, model, job, step)
  local ast = expr
  if type(expr) == "string" then
    local hit = expr_cache[expr]
    if hit ~= nil then
      if hit == false then return nil, "does not parse" end
      return hit
    end
    local err
    ast, err = mlgate.gha.parse(expr)
    if not ast then
      if expr_cache_n < 4096 then expr_cache[expr] = false; expr_cache_n = expr_cache_n + 1 end
      return nil, err
    end
  end
  local list = {}
  local flows = dataflow(ast, {weak = {}})
  for _, node in ipairs(flows) do
    local path = chain_path(node)
    local item = {path = path, offset = node.offset, len = node.len}
    if path then
      item.class, item.kind, item.via = classify(path, model, job, step, 0, {})
    else
      item.kind = "computed"
    end
    -- through fromJSON only attacker text counts
    if not flows.weak[node] or item.class == A or item.class == S then
      list[#list + 1] = item
    end
  end
  if type(expr) == "string" then
    local indep = true
    for _, it in ipairs(list) do
      local p = it.path
      if p and (not INDEPENDENT[p:match("^[^.]*")] or p:find("^github%.event%.inputs")) then
        indep = false
        break
      end
    end
    if indep then
      if expr_cache_n >= 4096 then expr_cache, expr_cache_n = {}, 0 end
      expr_cache[expr] = list
      expr_cache_n = expr_cache_n + 1
    end
  end
  return list
end

--- Worst class over every ${{ }} in text, and the classified items.
function taint.text(text, model, job, step)
  local worst, items = text_taint(text, model, job, step, 0, {})
  return worst, items
end

return taint
