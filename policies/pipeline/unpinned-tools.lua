-- pipeline/unpinned-tools: setup actions and scripts that install whatever
-- version of a tool is newest at run time.
--
-- Follows zizmor's unpinned-tools audit (aquasecurity/setup-trivy,
-- 1password/load-secrets-action with no `version` or `version: latest`,
-- extractions/setup-just and setup-crate with `*`; a `${{ }}` version is
-- reported with low confidence; steps whose `if:` is statically false are
-- skipped) and adds setup actions documented to default to the latest
-- release (hashicorp/setup-terraform, setup-packer, azure/setup-helm,
-- setup-kubectl) and downloads of GitHub `releases/latest` assets in
-- `run:` scripts.

local P = mlgate.pipeline

-- owner/repo -> {input, values that mean "latest"}; the tool is unpinned
-- by default when the input is absent.
local TOOLS = {
  ["aquasecurity/setup-trivy"] = {"version", {"latest"}},
  ["1password/load-secrets-action"] = {"version", {"latest"}},
  ["extractions/setup-just"] = {"just-version", {"*"}},
  ["extractions/setup-crate"] = {"version", {"*"}},
  ["hashicorp/setup-terraform"] = {"terraform_version", {"latest"}},
  ["hashicorp/setup-packer"] = {"version", {"latest"}},
  ["azure/setup-helm"] = {"version", {"latest"}},
  ["azure/setup-kubectl"] = {"version", {"latest"}},
}

-- GitHub's releases/latest and GitLab's release permalink to the latest.
local LATEST_URL = mlgate.re.compile(
  [[https?://(?:www\.)?github\.com/[^/\s"']+/[^/\s"']+/releases/latest(?:/download/[^\s"'|;&)]*)?|]] ..
  [[https?://[^/\s"']+/(?:[^/\s"']+/)+-/releases/permalink/latest(?:/downloads/[^\s"'|;&)]*)?]], "i")
local DOWNLOADERS = {curl = true, wget = true, gh = false, aria2c = true,
                     ["Invoke-WebRequest"] = true, iwr = true}

local function fenced(text)
  local inner = text:match("^%s*%${{(.-)}}%s*$")
  if inner and not inner:find("}}", 1, true) then return inner end
  return nil
end

local function never_runs(cond)
  if not cond or not cond.text then return false end
  local t = fenced(cond.text) or cond.text
  t = t:match("^%s*(.-)%s*$")
  if t == "false" then return true end
  if mlgate.gha and mlgate.gha.parse then
    local ok, ast = pcall(mlgate.gha.parse, t)
    while ok and ast and ast.type == "group" do ast = ast.left end
    return ok and ast ~= nil and ast.type == "literal" and ast.value == false
  end
  return false
end

local function slug_of(u)
  if not u or u.kind ~= "action" or not u.owner or not u.repo then return nil end
  if u.subpath and u.subpath ~= "" then return nil end
  return u.owner:lower() .. "/" .. u.repo:lower()
end

return mlgate.policy {
  id = "pipeline/unpinned-tools",
  title = "Tools installed in CI must be pinned to a version",
  description = [[
Flags setup actions that install the newest release of a tool unless told
otherwise (aquasecurity/setup-trivy, 1password/load-secrets-action,
extractions/setup-just and setup-crate, hashicorp/setup-terraform and
setup-packer, azure/setup-helm and setup-kubectl) when no version is given
or the version is `latest`/`*`, and scripts that download GitHub
`releases/latest` assets. Pinning the action's commit does not pin the tool
it downloads: a hijacked release of the scanner, secret loader or CLI runs
in the job next to the registry tokens and cloud credentials of the ML
pipeline. A `${{ }}` version is reported with low confidence. The same
downloads are reported in GitLab CI script lines and Jenkins sh steps.]],
  remediation = [[
Pass an explicit version (and let Dependabot/Renovate bump it):

    - uses: aquasecurity/setup-trivy@<full-commit-sha> # v0.2.2
      with:
        version: v0.58.1

For downloads, fetch a versioned asset and check its digest:
`curl -fsSLO https://github.com/o/r/releases/download/v1.2.3/tool.tar.gz`
followed by `sha256sum -c tool.tar.gz.sha256`.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013"},
  aliases = {"catalog:PIN-TOOL", "zizmor:unpinned-tools"},
  references = {
    "https://docs.zizmor.sh/audits/#unpinned-tools",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m then return end
    local kind = m.kind
    if kind ~= "workflow" and kind ~= "action" and kind ~= "gitlab-ci" and kind ~= "jenkinsfile" then
      return
    end
    -- GitLab lines shared by jobs (default:, extends, anchors) once.
    local seen = {}
    for step, job in P.steps(m) do
      if not never_runs(step.cond) and not (job and never_runs(job.cond)) then
        local s = slug_of(step.uses)
        local t = s and TOOLS[s]
        if t then
          local input, latest = t[1], t[2]
          local kv
          for _, e in ipairs(step.with or {}) do
            if e.name == input then kv = e end
          end
          local text = kv and kv.value and kv.value.text
          local details = {job = job and job.id or nil, step = step.index, uses = step.uses.raw,
                           input = input}
          if not kv then
            ctx:fail{
              message = ("%s is used without `%s`, so it installs whatever release is newest "
                .. "at run time; set `%s` to a fixed version."):format(s, input, input),
              line = step.uses.line, column = step.uses.col,
              key = step.route .. ":" .. input, details = details,
            }
          elseif text and fenced(text) then
            ctx:fail{
              message = ("%s takes `%s` from an expression that may select the latest release; "
                .. "make sure it always resolves to a fixed version."):format(s, input),
              line = kv.line, column = kv.col, confidence = "low",
              key = step.route .. ":" .. input, details = details,
            }
          elseif text then
            for _, l in ipairs(latest) do
              if text == l then
                ctx:fail{
                  message = ("%s is told `%s: %s`, which installs whatever release is newest at "
                    .. "run time; set a fixed version."):format(s, input, text),
                  line = kv.line, column = kv.col,
                  key = step.route .. ":" .. input, details = details,
                }
              end
            end
          end
        end
        local run = step.run
        local low = run and run.text and run.text:lower()
        if low and (low:find("releases/latest", 1, true) or low:find("permalink/latest", 1, true))
           and mlgate.shell and mlgate.shell.parse then
          local script = mlgate.shell.parse(run.text)
          for ci, cmd in ipairs(script and script.cmds or {}) do
            local argv = cmd.argv or {}
            local i = 1
            while argv[i] and (argv[i].text == "sudo" or argv[i].text == "env") do i = i + 1 end
            local tool = argv[i] and (argv[i].text:match("[^/]+$") or "")
            if tool and DOWNLOADERS[tool] then
              for j = i + 1, #argv do
                local url = LATEST_URL:match(argv[j].text)
                local line, col, at
                if url then
                  line, col = P.where(run, cmd.offset)
                  at = (step.path or "") .. ":" .. line .. ":" .. col
                  if kind == "gitlab-ci" and seen[at] then url = nil end
                  seen[at] = true
                end
                if url then
                  ctx:fail{
                    message = ("%s downloads %s, whatever release is newest at run time; download "
                      .. "a versioned release asset and verify its checksum."):format(tool, url),
                    path = step.path or (job and job.path), line = line, column = col,
                    key = step.route .. ":latest:" .. ci,
                    details = {job = job and job.id or nil, step = step.index, url = url},
                  }
                  break
                end
              end
            end
          end
        end
      end
    end
  end,
}
