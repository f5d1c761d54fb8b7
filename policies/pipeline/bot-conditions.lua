-- pipeline/bot-conditions: a job or step `if:` that trusts the identity of
-- the actor (github.actor == 'dependabot[bot]') in a workflow whose trigger
-- lets an attacker make a bot the actor.
--
-- Semantics follow zizmor's bot-conditions audit: an `==` between one of
-- the spoofable actor contexts and a `[bot]` login (or a known bot id) in
-- the condition; high confidence when that comparison decides the whole
-- condition (it is the condition, or an operand of `||`), medium when it is
-- only part of it (an operand of `&&`, a function argument). Triggers: the
-- `triggers` param (zizmor only looks at pull_request_target; workflow_run
-- carries the same spoofable actor from the run that triggered it).

local gha = mlgate.gha

-- Source text for a message, shortened when long.
local function clip(s)
  s = s:gsub("%s+", " ")
  if #s > 80 then return s:sub(1, 77) .. "..." end
  return s
end

-- Contexts that name whoever caused the event, not who wrote the change.
local NAME_CONTEXTS = {
  ["github.actor"] = true,
  ["github.triggering_actor"] = true,
  ["github.event.sender.login"] = true,
  ["github.event.pull_request.sender.login"] = true,
}
local ID_CONTEXTS = {
  ["github.actor_id"] = true,
  ["github.event.sender.id"] = true,
  ["github.event.pull_request.sender.id"] = true,
}
-- Bot ids without a `[bot]` suffix to recognise them by (user and
-- integration ids: people confuse the two, and both are wrong here).
local BOT_IDS = {
  ["29110"] = "dependabot[bot]",    -- Dependabot's integration id
  ["49699333"] = "dependabot[bot]",
  ["27856297"] = "dependabot-preview[bot]",
  ["29139614"] = "renovate[bot]",
}

-- "github.event.sender.login" for a context/property chain, with literal
-- string indexes read as properties (github['ACTOR']); nil otherwise.
local function chain(n)
  local t = n.type
  if t == "context" then return n.name:lower() end
  if t == "property" then
    local b = chain(n.left)
    return b and (b .. "." .. n.name:lower())
  end
  if t == "index" and n.right.type == "literal" and type(n.right.value) == "string" then
    local b = chain(n.left)
    return b and (b .. "." .. n.right.value:lower())
  end
  if t == "group" then return chain(n.left) end
  return nil
end

local function literal_text(n)
  while n.type == "group" do n = n.left end
  if n.type ~= "literal" then return nil end
  local v = n.value
  if type(v) == "string" then return v end
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "number" and v == math.floor(v) and v >= 0 and v < 2^53 then
    return ("%d"):format(v)
  end
  return nil
end

-- The bot a comparison `a == b` trusts, or nil.
local function bot_compare(n)
  local path, lit = chain(n.left), literal_text(n.right)
  if not (path and lit) then path, lit = chain(n.right), literal_text(n.left) end
  if not (path and lit) then return nil end
  if NAME_CONTEXTS[path] and lit:lower():sub(-5) == "[bot]" then return path, lit end
  if ID_CONTEXTS[path] and BOT_IDS[lit] then return path, BOT_IDS[lit] end
  return nil
end

-- Walks the condition: returns found (a bot comparison somewhere), dom
-- (whether what was found decides the whole value), and the first match.
local walk
local function walk_list(list, dominating_child)
  local found, first
  for _, a in ipairs(list) do
    local f, _, m = walk(a, dominating_child)
    if f then
      found = true
      first = first or m
    end
  end
  return found, first
end

walk = function(n, dominating)
  local t = n.type
  if t == "group" then return walk(n.left, dominating) end
  if t == "or" then
    local f, m = walk_list(n.args, true)
    return f, true, m
  end
  if t == "and" then
    local f, m = walk_list(n.args, false)
    return f, false, m
  end
  if t == "compare" then
    if n.name == "==" then
      local path, lit = bot_compare(n)
      if path then return true, true, {path = path, login = lit, node = n} end
      local f, m = walk_list({n.left, n.right}, true)
      return f, true, m
    end
    local f, m = walk_list({n.left, n.right}, false)
    return f, false, m
  end
  if t == "not" then return walk(n.left, false) end
  if t == "call" then
    if #n.args == 0 then return false, dominating end
    local f, m = walk_list(n.args, false)
    return f, false, m
  end
  if t == "index" then
    -- A computed index may hide a comparison: github[x == y && 'actor'].
    local f, m = walk_list({n.left, n.right}, false)
    return f, false, m
  end
  if t == "property" or t == "star" then
    local f, _, m = walk(n.left, false)
    return f, false, m
  end
  return false, dominating
end

-- The `${{ }}` spans of a condition as {inner_offset, inner_text}; the whole
-- text when it has none (a bare condition).
local function condition_exprs(text)
  local spans = gha.find(text)
  local out = {}
  if not spans or #spans == 0 then
    out[1] = {0, text}
    return out
  end
  for _, s in ipairs(spans) do
    if s.closed then
      local inner = s.inner
      out[#out + 1] = {inner, text:sub(inner + 1, inner + s.inner_len)}
    end
  end
  return out
end

local function trigger_set(ctx)
  local list = ctx.params.triggers
  if type(list) ~= "table" then
    error("param 'triggers' must be a list of event names", 0)
  end
  local set = {}
  for i, name in ipairs(list) do
    if type(name) ~= "string" then
      error(("param 'triggers': entry %d must be an event name"):format(i), 0)
    end
    set[name] = true
  end
  return set
end

-- The file's text for the cheap raw-text gate below, or nil when the gate
-- cannot be trusted and the model must be walked: unreadable, UTF-16/32
-- (NUL bytes), or holding a backslash sequence that a double-quoted YAML
-- scalar would turn into other characters (\x24 is "$", \/ is "/", a
-- backslash at the end of a line joins two lines).
local function gate_text(path)
  local raw = mlgate.fs.read(path)
  if not raw or raw:find("\0", 1, true) then return nil end
  if raw:find("\\", 1, true) and raw:find("\\[xuU/\r\n]") then return nil end
  return raw
end

return mlgate.policy {
  id = "pipeline/bot-conditions",
  title = "Job or step conditions must not trust a spoofable bot actor",
  description = [[
Flags `if:` conditions of jobs and steps such as
`github.actor == 'dependabot[bot]'` (also github.triggering_actor,
github.event.sender.login and the numeric github.actor_id of Dependabot or
Renovate) in workflows triggered by `pull_request_target` or `workflow_run`.
Those contexts name whoever caused the event, not who wrote the change: an
attacker can open a pull request from a fork and get Dependabot to push to
it (or trigger a run through it), and the privileged workflow then sees the
bot as the actor and merges, approves, or publishes the attacker's code.
"Auto-merge Dependabot PRs" workflows are the usual victims; in ML
repositories the same jobs often hold model-registry, Hugging Face or cloud
training credentials.

Confidence is high when the comparison alone decides the condition (it is
the whole condition or an operand of `||`) and medium when other terms are
ANDed with it. Param `triggers` lists the events that make the actor
spoofable (default: pull_request_target, workflow_run; zizmor checks
pull_request_target only).]],
  remediation = [[
Check who opened the pull request, which a fork cannot fake, and let
Dependabot's own metadata action confirm the update:

    if: github.event.pull_request.user.login == 'dependabot[bot]'
    steps:
      - id: meta
        uses: dependabot/fetch-metadata@08eff52bf64351f401fb50d4972fa95b9f2c2d1b # v2.4.0
      - if: steps.meta.outputs.update-type == 'version-update:semver-patch'
        run: gh pr merge --auto --squash "$PR_URL"
        env:
          PR_URL: ${{ github.event.pull_request.html_url }}

Better still, run such automation on `pull_request` (Dependabot's own
pull requests get their token and secrets there) rather than on
`pull_request_target`.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0073"},
  aliases = {"catalog:COND-BOT", "zizmor:bot-conditions", "poutine:confused_deputy_auto_merge"},
  references = {
    "https://docs.zizmor.sh/audits/#bot-conditions",
    "https://www.synacktiv.com/publications/github-actions-exploitation-dependabot",
    "https://boostsecurityio.github.io/poutine/rules/confused_deputy_auto_merge/",
  },
  files = {".github/workflows/*.{yml,yaml}"},
  params = {
    triggers = {"pull_request_target", "workflow_run"},
  },

  check = function(file, ctx)
    local ok, wanted = pcall(trigger_set, ctx)
    if not ok then return ctx:error(wanted) end
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local trig, hit = mlgate.pipeline.triggers(m), {}
    for _, name in ipairs(mlgate.keys(wanted)) do
      if trig[name] then hit[#hit + 1] = name end
    end
    if #hit == 0 then return end
    -- Cheap gate on the raw text: every spoofable context names an actor or
    -- a sender.
    local raw = gate_text(file.path)
    if raw then
      local low = raw:lower()
      if not (low:find("actor", 1, true) or low:find("sender", 1, true)) then return end
    end
    local via = table.concat(hit, "/")

    local function judge(cond, route, job, step)
      local text = cond.text
      local low = text:lower()
      if not (low:find("actor", 1, true) or low:find("sender", 1, true)) then return end
      for _, part in ipairs(condition_exprs(text)) do
        local off, src = part[1], part[2]
        local ast = gha.parse(src, {any_context = true})
        if ast then
          local found, dom, match = walk(ast, true)
          if found then
            local lead = #src:match("^%s*")
            local line, col = mlgate.pipeline.where(cond, off + lead)
            local cmp = match.node
            local shown = src:sub(cmp.offset + 1, cmp.offset + cmp.len)
            ctx:fail{
              message = ("`%s` trusts the actor, which on %s is whoever caused the event "
                .. "(a fork can make %s the actor); check "
                .. "github.event.pull_request.user.login instead."):format(
                clip(shown), via, match.login),
              line = line, column = col,
              confidence = dom and "high" or "medium",
              key = route .. ".if:" .. match.path,
              details = {job = job, step = step, context = match.path, login = match.login,
                         triggers = hit, dominating = dom},
            }
            return
          end
        end
      end
    end

    for _, job in ipairs(m.jobs) do
      if job.cond then judge(job.cond, job.route, job.id, nil) end
      for _, step in ipairs(job.steps or {}) do
        if step.cond then judge(step.cond, step.route, job.id, step.index) end
      end
    end
  end,
}
