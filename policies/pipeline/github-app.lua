-- pipeline/github-app: GitHub App installation tokens requested wider or
-- longer-lived than needed (actions/create-github-app-token).
--
-- Follows zizmor's github-app audit:
--   * `skip-token-revoke: true` (the token outlives the job; an expression
--     there is reported with low confidence);
--   * `owner:` without `repositories:`: the token reaches every repository
--     of the installation, unless every requested permission is an
--     organisation-level one (members, organization-*, team-discussions),
--     which has no repository scope;
--   * no `permission-<name>` input: the token gets every permission of the
--     installation.
-- Anchors: the offending input's line; the `uses:` value for the last.

local function kv(list, name)
  if not list then return nil end
  for _, e in ipairs(list) do
    if e.name == name then return e end
  end
  return nil
end

local function toolkit_bool(s)
  if s == "true" or s == "True" or s == "TRUE" then return true end
  if s == "false" or s == "False" or s == "FALSE" then return false end
  return nil
end

-- Inputs of create-github-app-token that scope organisation resources.
local function org_level(name)
  return name == "permission-members" or name == "permission-team-discussions"
    or name:sub(1, 24) == "permission-organization-"
end

local function fenced(s)
  return s ~= nil and s:match("^%s*%${{.*}}%s*$") ~= nil
end

-- `with: ${{ ... }}` cannot be read (pipeline/obfuscation reports it).
-- Returns the expression (its line is where zizmor points) or nil.
local function with_is_expression(m, step)
  if step.with and #step.with > 0 then return nil end
  local route = step.route .. ".with"
  for _, e in ipairs(m.exprs or {}) do
    if e.route == route then return e end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/github-app",
  title = "GitHub App tokens should be scoped to repositories and permissions, and revoked",
  description = [[
actions/create-github-app-token mints an installation token of a GitHub App.
Such apps are usually installed organisation-wide with broad permissions
(often to push to repositories, open pull requests or publish releases), so
the token is much more powerful than the job's GITHUB_TOKEN:

- without `permission-<name>` inputs it gets every permission the
  installation has;
- with `owner:` but no `repositories:` it reaches every repository of that
  owner the app is installed on (model repositories, infrastructure code,
  data pipelines), not only the one the job works on;
- with `skip-token-revoke: true` it stays valid for up to an hour after the
  job ends, so a token leaked in a log or an artefact remains usable.

Matches zizmor's github-app audit.]],
  remediation = [[
Ask for the repositories and permissions the job uses, and keep the
default revocation:

    - uses: actions/create-github-app-token@<sha> # v2
      id: app-token
      with:
        client-id: ${{ vars.RELEASE_APP_CLIENT_ID }}
        private-key: ${{ secrets.RELEASE_APP_KEY }}
        owner: ${{ github.repository_owner }}
        repositories: model-zoo
        permission-contents: write
        permission-pull-requests: write]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-APPTOKEN", "zizmor:github-app"},
  references = {
    "https://docs.zizmor.sh/audits/#github-app",
    "https://github.com/actions/create-github-app-token#inputs",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end

    for step, job in mlgate.pipeline.steps(m) do
      local u = step.uses
      if u and u.kind == "action" and u.owner and u.repo
         and u.owner:lower() == "actions" and u.repo:lower() == "create-github-app-token"
         and not with_is_expression(m, step) then
        local with = step.with or {}
        local details = {job = job and job.id, step = step.index, uses = u.raw}

        local skip = kv(with, "skip-token-revoke")
        if skip and skip.value then
          local b = toolkit_bool(skip.value.text)
          if b == true or (b == nil and fenced(skip.value.text)) then
            ctx:fail{
              message = b and "The app token is not revoked when the job ends "
                .. "(`skip-token-revoke: true`); remove the input so that it is revoked."
                or "The app token may be left unrevoked when the job ends "
                .. "(`skip-token-revoke` is an expression); remove the input so that it is "
                .. "always revoked.",
              line = skip.line, column = skip.col, confidence = b and "high" or "low",
              key = step.route .. ":skip-token-revoke", details = details,
            }
          end
        end

        local perms, repo_perms = 0, 0
        for _, e in ipairs(with) do
          if e.name:sub(1, 11) == "permission-" then
            perms = perms + 1
            if not org_level(e.name) then repo_perms = repo_perms + 1 end
          end
        end

        local owner = kv(with, "owner")
        if owner and not kv(with, "repositories") and (perms == 0 or repo_perms > 0) then
          ctx:fail{
            message = "The app token is requested for `owner:` without `repositories:`, so "
              .. "it reaches every repository of the installation; list the repositories "
              .. "the job needs in `repositories:`.",
            line = owner.line, column = owner.col,
            key = step.route .. ":owner", details = details,
          }
        end

        if perms == 0 then
          ctx:fail{
            message = "The app token is requested without any `permission-<name>` input, so "
              .. "it gets every permission of the installation; request only the "
              .. "permissions the job uses (e.g. `permission-contents: read`).",
            line = u.line, column = u.col,
            key = step.route .. ":permissions", details = details,
          }
        end
      end
    end
  end,
}
