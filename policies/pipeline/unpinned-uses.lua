-- pipeline/unpinned-uses: every action, reusable workflow and docker://
-- image a GitHub workflow or composite action uses is pinned to an
-- immutable reference (a full commit SHA; a sha256 digest for images).
--
-- Compatible with zizmor's unpinned-uses audit (regular persona, default
-- policy "*": hash-pin since zizmor 1.20), including its `policies`
-- configuration and its `# zizmor: ignore[unpinned-uses]` comments.

local LEVELS = {["hash-pin"] = 3, ["ref-pin"] = 2, any = 1}

-- Parses a zizmor-style pattern: "*", "owner/*", "owner/repo",
-- "owner/repo/*", "owner/repo/sub/path". Returns {kind, owner, repo, path,
-- rank} (higher rank = more specific) or nil and why.
local function parse_pattern(p)
  if p == "*" then return {kind = "any", rank = 0} end
  local owner, rest = p:match("^([%w_.%-]+)/(.+)$")
  if not owner then
    return nil, "must be '*', 'owner/*', 'owner/repo', 'owner/repo/*' or 'owner/repo/path'"
  end
  owner = owner:lower()
  if rest == "*" then return {kind = "owner", owner = owner, rank = 1} end
  local repo, sub = rest:match("^([%w_.%-]+)/?(.*)$")
  if not repo or sub:find("@", 1, true) then
    return nil, "must be '*', 'owner/*', 'owner/repo', 'owner/repo/*' or 'owner/repo/path' "
      .. "(no @ref)"
  end
  repo = repo:lower()
  if sub == "" then return {kind = "repo", owner = owner, repo = repo, rank = 3} end
  if sub == "*" then return {kind = "in-repo", owner = owner, repo = repo, rank = 2} end
  if sub:find("*", 1, true) then return nil, "'*' may only stand alone as the last segment" end
  return {kind = "path", owner = owner, repo = repo, path = sub:lower(), rank = 4}
end

local function pattern_matches(pt, owner, repo, sub)
  if pt.kind == "any" then return true end
  if pt.owner ~= owner then return false end
  if pt.kind == "owner" then return true end
  if pt.repo ~= repo then return false end
  if pt.kind == "in-repo" then return true end
  if pt.kind == "repo" then return sub == "" end
  return pt.path == sub
end

-- The validated policy table from params (cached: params do not change
-- within one evaluation), or raises with a message for ctx:error.
local compiled
local function policies_of(ctx)
  if compiled then return compiled end
  local raw = ctx.params.policies
  if type(raw) ~= "table" then
    error("param 'policies' must map action patterns to hash-pin, ref-pin or any", 0)
  end
  local list = {}
  for _, pat in ipairs(mlgate.keys(raw)) do
    local level = raw[pat]
    if type(pat) ~= "string" then
      error("param 'policies': keys must be patterns like 'actions/*'", 0)
    end
    if not LEVELS[level] then
      error(("param 'policies': '%s' must be hash-pin, ref-pin or any, not %s"):format(
        pat, tostring(level)), 0)
    end
    local pt, why = parse_pattern(pat)
    if not pt then error(("param 'policies': pattern '%s' %s"):format(pat, why), 0) end
    pt.pattern, pt.level = pat, level
    list[#list + 1] = pt
  end
  -- An empty mapping means the default, as in zizmor.
  if #list == 0 then list[1] = {kind = "any", rank = 0, pattern = "*", level = "hash-pin"} end
  compiled = list
  return list
end

-- The most specific policy entry matching owner/repo/sub; "*": hash-pin
-- applies when no pattern matches.
local function required(list, owner, repo, sub)
  local best
  for _, pt in ipairs(list) do
    if pattern_matches(pt, owner, repo, sub) and (not best or pt.rank > best.rank) then
      best = pt
    end
  end
  return best and best.level or "hash-pin", best and best.pattern or "*"
end

local function is_sha(ref)
  return #ref == 40 and not ref:find("[^0-9a-fA-F]")
end

-- Whether a comment names this audit (zizmor's suppression syntax).
local function ignored(text)
  local list = text and text:match("zizmor:%s*ignore%[([^%]]*)%]")
  if not list then return false end
  for item in list:gmatch("[^,%s]+") do
    if item == "unpinned-uses" then return true end
  end
  return false
end

-- Describes what is wrong with one `uses:` value, or nil when it is fine
-- (or not a reference this policy understands: schema checks report those).
local function judge(value, list)
  local v = value:match("^%s*(.-)%s*$")
  if v:sub(1, 2) == "./" then return nil end
  if v:sub(1, 9) == "docker://" then
    local image = v:sub(10)
    if image:find("@sha256:" .. ("[0-9a-fA-F]"):rep(64) .. "$") then return nil end
    return {
      kind = "docker", uses = v, required = "digest",
      message = ("%s is not pinned by digest, so whoever controls the image tag decides "
        .. "what this step runs; pin it as docker://IMAGE@sha256:<digest>."):format(v),
    }
  end
  local owner, repo, sub, ref = v:match("^([%w_.%-]+)/([%w_.%-]+)/?([^@]*)@?(.*)$")
  if not owner then return nil end
  local has_at = v:find("@", 1, true) ~= nil
  local level, pattern = required(list, owner:lower(), repo:lower(), sub:lower())
  local workflow = sub:find("^%.github/workflows/[^/]+%.ya?ml$") ~= nil
  local r = {kind = workflow and "reusable-workflow" or "action", uses = v, owner = owner,
             repo = repo, subpath = sub ~= "" and sub or nil, ref = has_at and ref or nil,
             required = level, policy = pattern}
  if level == "any" then return nil end
  local label = (workflow and "Reusable workflow " or "") .. v
  if not has_at or ref == "" then
    r.message = ("%s has no ref, so each run takes whatever the default branch of %s/%s holds "
      .. "then; pin it to a full 40-character commit SHA."):format(label, owner, repo)
    return r
  end
  if level == "ref-pin" then return nil end
  if is_sha(ref) then return nil end
  if #ref >= 7 and #ref < 40 and not ref:find("[^0-9a-fA-F]") then
    r.message = ("%s uses an abbreviated commit, which GitHub does not accept as a pin; "
      .. "use the full 40-character commit SHA."):format(label)
  else
    r.message = ("%s follows the tag or branch '%s', which its owner can move to other code; "
      .. "pin the full 40-character commit SHA it points to, with '# %s' as a comment."):format(
      label, ref, ref)
  end
  return r
end

return mlgate.policy {
  id = "pipeline/unpinned-uses",
  title = "GitHub Actions must be pinned to a full commit SHA",
  description = [[
Checks every `uses:` in GitHub Actions workflows (.github/workflows/*.yml)
and composite actions (action.yml): step actions, job-level reusable
workflows and `docker://` images. A tag or branch (`@v4`, `@main`) is a
pointer its owner, or anyone who compromises the owner's account, can move to
different code; the next run of the pipeline then executes that code with the
job's secrets and token. Only a full 40-character commit SHA (a sha256 digest
for docker:// images) names immutable content. Local actions (`./...`) are
part of the repository and are not checked.

The default matches zizmor's unpinned-uses audit (regular persona), whose
default since zizmor 1.20 requires hash pins for every owner, first-party
`actions/*` included. Param `policies` takes zizmor's configuration format to
relax it per owner or repository: a mapping from `*`, `owner/*`,
`owner/repo`, `owner/repo/*` or `owner/repo/path` to `hash-pin`, `ref-pin`
(any ref, but a ref is required) or `any`; the most specific pattern wins. As
in zizmor, a `# zizmor: ignore[unpinned-uses]` comment on the line of the
reference suppresses it (param `honor_zizmor_ignores`, default true; each
suppression is logged). Findings point at the reference itself: the value of
`uses:` (for a block scalar, the line holding the text).]],
  remediation = [[
Replace the tag by the commit it currently points to and keep the tag in a
comment so that update tools (Dependabot, Renovate) and reviewers still see
the version:

    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2

`git ls-remote https://github.com/actions/checkout refs/tags/v4.2.2` prints
the SHA (for an annotated tag use the `^{}` line). For docker:// images use
`docker buildx imagetools inspect IMAGE:TAG` and pin `IMAGE@sha256:<digest>`.
`zizmor --fix` and `pinact` can rewrite a whole repository.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013", "AML.M0014"},
  aliases = {"catalog:PIN-USES", "zizmor:unpinned-uses", "scorecard:Pinned-Dependencies"},
  references = {
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions",
    "https://docs.zizmor.sh/audits/#unpinned-uses",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},
  params = {
    policies = {["*"] = "hash-pin"},
    honor_zizmor_ignores = true,
  },

  check = function(file, ctx)
    local ok, list = pcall(policies_of, ctx)
    if not ok then return ctx:error(list) end
    local honor = ctx.params.honor_zizmor_ignores
    if type(honor) ~= "boolean" then
      return ctx:error("param 'honor_zizmor_ignores' must be true or false")
    end

    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end

    -- Comments by line, for zizmor's ignore comments.
    local comments = {}
    if honor then
      for _, c in ipairs(m.comments or {}) do comments[c.line] = c.text end
    end

    for u, step, job in mlgate.pipeline.uses(m) do
      local r = judge(u.raw, list)
      if r then
        if honor and (ignored(comments[u.line]) or ignored(comments[u.key_line])) then
          mlgate.log.info("%s:%d: honouring '# zizmor: ignore[unpinned-uses]' for %s",
            file.path, u.line, r.uses)
        else
          ctx:fail{
            message = r.message,
            line = u.line, column = u.col, end_line = u.line, end_column = u.col + #u.raw,
            -- a docker:// step is also an unpinned container image
            aliases = r.kind == "docker" and {"catalog:PIN-IMAGE", "zizmor:unpinned-images"}
              or nil,
            key = (step and step.route or job and job.route or "") .. ":" .. u.raw,
            details = {uses = r.uses, kind = r.kind, ref = r.ref, required = r.required,
                       policy = r.policy, job = job and job.id, step = step and step.index},
          }
        end
      end
    end
  end,
}
