-- pipeline/forbidden-uses: actions and reusable workflows outside a
-- configured allow-list or on a deny-list (zizmor's forbidden-uses; also
-- the offline form of poutine's github_action_from_unverified_creator_used:
-- list the owners you trust in `allow`). Nothing is reported until one of
-- the params is set.

local P = mlgate.pipeline

local function glob_to_pattern(seg)
  local p = seg:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*")
  return "^" .. p .. "$"
end

-- Parses "*", "owner/*", "owner/repo", "owner/repo/*", "owner/repo/sub",
-- each optionally with "@ref" (not after "*"); repo and subpath may hold
-- "*" globs. Returns a matcher or nil, why.
local function parse(p)
  if type(p) ~= "string" then return nil, "must be a string" end
  if p == "*" then return {any = true, text = p} end
  local body, ref = p:match("^([^@]+)@(.+)$")
  body = body or p
  local owner, repo, sub = body:match("^([%w_%-]+)/([^/]+)/?(.*)$")
  if not owner then
    return nil, "must be '*', 'owner/*', 'owner/repo', 'owner/repo/*' or 'owner/repo/path' (optionally @ref)"
  end
  local pt = {text = p, owner = owner:lower(), ref = ref}
  if repo == "*" then
    if sub ~= "" or ref then return nil, "'owner/*' takes no subpath or ref" end
    pt.any_repo = true
    return pt
  end
  pt.repo = glob_to_pattern(repo:lower())
  if sub == "*" then
    if ref then return nil, "'owner/repo/*' takes no ref" end
    pt.any_sub = true
  elseif sub ~= "" then
    pt.sub = glob_to_pattern(sub:lower():gsub("/+$", ""))
  end
  return pt
end

local function matches(pt, owner, repo, sub, ref)
  if pt.any then return true end
  if pt.owner ~= owner then return false end
  if pt.any_repo then return true end
  if not repo:match(pt.repo) then return false end
  if not pt.any_sub then
    if pt.sub then
      if not sub:match(pt.sub) then return false end
    elseif sub ~= "" then
      return false
    end
  end
  if pt.ref and pt.ref ~= ref then return false end
  return true
end

local function compile(list, name)
  if type(list) ~= "table" then
    error(("param '%s' must be a list of patterns like 'actions/*'"):format(name), 0)
  end
  local out = {}
  for _, p in ipairs(list) do
    local pt, why = parse(p)
    if not pt then error(("param '%s': pattern '%s' %s"):format(name, tostring(p), why), 0) end
    out[#out + 1] = pt
  end
  return out
end


-- GitLab includes and Jenkins libraries: shell-like globs over what they
-- name ("ml-platform/*", "ml-platform/**", "https://raw.example.com/**",
-- "ml-shared"); `*` stays within one path segment, `**` crosses them.
local function glob_re(g)
  local out = {"^"}
  local i = 1
  while i <= #g do
    local c = g:sub(i, i)
    if c == "*" and g:sub(i + 1, i + 1) == "*" then
      out[#out + 1] = ".*"
      i = i + 2
    elseif c == "*" then
      out[#out + 1] = "[^/]*"
      i = i + 1
    else
      out[#out + 1] = c:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0")
      i = i + 1
    end
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

local function compile_globs(list, name)
  if type(list) ~= "table" then
    error(("param '%s' must be a list of globs like 'ml-platform/*'"):format(name), 0)
  end
  local out = {}
  for _, g in ipairs(list) do
    if type(g) ~= "string" or g == "" then
      error(("param '%s': entries are non-empty strings"):format(name), 0)
    end
    out[#out + 1] = {text = g, re = glob_re(g:lower())}
  end
  return out
end

-- What a GitLab include or Jenkins library names, for the lists.
local function shared_refs(m)
  local out = {}
  if m.kind == "gitlab-ci" then
    for _, inc in ipairs(m.includes or {}) do
      if inc.kind ~= "local" and inc.location then
        local name = inc.location.text
        if inc.kind == "component" then
          name = name:gsub("@[^@/]*$", ""):gsub("^%$CI_SERVER_FQDN/", ""):gsub("^%${CI_SERVER_FQDN}/", "")
        end
        out[#out + 1] = {name = name, kind = inc.kind .. " include", line = inc.line,
                         col = inc.col, path = inc.path}
      end
    end
  elseif m.kind == "jenkinsfile" then
    for _, lib in ipairs(m.libraries or {}) do
      out[#out + 1] = {name = lib.name, kind = "shared library", line = lib.line, col = lib.col}
    end
  end
  return out
end

local function check_shared(m, ctx)
  local ok, allow = pcall(compile_globs, ctx.params.allow_includes, "allow_includes")
  if not ok then return ctx:error(allow) end
  local ok2, deny = pcall(compile_globs, ctx.params.deny_includes, "deny_includes")
  if not ok2 then return ctx:error(deny) end
  if #allow > 0 and #deny > 0 then
    return ctx:error("params 'allow_includes' and 'deny_includes' cannot both be set; use one of them")
  end
  if #allow == 0 and #deny == 0 then return end
  local list = #allow > 0 and allow or deny
  for _, r in ipairs(shared_refs(m)) do
    local hit
    for _, g in ipairs(list) do
      if r.name:lower():match(g.re) then hit = g break end
    end
    if (#allow > 0 and not hit) or (#deny > 0 and hit) then
      ctx:fail{
        message = #allow > 0
          and ("The %s %s is not on the approved list (param allow_includes); use an approved "
            .. "one or get it reviewed and added."):format(r.kind, r.name)
          or ("The %s %s matches the banned pattern '%s' (param deny_includes); replace it."):format(
            r.kind, r.name, hit.text),
        path = r.path,
        line = r.line, column = r.col,
        key = r.kind .. ":" .. r.name,
        details = {name = r.name, kind = r.kind, pattern = hit and hit.text or nil,
                   mode = #allow > 0 and "allow" or "deny"},
      }
    end
  end
end

return mlgate.policy {
  id = "pipeline/forbidden-uses",
  title = "Only approved actions and reusable workflows may be used",
  description = [[
Enforces an organisation's list of approved (param `allow`) or banned
(param `deny`) actions and reusable workflows. Patterns: `*`, `owner/*`,
`owner/repo` (the repository's root action), `owner/repo/*` (any action
or workflow in it), `owner/repo/path`, each optionally with `@ref`
(`actions/checkout@v4`); `*` also works inside the repository and path
names (`my-org/ml-*`). With `allow`, anything not matching is reported;
with `deny`, anything matching is. Set one of them, not both; with
neither (the default) the policy reports nothing. An allow-list of
verified owners is the offline form of "action from an unverified
creator": every action runs with the job's secrets, so ML platform teams
typically allow their own org, `actions/*` and a reviewed set of vendors.

GitLab includes (project, remote, template, component) and Jenkins shared
libraries have their own lists, params `allow_includes` / `deny_includes`:
globs over the project path, URL, template name, component address
(without the host variable and version) or library name, where `*` stays
within one path segment and `**` crosses them (`ml-platform/**`).]],
  remediation = [=[
Replace the action by an approved one, or get it reviewed and add it to
the list in mlgate.yml:

    policies:
      pipeline/forbidden-uses:
        params:
          allow: ["actions/*", "my-org/*", "docker/build-push-action"]]=],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0016"},
  aliases = {"catalog:DEP-POLICY", "zizmor:forbidden-uses",
             "poutine:github_action_from_unverified_creator_used"},
  references = {"https://docs.zizmor.sh/audits/#forbidden-uses"},
  files = P.files("github", "action", "gitlab", "jenkins"),
  params = {allow = {}, deny = {}, allow_includes = {}, deny_includes = {}},

  check = function(file, ctx)
    local kind = mlgate.pipeline.kind(file.path)
    if kind == "gitlab-ci" or kind == "jenkinsfile" then
      local m = P.load(file.path)
      if m then check_shared(m, ctx) end
      return
    end
    local ok, allow = pcall(compile, ctx.params.allow, "allow")
    if not ok then return ctx:error(allow) end
    local ok2, deny = pcall(compile, ctx.params.deny, "deny")
    if not ok2 then return ctx:error(deny) end
    if #allow > 0 and #deny > 0 then
      return ctx:error("params 'allow' and 'deny' cannot both be set; use one of them")
    end
    if #allow == 0 and #deny == 0 then return end
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    for u, step, job in P.uses(m) do
      if (u.kind == "action" or u.kind == "reusable") and u.owner and u.repo then
        local owner, repo = u.owner:lower(), u.repo:lower()
        local sub = (u.subpath or ""):gsub("^/+", ""):gsub("/+$", ""):lower()
        local ref = u.ref or ""
        local hit
        local list = #allow > 0 and allow or deny
        for _, pt in ipairs(list) do
          if matches(pt, owner, repo, sub, ref) then hit = pt break end
        end
        local bad = (#allow > 0 and not hit) or (#deny > 0 and hit)
        if bad then
          ctx:fail{
            message = #allow > 0
              and ("%s is not on the approved list of actions (param allow); use an approved "
                .. "action or get this one reviewed and added."):format(u.raw)
              or ("%s matches the banned pattern '%s' (param deny); replace it with an approved "
                .. "action."):format(u.raw, hit.text),
            line = u.line, column = u.col,
            key = (step and step.route or (job and job.route) or "") .. ":" .. owner .. "/" .. repo,
            details = {uses = u.raw, pattern = hit and hit.text or nil,
                       mode = #allow > 0 and "allow" or "deny",
                       job = job and job.id or nil, step = step and step.index or nil},
          }
        end
      end
    end
  end,
}
