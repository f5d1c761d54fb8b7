-- pipeline/cache-poisoning: a build cache is restored in a workflow that
-- publishes what it builds (release/tag triggers or a publishing step).
--
-- Follows zizmor's cache-poisoning audit: the same table of cache-aware
-- actions and the way each one's inputs turn caching on or off (opt-in and
-- opt-out toggles, defaults, `${{ }}` values counted as "may enable", the
-- setup-uv version bound read from the tag or the version comment), the
-- same release triggers (`release`, `push: tags`, `push: branches`
-- naming a release branch) and publisher actions, and the tag-push
-- heuristic for `${{ startsWith(github.ref, 'refs/tags/') }}`-style toggles.
-- Additions: actions/cache/restore and gradle/gradle-build-action are
-- cache-aware; ML model uploads in `run:` (hf upload, huggingface-cli
-- upload, push_to_hub, mlflow model registration) make a job a publisher,
-- and other publishing commands (twine upload, npm publish, docker push, ...)
-- do too in the pedantic profile.

local P = mlgate.pipeline

-- Control expressions: how a step's `with:` decides whether it caches.
-- field: {kind="field", toggle="in"|"out", name, type="bool"|"free"|{exact...},
--         default=bool}; any/all: {kind=, list}; version_lt: {kind=, v}
local function F(toggle, name, ftype, default)
  return {kind = "field", toggle = toggle, name = name, type = ftype, default = default}
end
local function ANY(list) return {kind = "any", list = list} end
local function ALL(list) return {kind = "all", list = list} end
local ALWAYS = {kind = "always"}

-- owner/repo[/subpath] (lower case) -> control
local CACHE_AWARE = {
  ["actions/cache"] = F("out", "lookup-only", "bool", true),
  ["actions/cache/restore"] = ALWAYS,
  ["actions/setup-java"] = F("in", "cache", "free", false),
  ["actions/setup-go"] = F("in", "cache", "bool", true),
  ["actions/setup-node"] = ANY{F("in", "cache", {"npm", "yarn", "pnpm"}, false),
                               F("in", "package-manager-cache", "bool", true)},
  ["actions/setup-python"] = F("in", "cache", "free", false),
  ["actions/setup-dotnet"] = F("in", "cache", "bool", false),
  ["astral-sh/setup-uv"] = ANY{F("in", "enable-cache", {"true"}, false),
                               ALL{{kind = "version_lt", v = {10}},
                                   F("in", "enable-cache", "bool", true)}},
  ["swatinem/rust-cache"] = F("out", "lookup-only", "bool", true),
  ["ruby/setup-ruby"] = F("in", "bundler-cache", "bool", false),
  ["pyo3/maturin-action"] = F("in", "sccache", "bool", false),
  ["mlugg/setup-zig"] = F("in", "use-cache", "bool", true),
  ["oven-sh/setup-bun"] = F("out", "no-cache", "bool", true),
  ["determinatesystems/magic-nix-cache-action"] = F("in", "use-gha-cache", "bool", true),
  ["graalvm/setup-graalvm"] = F("in", "cache", "free", false),
  ["gradle/actions/setup-gradle"] = F("out", "cache-disabled", "bool", true),
  ["gradle/gradle-build-action"] = F("out", "cache-disabled", "bool", true),
  ["docker/setup-buildx-action"] = ALL{F("in", "cache-binary", "bool", true),
                                       F("in", "version", "free", false)},
  ["actions-rust-lang/setup-rust-toolchain"] = F("in", "cache", "bool", true),
  ["mozilla-actions/sccache-action"] = ALWAYS,
  ["nix-community/cache-nix-action"] = ALWAYS,
  ["jdx/mise-action"] = F("in", "cache", "bool", true),
  ["ramsey/composer-install"] = F("out", "ignore-cache", {"yes", "true", "1"}, true),
  ["awalsh128/cache-apt-pkgs-action"] = ALWAYS,
}

-- Actions that publish what the job built.
local PUBLISHERS = {
  ["pypa/gh-action-pypi-publish"] = ALWAYS,
  ["rubygems/release-gem"] = ALWAYS,
  ["jreleaser/release-action"] = ALWAYS,
  ["goreleaser/goreleaser-action"] = ALWAYS,
  ["softprops/action-gh-release"] = ALWAYS,
  ["release-drafter/release-drafter"] = ALWAYS,
  ["googleapis/release-please-action"] = ALWAYS,
  ["docker/build-push-action"] = F("in", "push", "bool", true),
  ["redhat-actions/push-to-registry"] = ALWAYS,
  ["aws-actions/amazon-ecs-deploy-task-definition"] = ALWAYS,
  ["aws-actions/aws-cloudformation-github-deploy"] = ALWAYS,
  ["azure/aci-deploy"] = ALWAYS,
  ["azure/container-apps-deploy-action"] = ALWAYS,
  ["azure/functions-action"] = ALWAYS,
  ["azure/sql-action"] = ALWAYS,
  ["cloudflare/wrangler-action"] = ALWAYS,
  ["google-github-actions/deploy-appengine"] = ALWAYS,
  ["google-github-actions/deploy-cloudrun"] = ALWAYS,
  ["google-github-actions/deploy-cloud-functions"] = ALWAYS,
}

-- Publishing in `run:` scripts. ML model uploads count in the regular
-- profile (no peer covers them); generic package/image publishing only in
-- the pedantic one (zizmor does not look at scripts).
local ML_PUBLISH = mlgate.re.compile(
  [[(?:\bhf\s+upload\b|\bhuggingface-cli\s+upload\b|\bpush_to_hub\s*\(|\b(?:hf|huggingface-cli)\s+repo\s+create\b|]] ..
  [[\bmlflow\.register_model\s*\(|\bmlflow\s+models?\s+.*\bregister\b|\bwandb\s+artifact\s+put\b)]])
local GENERIC_PUBLISH = mlgate.re.compile(
  [[(?:\btwine\s+upload\b|\b(?:npm|pnpm|yarn\s+npm)\s+publish\b|\bcargo\s+publish\b|]] ..
  [[\b(?:docker|podman)\s+push\b|\bgh\s+release\s+(?:create|upload)\b|\b(?:poetry|uv|flit|hatch)\s+publish\b|]] ..
  [[\bgem\s+push\b|\bdotnet\s+nuget\s+push\b)]])

-- Four-valued control logic (zizmor's): "default" (enabled by default),
-- "yes" (explicitly enabled), "no", "cond" (depends on an expression).
local AND = {
  default = {default = "default", yes = "yes", no = "no", cond = "cond"},
  yes = {default = "yes", yes = "yes", no = "no", cond = "cond"},
  no = {default = "no", yes = "no", no = "no", cond = "no"},
  cond = {default = "yes", yes = "cond", no = "no", cond = "cond"},
}
local OR = {
  default = {default = "default", yes = "yes", no = "default", cond = "default"},
  yes = {default = "yes", yes = "yes", no = "yes", cond = "yes"},
  no = {default = "default", yes = "yes", no = "no", cond = "cond"},
  cond = {default = "default", yes = "yes", no = "cond", cond = "cond"},
}

local function lower(s) return s and s:lower() or nil end

-- The action a `uses:` names, as "owner/repo" or "owner/repo/subpath".
local function slug_of(u)
  if not u or (u.kind ~= "action" and u.kind ~= "reusable") or not u.owner or not u.repo then
    return nil
  end
  local s = lower(u.owner) .. "/" .. lower(u.repo)
  local sub = u.subpath and u.subpath:gsub("^/+", ""):gsub("/+$", "")
  if sub and sub ~= "" then s = s .. "/" .. lower(sub) end
  return s
end

local function with_map(step)
  local t = {}
  for _, kv in ipairs(step.with or {}) do
    t[kv.name] = kv
  end
  return t
end

local function kv_text(kv)
  if kv.value then return kv.value.text or "" end
  return ""
end

-- The expression of a value written as exactly `${{ ... }}`, else nil.
local function fenced(text)
  local inner = text:match("^%s*%${{(.-)}}%s*$")
  if inner and not inner:find("}}", 1, true) then return inner end
  return nil
end

-- Version numbers {major, minor, patch} from "v6.5.0", "6", "v10.0.0".
local function parse_version(s)
  if not s then return nil end
  local v = s:match("^[vV]?(%d+[%.%d]*)$")
  if not v then return nil end
  local parts = {}
  for n in v:gmatch("%d+") do parts[#parts + 1] = tonumber(n) end
  return #parts > 0 and parts or nil
end

-- The action's version: its tag, or for a SHA pin the version comment.
local function uses_version(u)
  if u.pin == "tag" then return parse_version(u.ref) end
  if u.comment then
    for tok in u.comment:gmatch("[%w%.%-_]+") do
      local v = parse_version(tok)
      if v then return v end
    end
  end
  return nil
end

local function version_lt(a, b)
  for i = 1, math.max(#a, #b) do
    local x, y = a[i] or 0, b[i] or 0
    if x ~= y then return x < y end
  end
  return false
end

-- Evaluates a control against a step; returns the value and, for "cond",
-- whether the action version made it so.
local function eval(ctrl, w, u)
  if ctrl.kind == "always" then return "yes" end
  if ctrl.kind == "version_lt" then
    local v = uses_version(u)
    if not v then return "cond", true end
    return version_lt(v, ctrl.v) and "yes" or "no"
  end
  if ctrl.kind == "any" or ctrl.kind == "all" then
    local acc = ctrl.kind == "any" and "no" or "yes"
    local tab = ctrl.kind == "any" and OR or AND
    local by_version = false
    for _, c in ipairs(ctrl.list) do
      local r, bv = eval(c, w, u)
      by_version = by_version or bv
      acc = tab[acc][r]
    end
    return acc, by_version
  end
  local kv = w[ctrl.name]
  local on, off = "yes", "no"
  if ctrl.toggle == "out" then on, off = "no", "yes" end
  if not kv then return ctrl.default and "default" or "no" end
  local text = kv_text(kv)
  if fenced(text) then return "cond" end
  if ctrl.type == "bool" then
    if text == "true" then return on end
    if text == "false" then return off end
    return on -- a non-boolean value: assume the action takes it as true
  elseif ctrl.type == "free" then
    if text == "" then return off end
    return on
  end
  for _, x in ipairs(ctrl.type) do
    if text == x then return on end
  end
  return off
end

-- Expression heuristics for a toggle like `${{ startsWith(github.ref,
-- 'refs/tags/') }}` in a workflow that only runs for tags and releases:
-- returns the toggle's value on a tag push, or nil when unknown.
local function ctx_path(n)
  while n and n.type == "group" do n = n.left end
  if not n then return nil end
  if n.type == "context" then return lower(n.name) end
  if n.type == "property" then
    local l = ctx_path(n.left)
    return l and (l .. "." .. lower(n.name)) or nil
  end
  if n.type == "index" and n.right and n.right.type == "literal" and type(n.right.value) == "string" then
    local l = ctx_path(n.left)
    return l and (l .. "." .. n.right.value:lower()) or nil
  end
  return nil
end

local function strip(n)
  while n and n.type == "group" do n = n.left end
  return n
end

local function is_eq(n, path, lit)
  n = strip(n)
  if not n or n.type ~= "compare" or n.name ~= "==" then return false end
  local a, b = strip(n.left), strip(n.right)
  for _ = 1, 2 do
    if ctx_path(a) == path and b and b.type == "literal" and type(b.value) == "string"
       and b.value:lower() == lit then
      return true
    end
    a, b = b, a
  end
  return false
end

local function tag_push_value(n)
  n = strip(n)
  if not n then return nil end
  if n.type == "literal" and type(n.value) == "boolean" then return n.value end
  if n.type == "not" then
    local v = tag_push_value(n.left)
    if v == nil then return nil end
    return not v
  end
  if n.type == "call" and lower(n.name) == "startswith" and n.args and #n.args == 2 then
    local lhs, rhs = strip(n.args[1]), strip(n.args[2])
    if ctx_path(lhs) == "github.ref" and rhs and rhs.type == "literal"
       and type(rhs.value) == "string" and rhs.value:lower() == "refs/tags/" then
      return true
    end
    return nil
  end
  if n.type == "and" and n.args and #n.args == 2 then
    local a, b = n.args[1], n.args[2]
    if (is_eq(a, "github.event_name", "push") and is_eq(b, "github.ref_type", "tag"))
       or (is_eq(b, "github.event_name", "push") and is_eq(a, "github.ref_type", "tag")) then
      return true
    end
  end
  return nil
end

local function parse_expr(text)
  if not (mlgate.gha and mlgate.gha.parse) then return nil end
  local ok, ast = pcall(mlgate.gha.parse, text)
  if ok then return ast end
  return nil
end

-- A step or job whose `if:` is statically false never runs.
local function never_runs(cond)
  if not cond or not cond.text then return false end
  local t = cond.text
  t = fenced(t) or t
  t = t:match("^%s*(.-)%s*$")
  if t == "false" then return true end
  local ast = parse_expr(t)
  ast = strip(ast)
  return ast ~= nil and ast.type == "literal" and ast.value == false
end

-- Release triggers of the workflow: list of "tag", "branch", "release".
local function release_triggers(m)
  local out = {}
  for _, ev in ipairs((m.on and m.on.events) or {}) do
    if ev.name == "release" then
      out[#out + 1] = "release"
    elseif ev.name == "push" then
      if ev.tags or ev.tags_ignore then out[#out + 1] = "tag" end
      for _, b in ipairs(ev.branches or {}) do
        if type(b) == "string" and b:lower():find("release", 1, true) then
          out[#out + 1] = "branch"
          break
        end
      end
    end
  end
  return out
end

local function publisher_step(job)
  for _, step in ipairs(job.steps or {}) do
    local s = slug_of(step.uses)
    local ctrl = s and PUBLISHERS[s]
    if ctrl and eval(ctrl, with_map(step), step.uses) ~= "no" then
      return step, "action"
    end
  end
  local pedantic
  for _, step in ipairs(job.steps or {}) do
    if step.run and step.run.text then
      if ML_PUBLISH:test(step.run.text) then return step, "ml" end
      if not pedantic and GENERIC_PUBLISH:test(step.run.text) then pedantic = step end
    end
  end
  if pedantic then return pedantic, "command" end
  return nil
end

local TRIGGER_WORDS = {tag = "a tag push", branch = "a push to a release branch",
                       release = "a release event"}


-- GitLab: a cache key written by jobs that merge request pipelines run and
-- read by a release or deploy job. GitLab keeps separate caches for
-- protected branches by default, so this holds only when that setting is
-- off: confidence low.
local RELEASE_WORDS = {"release", "publish", "deploy", "upload", "push", "register"}

local function gitlab_key(c)
  if c.key then return c.key.text end
  if c.key_files then
    local parts = {}
    for _, f in ipairs(c.key_files) do parts[#parts + 1] = f.text end
    return "files:" .. table.concat(parts, ",") .. ":" .. (c.key_prefix and c.key_prefix.text or "")
  end
  return "default"
end

local function gitlab_release(job)
  local id = job.id:lower()
  for _, w in ipairs(RELEASE_WORDS) do
    if id:find(w, 1, true) then return true end
  end
  return job.environment ~= nil or (job.reach and job.reach.tag and not job.reach.branch
                                    and not job.reach.merge_request)
end

local function check_gitlab(m, ctx)
  local writers = {} -- key -> first MR job entry writing it
  for _, job in ipairs(m.jobs or {}) do
    local r = job.reach
    if r and (r.merge_request or r.fork) then
      for _, c in ipairs(job.cache or {}) do
        local pol = c.policy and c.policy.text or "pull-push"
        if pol ~= "pull" then
          local k = gitlab_key(c)
          writers[k] = writers[k] or {job = job, cache = c}
        end
      end
    end
  end
  for _, job in ipairs(m.jobs or {}) do
    local r = job.reach
    if gitlab_release(job) and not (r and (r.merge_request or r.fork)) then
      for _, c in ipairs(job.cache or {}) do
        local pol = c.policy and c.policy.text or "pull-push"
        local w = writers[gitlab_key(c)]
        if pol ~= "push" and w then
          ctx:fail{
            message = ("Job '%s' restores the cache '%s' that merge request job '%s' writes, so "
              .. "code from a merge request can plant files in the release; give release jobs "
              .. "their own cache key or `policy: push`, and keep GitLab's separate caches for "
              .. "protected branches on."):format(job.id, gitlab_key(c), w.job.id),
            path = c.path or (job.path ~= m.path and job.path) or nil,
            line = c.line, column = c.col,
            severity = "high", confidence = "low",
            key = ("%s:cache:%s"):format(job.route, gitlab_key(c)),
            details = {job = job.id, cache_key = gitlab_key(c), writer = w.job.id,
                       writer_line = w.cache.line},
          }
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/cache-poisoning",
  title = "Build caches must not be restored in publishing workflows",
  description = [[
Flags cache-aware steps (actions/cache, setup-python/-node/-go/-java with
caching, setup-uv, rust-cache, sccache, ...) in jobs that publish: workflows
triggered by `release`, by tag pushes or by pushes to release branches, and
jobs that use a publishing action (pypa/gh-action-pypi-publish,
docker/build-push-action with push, softprops/action-gh-release, ...) or
upload a model (hf upload, huggingface-cli upload, push_to_hub).

GitHub Actions caches are shared across the branches of a repository: a
pull request or any branch build can save a cache entry that the release
build later restores. Whoever can poison the cache (an injected PR build, a
compromised dev dependency) then gets code or data into the published
package, container image or model, signed and trusted. ML release jobs are
a prime target: they hold model-registry and PyPI tokens, and a poisoned pip
or Hugging Face cache silently changes the weights or code that ships.

Matches zizmor's cache-poisoning audit: which inputs turn each action's
cache on or off, defaults, `${{ }}` toggles (reported, with the tag-push
heuristic), the setup-uv v10 change read from the tag or the version
comment. Steps whose `if:` is statically false are skipped.

GitLab CI: a cache key that jobs run by merge request pipelines write and a
release, publish or deploy job restores (high, confidence low: GitLab keeps
separate caches for protected branches unless that setting is turned off).]],
  remediation = [[
Turn caching off in publishing jobs (or split the release job from the
cached build/test jobs and publish only artifacts built without a cache):

    - uses: actions/setup-python@<full-commit-sha> # v5.6.0
      with:
        python-version: "3.12"
        cache: ""              # no pip cache in the release job

    - uses: astral-sh/setup-uv@<full-commit-sha> # v6.4.3
      with:
        enable-cache: false

For actions/cache use `lookup-only: true` or drop the step; for
Swatinem/rust-cache `lookup-only: true`; for setup-go `cache: false`.

GitLab: keep "Use separate caches for protected branches" on (the default)
and give release jobs a key of their own:

    publish:
      cache:
        key: release-$CI_COMMIT_TAG
        paths: [.cache/pip]
        policy: push]],
  gate = "pipeline",
  severity = "high",
  confidence = "low",
  atlas = {"AML.T0010.001", "AML.T0020", "AML.M0013"},
  aliases = {"catalog:CACHE-POISON", "zizmor:cache-poisoning"},
  references = {
    "https://docs.zizmor.sh/audits/#cache-poisoning",
    "https://adnanthekhan.com/2024/05/06/the-monsters-in-your-build-cache-github-actions-cache-poisoning/",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/caching-dependencies-to-speed-up-workflows#restrictions-for-accessing-a-cache",
  },
  files = P.files("github", "gitlab"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if m and m.kind == "gitlab-ci" then return check_gitlab(m, ctx) end
    if not m or m.kind ~= "workflow" then return end
    local triggers = release_triggers(m)
    local tag_only = #triggers > 0
    for _, t in ipairs(triggers) do
      if t == "branch" then tag_only = false end
    end

    for _, job in ipairs(m.jobs or {}) do
      if job.kind == "normal" and not never_runs(job.cond) then
        local scenario, pub, pubkind
        if #triggers > 0 then
          scenario = "triggers"
        else
          pub, pubkind = publisher_step(job)
          if pub then scenario = "publisher" end
        end
        if scenario then
          for _, step in ipairs(job.steps or {}) do
            local s = slug_of(step.uses)
            local ctrl = s and CACHE_AWARE[s]
            if ctrl and not never_runs(step.cond) then
              local w = with_map(step)
              local usage, by_version = eval(ctrl, w, step.uses)
              if usage == "cond" and tag_only and ctrl.kind == "field" and ctrl.type == "bool"
                 and w[ctrl.name] then
                local inner = fenced(kv_text(w[ctrl.name]))
                local v = inner and tag_push_value(parse_expr(inner))
                if v ~= nil then
                  local enabled = (ctrl.toggle == "in") == v
                  usage = enabled and "yes" or "no"
                end
              end
              if usage ~= "no" then
                local why
                if scenario == "triggers" then
                  local words = {}
                  for _, t in ipairs(triggers) do words[#words + 1] = TRIGGER_WORDS[t] end
                  why = "this workflow runs on " .. table.concat(words, " and ")
                        .. ", so what it builds is published"
                elseif pubkind == "action" then
                  why = ("this job publishes with %s (line %d)"):format(slug_of(pub.uses), pub.uses.line)
                else
                  why = ("this job publishes in its script (line %d)"):format(pub.run.line)
                end
                local how = ({
                  default = "caches by default",
                  yes = "has caching turned on",
                  always = "always restores from the cache",
                  cond = by_version and "may cache depending on its version"
                         or "may cache depending on an expression",
                })[ctrl.kind == "always" and "always" or usage]
                ctx:fail{
                  message = ("%s %s and %s; a cache entry poisoned by another branch or "
                    .. "pull request would flow into the release: disable caching in this job.")
                    :format(s, how, why),
                  line = step.uses.line, column = step.uses.col,
                  profile = pubkind == "command" and "pedantic" or nil,
                  key = step.route .. ":cache",
                  details = {job = job.id, step = step.index, uses = step.uses.raw,
                             usage = ctrl.kind == "always" and "always" or usage,
                             scenario = scenario, triggers = triggers,
                             publisher = pub and (pub.uses and pub.uses.raw or "run") or nil},
                }
              end
            end
          end
        end
      end
    end
  end,
}
