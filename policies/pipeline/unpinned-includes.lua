-- pipeline/unpinned-includes: shared pipeline code pulled by a reference
-- its owner can move: GitLab `include:` of another project, a remote URL
-- or a CI/CD component without a commit SHA, and Jenkins shared libraries
-- (`@Library('lib@branch')`, `library 'lib'`) loaded from a branch or the
-- default branch. The catalog's PIN-INCLUDE row; the GitHub counterpart is
-- pipeline/unpinned-uses.

local P = mlgate.pipeline

-- What each pin kind means for the reader, and how bad it is.
local GITLAB = {
  none = {"high", "follows the default branch of %s"},
  branch = {"medium", "follows the branch '%s' of %s"},
  tag = {"medium", "follows the tag '%s' of %s, which can be moved"},
  latest = {"high", "follows the newest release of %s (~latest)"},
  ["short-sha"] = {"medium", "is pinned to the abbreviated commit '%s' of %s, which can become ambiguous"},
}

local function ref_text(inc)
  if inc.kind == "component" then return inc.version end
  return inc.ref and inc.ref.text or nil
end

-- A component's pin from its version, as the model computes it (kept
-- here so the policy reads the same whatever the model's version).
local function component_pin(version)
  if not version or version == "" then return "none" end
  if version == "~latest" then return "latest" end
  if version:find("$", 1, true) then return "expr" end
  if version:match("^%x+$") and #version == 40 then return "sha" end
  if version:match("^%x+$") and #version >= 7 and version:find("%a") then return "short-sha" end
  if version:match("^v?%d+[%.%d]*") then return "tag" end
  return "branch"
end

local function address(inc)
  local loc = inc.location and inc.location.text or "?"
  if inc.kind == "component" then loc = loc:gsub("@[^@/]*$", "") end
  return loc
end

local function gitlab_message(inc)
  local loc = address(inc)
  if inc.kind == "remote" then
    return "high", ("This pipeline includes %s over the network: whoever controls that URL changes this "
      .. "pipeline; vendor the file into the repository or include it from a project at a "
      .. "full commit SHA."):format(loc)
  end
  local pin = inc.kind == "component" and component_pin(inc.version) or inc.pin
  local row = GITLAB[pin]
  if not row then return nil end
  local what
  if pin == "none" or pin == "latest" then
    what = row[2]:format(loc)
  else
    what = row[2]:format(ref_text(inc) or "", loc)
  end
  local fix = inc.kind == "component"
    and "pin the component to a full commit SHA (`@<40-hex sha>`)"
    or "set `ref:` to the full 40-character commit SHA"
  return row[1], ("This %s include %s; %s."):format(inc.kind, what, fix)
end

local JENKINS = {
  none = {"high", "loads the default branch of shared library '%s'"},
  branch = {"medium", "loads shared library '%s' from the branch '%s'"},
  tag = {"medium", "loads shared library '%s' at the tag '%s', which can be moved"},
  expr = {"medium", "loads shared library '%s' at a version computed at run time (%s)"},
}

return mlgate.policy {
  id = "pipeline/unpinned-includes",
  title = "Shared pipeline code must be pinned to a commit",
  description = [[
GitLab pipelines pull jobs from other projects (`include: project:`), from
URLs (`include: remote:`) and from CI/CD components; Jenkins pipelines load
shared libraries (`@Library('ml-shared@main') _`). Whatever those files say
runs in this pipeline, with its variables, its runners and the credentials
for model registries, datasets and cloud accounts. A branch, a tag, a
component's `~latest` or no reference at all lets whoever can push to the
other project, or control the URL, change this pipeline without a change
here, and without review in this repository.

Reports remote includes, project includes without `ref:` or on a branch or
tag, components without a version or at `~latest`/a branch/a tag, and
Jenkins libraries without `@ref` (the default branch, the worst case) or on
a branch or tag. Local includes, GitLab's own templates and full commit
SHAs pass.]],
  remediation = [[
Pin to the full commit SHA and say which release it is:

    include:
      - project: ml-platform/ci-templates
        ref: 3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d   # v2.4.1
        file: /templates/train.yml
      - component: $CI_SERVER_FQDN/ml-platform/components/train@3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d

    @Library('ml-shared@3f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d') _

Vendor remote files into the repository instead of including URLs. Let a
bot (Renovate) propose SHA updates so they are reviewed like code.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013"},
  aliases = {"catalog:PIN-INCLUDE"},
  references = {
    "https://docs.gitlab.com/ci/yaml/includes/",
    "https://docs.gitlab.com/ci/components/#component-versions",
    "https://www.jenkins.io/doc/book/pipeline/shared-libraries/#library-versions",
  },
  files = P.files("gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" then
      for i, inc in ipairs(m.includes or {}) do
        if inc.kind == "project" or inc.kind == "remote" or inc.kind == "component" then
          local severity, message = gitlab_message(inc)
          if severity then
            ctx:fail{
              message = message,
              path = inc.path,
              line = inc.line, column = inc.col,
              severity = severity,
              key = ("include:%s:%s"):format(inc.kind, address(inc) or i),
              details = {kind = inc.kind, location = address(inc), ref = ref_text(inc),
                         pin = inc.kind == "component" and component_pin(inc.version) or inc.pin},
            }
          end
        end
      end
    elseif m.kind == "jenkinsfile" then
      for i, lib in ipairs(m.libraries or {}) do
        local row = JENKINS[lib.pin]
        if row then
          local what = lib.pin == "none" and row[2]:format(lib.name)
                       or row[2]:format(lib.name, lib.ref or (lib.raw and lib.raw.text) or "")
          ctx:fail{
            message = ("This pipeline %s; pin it with '%s@<full commit SHA>'."):format(what, lib.name),
            line = lib.line, column = lib.col,
            severity = row[1],
            key = ("library:%s:%d"):format(lib.name, i),
            details = {library = lib.name, ref = lib.ref, pin = lib.pin, form = lib.form},
          }
        end
      end
    end
  end,
}
