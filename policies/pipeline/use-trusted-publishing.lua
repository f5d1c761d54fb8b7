-- pipeline/use-trusted-publishing: packages published with a long-lived
-- registry token where the registry supports Trusted Publishing (OIDC).
--
-- Follows zizmor's use-trusted-publishing audit (regular persona):
--   * publishing actions configured with a stored credential:
--     pypa/gh-action-pypi-publish with `password` (for PyPI/TestPyPI or no
--     repository URL), rubygems/release-gem with setup-trusted-publisher
--     set to anything but true, rubygems/configure-rubygems-credentials
--     with `api-token` (for rubygems.org or no gem-server), actions/setup-node
--     with always-auth: true for registry.npmjs.org (or no registry-url);
--     in workflows and composite actions;
--   * publish commands in `run:` scripts of workflow jobs that cannot mint
--     an OIDC token (no `id-token: write` in effect): cargo publish, uv
--     publish, uv run twine upload, uvx twine upload, hatch/pdm publish,
--     poetry publish, twine upload (also python -m twine, pipx run twine),
--     gem push (also bundle exec gem push), npm/pnpm publish, yarn publish,
--     yarn npm publish, bunx npm publish, bun publish, nuget push, dotnet
--     nuget push; --dry-run (and -n where the tool has it) excluded. Scripts
--     are read as POSIX shell or PowerShell by the step's shell, as GitHub
--     would pick it; other shells are not read.
-- Findings point at the step's `uses:` line, or at the line where the
-- publish command starts inside the script.

local P = mlgate.pipeline

local PYPI_INDICES = {["https://upload.pypi.org/legacy/"] = true,
                      ["https://test.pypi.org/legacy/"] = true}
local RUBY_INDICES = {["https://rubygems.org"] = true}
local NPM_INDICES = {["https://registry.npmjs.org"] = true,
                     ["https://registry.npmjs.org/"] = true}

local function lower(s) return s and s:lower() end

-- The entry `name` of a kv list (with, env), or nil.
local function kv(list, name)
  if not list then return nil end
  for _, e in ipairs(list) do
    if e.name == name then return e end
  end
  return nil
end

local function text_of(e)
  return e and e.value and e.value.text
end

-- GitHub's @actions/core getBooleanInput: true/True/TRUE, false/False/FALSE.
local function toolkit_bool(s)
  if s == "true" or s == "True" or s == "TRUE" then return true end
  if s == "false" or s == "False" or s == "FALSE" then return false end
  return nil
end

-- What is wrong with a step using a publishing action, or nil.
local function judge_action(step)
  local u = step.uses
  if not u or u.kind ~= "action" or not u.owner or not u.repo then return nil end
  local id = lower(u.owner) .. "/" .. lower(u.repo)
  local with = step.with
  if id == "pypa/gh-action-pypi-publish" then
    if not kv(with, "password") then return nil end
    for _, key in ipairs({"repository-url", "repository_url"}) do
      local url = kv(with, key)
      if url and not PYPI_INDICES[text_of(url) or ""] then return nil end
    end
    return {what = "pypa/gh-action-pypi-publish with a `password`", registry = "PyPI",
            input = "password"}
  elseif id == "rubygems/release-gem" then
    local e = kv(with, "setup-trusted-publisher")
    if not e then return nil end
    local b = toolkit_bool(text_of(e))
    if b ~= false then return nil end
    return {what = "rubygems/release-gem with setup-trusted-publisher: false",
            registry = "RubyGems.org", input = "setup-trusted-publisher"}
  elseif id == "rubygems/configure-rubygems-credentials" then
    if not kv(with, "api-token") then return nil end
    local server = kv(with, "gem-server")
    if server and not RUBY_INDICES[text_of(server) or ""] then return nil end
    return {what = "rubygems/configure-rubygems-credentials with an `api-token`",
            registry = "RubyGems.org", input = "api-token"}
  elseif id == "actions/setup-node" then
    local auth = kv(with, "always-auth")
    if not auth or toolkit_bool(text_of(auth)) ~= true then return nil end
    local url = kv(with, "registry-url")
    if url and not NPM_INDICES[text_of(url) or ""] then return nil end
    return {what = "actions/setup-node with always-auth: true for registry.npmjs.org",
            registry = "npm", input = "always-auth"}
  end
  return nil
end

-- Sequential matching over the arguments, as zizmor does: `any` advances
-- past the first match, `all` checks what remains.
local function cursor(args)
  local c = {i = 1}
  function c.any(pred)
    while c.i <= #args do
      local a = args[c.i]
      c.i = c.i + 1
      if pred(a) then return a end
    end
    return nil
  end
  function c.all(pred)
    while c.i <= #args do
      local a = args[c.i]
      c.i = c.i + 1
      if not pred(a) then return false end
    end
    return true
  end
  return c
end

local function is(word) return function(a) return a == word end end
local function prefix(p) return function(a) return a:sub(1, #p) == p end end
local function none_of(...)
  local set = {}
  for _, w in ipairs({...}) do set[w] = true end
  return function(a) return not set[a] end
end

-- Registry of a publish command (cmd and its arguments as words), or nil.
local function publish_registry(cmd, args)
  local c = cursor(args)
  if cmd == "cargo" then
    return c.any(is("publish")) and c.all(none_of("--dry-run", "-n")) and "crates.io"
  elseif cmd == "uv" then
    local w = c.any(function(a) return a == "publish" or a == "run" end)
    if w == "publish" then return c.all(none_of("--dry-run")) and "PyPI" end
    if w == "run" then return c.any(is("twine")) and c.any(is("upload")) and "PyPI" end
    return nil
  elseif cmd == "uvx" then
    return c.any(prefix("twine")) and c.any(is("upload")) and "PyPI"
  elseif cmd == "hatch" or cmd == "pdm" then
    return c.any(is("publish")) and "PyPI"
  elseif cmd == "poetry" then
    return c.any(is("publish")) and c.all(none_of("--dry-run")) and "PyPI"
  elseif cmd == "twine" then
    return c.any(is("upload")) and "PyPI"
  elseif cmd == "pipx" then
    return c.any(is("run")) and c.any(prefix("twine")) and c.any(is("upload")) and "PyPI"
  elseif cmd:sub(1, 6) == "python" then
    return c.any(is("-m")) and c.any(is("twine")) and c.any(is("upload")) and "PyPI"
  elseif cmd == "gem" then
    return c.any(is("push")) and "RubyGems.org"
  elseif cmd == "bundle" then
    return c.any(is("exec")) and c.any(is("gem")) and c.any(is("push")) and "RubyGems.org"
  elseif cmd == "npm" or cmd == "pnpm" then
    return c.any(is("publish")) and c.all(none_of("--dry-run")) and "npm"
  elseif cmd == "yarn" then
    local w = c.any(function(a) return a == "publish" or a == "npm" end)
    if w == "publish" then return "npm" end
    if w == "npm" then
      return c.any(is("publish")) and c.all(none_of("--dry-run", "-n")) and "npm"
    end
    return nil
  elseif cmd == "bunx" then
    if not c.any(function(a) return a == "npm" or a:sub(1, 4) == "npm@" end) then return nil end
    return c.any(is("publish")) and c.all(none_of("--dry-run")) and "npm"
  elseif cmd == "bun" then
    return c.any(is("publish")) and c.all(none_of("--dry-run")) and "npm"
  elseif cmd == "nuget" or cmd == "nuget.exe" then
    return c.any(is("push")) and "NuGet"
  elseif cmd == "dotnet" then
    return c.any(is("nuget")) and c.any(is("push")) and "NuGet"
  end
  return nil
end

-- The shell GitHub runs a step with: step, job defaults, workflow
-- defaults (mlgate.pipeline.shell), then the runner's default (pwsh on
-- Windows), as zizmor guesses it; bash when the runner is unknown.
local function step_shell(step, job, model)
  local s = step.shell and step.shell.text
  if not s and job and job.defaults and job.defaults.shell then s = job.defaults.shell.text end
  if not s and model.defaults and model.defaults.shell then s = model.defaults.shell.text end
  if s and not s:find("${{", 1, true) then return mlgate.pipeline.shell(step, job, model) end
  local ro = job and job.runs_on
  if ro and not ro.expr then
    for _, l in ipairs(ro.labels or {}) do
      local t = l.text or ""
      if t == "linux" or t == "macOS" then return "bash" end
      if t == "windows" then return "pwsh" end
      if t:find("ubuntu-", 1, true) or t:find("macos", 1, true) then return "bash" end
      if t:find("windows-", 1, true) then return "pwsh" end
    end
  end
  return "bash"
end

-- Commands of a POSIX shell script: {name, args = {...}, offset}.
local function sh_commands(text)
  local script = mlgate.shell.parse(text)
  local out = {}
  if not script then return out end
  for _, c in ipairs(script.cmds) do
    local argv = c.argv
    if #argv >= 2 then
      local args = {}
      for i = 2, #argv do args[#args + 1] = argv[i].text end
      out[#out + 1] = {name = argv[1].text, args = args, offset = argv[1].offset}
    end
  end
  return out
end

-- Commands of a PowerShell script, enough for command names and plain
-- arguments: backtick line continuations, ';' and '|' separators, '#'
-- comments, quoted tokens.
local function pwsh_commands(text)
  local out = {}
  local cur
  local i, n = 1, #text
  local function finish()
    if cur and #cur.words >= 2 then
      local args = {}
      for k = 2, #cur.words do args[#args + 1] = cur.words[k] end
      out[#out + 1] = {name = cur.words[1], args = args, offset = cur.offset}
    end
    cur = nil
  end
  while i <= n do
    local ch = text:sub(i, i)
    if ch == "`" and (text:sub(i + 1, i + 1) == "\n" or text:sub(i + 1, i + 2) == "\r\n") then
      i = i + (text:sub(i + 1, i + 1) == "\n" and 2 or 3)
    elseif ch == "\n" or ch == ";" or ch == "|" or ch == "&" then
      finish()
      i = i + 1
    elseif ch == " " or ch == "\t" or ch == "\r" then
      i = i + 1
    elseif ch == "#" and not cur then
      local nl = text:find("\n", i, true)
      i = nl or (n + 1)
    else
      local start = i
      local word = {}
      while i <= n do
        local d = text:sub(i, i)
        if d == "'" or d == '"' then
          local close = text:find(d, i + 1, true) or n
          word[#word + 1] = text:sub(i + 1, close - 1)
          i = close + 1
        elseif d:match("[%s;|&]") or (d == "`" and text:sub(i + 1, i + 1):match("[\r\n]")) then
          break
        else
          word[#word + 1] = d
          i = i + 1
        end
      end
      if not cur then cur = {words = {}, offset = start - 1} end
      cur.words[#cur.words + 1] = table.concat(word)
    end
  end
  finish()
  return out
end

-- Whether the job (or, without job permissions, the workflow) grants
-- `id-token: write`, which lets the publish use Trusted Publishing.
local function has_id_token(job, model)
  local p = job.permissions or model.permissions
  if not p then return false end
  if p.kind == "write-all" then return true end
  return p.kind == "map" and p.levels and p.levels["id-token"] == "write"
end

-- Registries that accept GitLab CI/CD ID tokens for Trusted Publishing
-- (gitlab.com): PyPI, npm, crates.io. Jenkins has no OIDC identity that a
-- registry trusts.
local GITLAB_TP = {PyPI = true, npm = true, ["crates.io"] = true}

local TP_DOCS = {
  PyPI = "PyPI Trusted Publishing",
  ["RubyGems.org"] = "RubyGems.org Trusted Publishing",
  npm = "npm Trusted Publishing",
  ["crates.io"] = "crates.io Trusted Publishing",
  NuGet = "NuGet Trusted Publishing",
}

-- GitLab CI and Jenkins: publish commands in script lines and sh steps.
-- GitLab jobs with `id_tokens:` mint an OIDC token (the Trusted Publishing
-- exchange); Jenkins jobs are reported when a stored credential is in
-- scope, as no registry accepts a Jenkins identity.
local function check_ci(m, ctx)
  local gitlab = m.platform == "gitlab"
  local seen = {}
  for step, job in mlgate.pipeline.steps(m) do
    local text = step.run and step.run.text
    local stored
    if not gitlab then
      stored = (step.credentials and step.credentials[1]) or nil
      if not stored then
        for _, kv in ipairs(job.env or {}) do
          if kv.credential then stored = kv.name end
        end
      end
    end
    if text and (text:find("publish", 1, true) or text:find("upload", 1, true)
                 or text:find("push", 1, true))
       and (gitlab and not (job.id_tokens and job.id_tokens[1]) or stored) then
      local shell = mlgate.pipeline.shell(step, job, m)
      local cmds
      if shell == "sh" or shell == "bash" or shell == "zsh" then
        cmds = sh_commands(text)
      elseif shell == "pwsh" or shell == "powershell" then
        cmds = pwsh_commands(text)
      end
      local count = {}
      for _, c in ipairs(cmds or {}) do
        local registry = publish_registry(c.name, c.args)
        if registry and (not gitlab or GITLAB_TP[registry]) then
          local line, col = mlgate.pipeline.where(step.run, c.offset)
          local path = step.path or job.path
          local at = (path or "") .. ":" .. line .. ":" .. col
          if not seen[at] then
            seen[at] = true
            count[c.name] = (count[c.name] or 0) + 1
            local shown = c.name .. " " .. table.concat(c.args, " ")
            if #shown > 60 then shown = shown:sub(1, 57) .. "..." end
            local message
            if gitlab then
              message = ("`%s` publishes to %s with a stored token in a job without "
                .. "`id_tokens:`; add an ID token with the registry's audience and use %s "
                .. "instead."):format(shown, registry, TP_DOCS[registry])
            else
              message = ("`%s` publishes to %s with a long-lived token stored in Jenkins "
                .. "(`%s`); %s does not accept Jenkins identities, so publish from a CI "
                .. "that it trusts (GitHub Actions, GitLab CI) or use a project-scoped "
                .. "token and rotate it."):format(shown, registry, stored, TP_DOCS[registry])
            end
            ctx:fail{
              message = message,
              path = path, line = line, column = col,
              key = ("%s:run:%s:%d"):format(step.route, c.name, count[c.name]),
              details = {job = job.id, step = step.index, command = c.name,
                         registry = registry, shell = shell, credential = stored},
            }
          end
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/use-trusted-publishing",
  title = "Packages should be published with Trusted Publishing, not a stored token",
  description = [[
Flags package publishing that authenticates with a long-lived registry token
(a repository secret such as PYPI_TOKEN, NPM_TOKEN, CARGO_REGISTRY_TOKEN)
where the registry supports Trusted Publishing: PyPI and TestPyPI,
RubyGems.org, npm, crates.io and NuGet accept a short-lived OIDC token that
GitHub mints for the one job, bound to the repository, workflow and
environment that a maintainer registered. A stored token works from any
machine until someone revokes it; anyone who can read it (a compromised
step, a leaked log, an exfiltrating dependency) can publish a malicious
release of the package, and for ML projects that means every user who
`pip install`s the inference library or training toolkit.

Checked: publishing actions given a stored credential
(pypa/gh-action-pypi-publish `password:`, rubygems/release-gem
`setup-trusted-publisher: false`, rubygems/configure-rubygems-credentials
`api-token:`, actions/setup-node `always-auth: true` for npmjs), and
publish commands in `run:` scripts (twine upload, uv publish, poetry
publish, hatch/pdm publish, cargo publish, gem push, npm/pnpm/yarn/bun
publish, nuget push) in jobs without `id-token: write` (with it, these
tools use Trusted Publishing on their own). Dry runs are not flagged.
Matches zizmor's use-trusted-publishing audit; severity is informational
as there: the finding is a hardening step, not an exploitable flaw.

GitLab CI: the same publish commands in jobs without `id_tokens:`, for
registries that accept GitLab ID tokens (PyPI, npm, crates.io). Jenkins:
publish commands with a stored credential in scope (withCredentials,
environment credentials()); no registry trusts a Jenkins identity, so the
finding says where Trusted Publishing is available instead.]],
  remediation = [[
Register the workflow as a trusted publisher on the registry (PyPI:
project settings > Publishing), then let the job mint an OIDC token and
delete the stored secret:

    jobs:
      publish:
        runs-on: ubuntu-latest
        environment: pypi          # the environment named on PyPI
        permissions:
          id-token: write          # lets the job request the OIDC token
        steps:
          - uses: actions/download-artifact@<sha> # v4
            with: {name: dist, path: dist}
          - uses: pypa/gh-action-pypi-publish@<sha> # release/v1  (no password:)

`uv publish`, `twine upload` (5.1+), `cargo publish` with
rust-lang/crates-io-auth-action, `npm publish` (11.5+), `gem push` with
rubygems/configure-rubygems-credentials (no api-token) all pick up the
OIDC token when `id-token: write` is granted.

On GitLab CI, give the publishing job an ID token for the registry and
exchange it for a short-lived upload token (PyPI docs: "Trusted
Publishers > GitLab CI/CD"):

    publish:
      id_tokens:
        PYPI_ID_TOKEN:
          aud: pypi
      script:
        - 'T=$(curl -fsS -X POST https://pypi.org/_/oidc/mint-token -d "{\"token\":\"$PYPI_ID_TOKEN\"}" | jq -r .token)'
        - twine upload -u __token__ -p "$T" dist/*]],
  gate = "pipeline",
  severity = "info",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0055", "AML.M0013"},
  aliases = {"catalog:PUB-OIDC", "zizmor:use-trusted-publishing"},
  references = {
    "https://docs.zizmor.sh/audits/#use-trusted-publishing",
    "https://docs.pypi.org/trusted-publishers/",
    "https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" or m.kind == "jenkinsfile" then return check_ci(m, ctx) end
    if m.kind ~= "workflow" and m.kind ~= "action" then return end
    local workflow = m.kind == "workflow"

    for step, job in mlgate.pipeline.steps(m) do
      local r = judge_action(step)
      if r then
        local u = step.uses
        ctx:fail{
          message = ("%s publishes with a long-lived credential; configure %s for this "
            .. "workflow and remove `%s`."):format(r.what, TP_DOCS[r.registry], r.input),
          line = u.key_line or u.line, column = u.line == (u.key_line or u.line) and u.col or nil,
          key = step.route .. ":uses",
          details = {job = job and job.id, step = step.index, uses = u.raw,
                     registry = r.registry, input = r.input},
        }
      end

      local text = step.run and step.run.text
      -- Every command recognised names one of these words: skip the lexer
      -- for the scripts that cannot match.
      if workflow and job and text and (text:find("publish", 1, true)
          or text:find("upload", 1, true) or text:find("push", 1, true))
         and not has_id_token(job, m) then
        local shell = step_shell(step, job, m)
        local cmds
        if shell == "bash" or shell == "sh" or shell == "zsh" then
          cmds = sh_commands(step.run.text)
        elseif shell == "pwsh" or shell == "powershell" then
          cmds = pwsh_commands(step.run.text)
        end
        local seen = {}
        for _, c in ipairs(cmds or {}) do
          local registry = publish_registry(c.name, c.args)
          if registry then
            seen[c.name] = (seen[c.name] or 0) + 1
            local line, col = mlgate.pipeline.where(step.run, c.offset)
            local shown = c.name .. " " .. table.concat(c.args, " ")
            if #shown > 60 then shown = shown:sub(1, 57) .. "..." end
            ctx:fail{
              message = ("`%s` publishes to %s with a stored token in a job without "
                .. "`id-token: write`; grant `id-token: write` and use %s instead.")
                :format(shown, registry, TP_DOCS[registry]),
              line = line, column = col,
              key = ("%s:run:%s:%d"):format(step.route, c.name, seen[c.name]),
              details = {job = job.id, step = step.index, command = c.name,
                         registry = registry, shell = shell},
            }
          end
        end
      end
    end
  end,
}
