-- pipeline/artipacked: actions/checkout leaves the job token in .git/config
-- (persist-credentials defaults to true), where a later upload of the
-- workspace publishes it.
--
-- Follows zizmor's artipacked audit, per job (and per composite action):
--   * checkouts without `persist-credentials: false`: regular; an explicit
--     `true` is deliberate (auditor); an expression pedantic; `with:` as a
--     whole expression informational (pedantic);
--   * uploads (actions/upload-artifact) of the workspace: `path` entries
--     ".", "./", "..", "../" or an expression naming github.workspace;
--   * no such upload in the job: medium, low confidence (low for
--     checkout v6+, which keeps the credentials outside the workspace);
--     with one: each checkout before an upload is high, high confidence
--     (medium for v6+), and checkouts after the last upload are not
--     reported.
-- Findings point at the checkout step (its first line), as zizmor's do.

local P = mlgate.pipeline

local function kv(list, name)
  if not list then return nil end
  for _, e in ipairs(list) do
    if e.name == name then return e end
  end
  return nil
end

local function is_action(u, id)
  return u and u.kind == "action" and u.owner and u.repo
    and (u.owner .. "/" .. u.repo):lower() == id
end

-- Version-like ref of actions/checkout at 6 or later: true, false, or nil
-- when the ref is no version (a SHA, a branch).
local function v6_or_later(u)
  local ref = u.ref
  if not ref or u.pin == "sha" then return nil end
  local major = ref:match("^v?(%d+)[%.%d]*$")
  if not major then return nil end
  return tonumber(major) >= 6
end

local function dangerous_paths(text)
  local out = {}
  for raw in text:gmatch("[^\n]+") do
    local p = raw:match("^%s*(.-)%s*$")
    if p == "." or p == "./" or p == ".." or p == "../" then
      out[#out + 1] = p
    else
      local inner = p:match("^%${{(.*)}}$")
      if inner and inner:find("github.workspace", 1, true) then out[#out + 1] = p end
    end
  end
  return out
end


-- GitLab artifacts / Jenkins archived paths that capture credentials:
-- returns severity, what (or nil).
local CRED_FILES = {
  {"%.docker/config%.json$", "the Docker registry credentials"}, {"^%.docker/?$", "the Docker registry credentials"},
  {"^%.env$", "the .env file"}, {"/%.env$", "a .env file"}, {"%*%.env$", "every .env file"},
  {"%.netrc$", "the .netrc credentials"}, {"%.npmrc$", "the npm token file"},
  {"%.pypirc$", "the PyPI token file"}, {"%.aws/credentials$", "the AWS credentials"},
  {"^%.aws/?$", "the AWS credentials"}, {"%.kube/config$", "the Kubernetes credentials"},
  {"kubeconfig", "a kubeconfig"}, {"%.ssh/?", "SSH keys"}, {"id_[rd]sa", "SSH keys"},
  {"%*%.pem$", "private keys"}, {"%*%.key$", "private keys"},
  {"credentials%.json$", "a credentials file"}, {"service[-_]account[^/]*%.json$", "a service account key"},
  {"huggingface/token$", "the Hugging Face token"}, {"^%.cache/huggingface/?$", "the Hugging Face cache and token"},
  {"gcloud/?$", "the gcloud credentials"}, {"%.git%-credentials$", "the git credentials"},
}
local WORKSPACE = {["."] = true, ["./"] = true, ["*"] = true, ["**"] = true, ["**/*"] = true,
                   ["./**"] = true, ["./**/*"] = true, ["$CI_PROJECT_DIR"] = true,
                   ["${CI_PROJECT_DIR}"] = true, ["$WORKSPACE"] = true, ["${WORKSPACE}"] = true}

local function credential_path(p)
  if WORKSPACE[p] then return "medium", "the whole workspace (with .git and any credential file written there)" end
  p = p:gsub("^%./", ""):gsub("^~/", "")
  if p == ".git" or p == ".git/" or p:match("^%.git/") then
    return "medium", "the .git directory, whose config holds the job's clone token"
  end
  for _, c in ipairs(CRED_FILES) do
    if p:match(c[1]) then return "high", c[2] end
  end
  if WORKSPACE[p] then return "medium", "the whole workspace (with .git and any credential file written there)" end
  return nil
end

local function check_gitlab(m, ctx)
  for _, job in ipairs(m.jobs or {}) do
    local a = job.artifacts
    for _, pv in ipairs(a and a.paths or {}) do
      local sev, what = credential_path(pv.text)
      if sev then
        ctx:fail{
          message = ("Job '%s' keeps `%s` as an artifact, and with it %s, which anyone who "
            .. "can read the pipeline can download; list only the files you need in "
            .. "`artifacts: paths:`."):format(job.id, pv.text, what),
          path = pv.path or (job.path ~= m.path and job.path) or nil,
          line = pv.line, column = pv.col,
          severity = sev,
          key = ("%s:artifacts:%s"):format(job.route, pv.text),
          details = {job = job.id, artifact = pv.text},
        }
      end
    end
  end
end

local function check_jenkins(m, ctx)
  for _, job in ipairs(m.jobs or {}) do
    local creds = job.credentials and #job.credentials > 0
    for _, c in ipairs(job.calls or {}) do
      if c.name == "archiveArtifacts" then
        for _, a in ipairs(c.args or {}) do
          local v = a.value
          if v and (a.name == nil or a.name == "artifacts") and v.style ~= "code" then
            for pat in (v.text or ""):gmatch("[^,]+") do
              pat = pat:match("^%s*(.-)%s*$")
              local sev, what = credential_path(pat)
              if sev and (sev == "high" or creds) then
                ctx:fail{
                  message = ("Stage '%s' archives %s (`%s`)%s; archive only the files you "
                    .. "need."):format(job.id, what, pat,
                    creds and " while credentials are bound in it" or ""),
                  line = v.line, column = v.col,
                  severity = creds and "high" or sev,
                  key = ("%s:archive:%s"):format(job.route, pat),
                  details = {job = job.id, artifact = pat, credentials = creds or false},
                }
              end
            end
          end
        end
      end
    end
  end
end

-- `with: ${{ ... }}` on the step (the model keeps no with list then).
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
  id = "pipeline/artipacked",
  title = "actions/checkout should not persist the job token in the workspace",
  description = [[
actions/checkout writes the job's GITHUB_TOKEN (or the token it is given)
into the repository's .git/config unless `persist-credentials: false` is
set, so that later `git push` steps work. Every later step, including third
party actions and the build, test and training code of the repository, can
read it there. When the workspace is then uploaded as an artifact
(`path: .`, `${{ github.workspace }}`), the token is published with it:
artifacts of public repositories can be downloaded by anyone, and the token
stays valid until the job ends, long enough for automated harvesting
("ArtiPACKED"). ML workflows often upload whole working directories
(checkpoints, evaluation outputs, logs), which is how this happens.

Matches zizmor's artipacked audit, with its personas: a checkout without
the input is reported (medium; high when a later step uploads the
workspace), an explicit `persist-credentials: true` only in the auditor
profile, an expression in the pedantic profile. actions/checkout v6 and
later keep the credentials outside the workspace, which lowers the
severity.

GitLab CI: `artifacts: paths:` entries that capture credential files
(`.env`, `.docker/config.json`, `.netrc`, `.pypirc`, cloud and Kubernetes
credentials, private keys, the Hugging Face token) are high; the .git
directory (its config holds the job's clone token) and the whole workspace
are medium. Jenkins: `archiveArtifacts` of credential files, or of the
whole workspace in a stage with credentials bound.]],
  remediation = [[
Disable credential persistence, and pass a token only to the step that
pushes:

    - uses: actions/checkout@<sha> # v4
      with:
        persist-credentials: false

Upload only the files you mean to publish (`path: outputs/metrics.json`),
never the workspace root. In GitLab and Jenkins, list the outputs:

    artifacts:
      paths: [out/metrics.json, out/model.safetensors]

    archiveArtifacts artifacts: 'out/metrics.json, out/*.safetensors']],
  gate = "pipeline",
  severity = "medium",
  confidence = "low",
  atlas = {"AML.T0055"},
  aliases = {"catalog:CRED-PERSIST", "zizmor:artipacked"},
  references = {
    "https://docs.zizmor.sh/audits/#artipacked",
    "https://unit42.paloaltonetworks.com/github-repo-artifacts-leak-tokens/",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" then return check_gitlab(m, ctx) end
    if m.kind == "jenkinsfile" then return check_jenkins(m, ctx) end
    if m.kind ~= "workflow" and m.kind ~= "action" then return end

    local function process(steps, job)
      local checkouts, uploads = {}, {}
      for _, step in ipairs(steps or {}) do
        local u = step.uses
        if is_action(u, "actions/checkout") then
          local profile, sev, conf, why, at = "regular", nil, nil, nil, nil
          local pc = kv(step.with, "persist-credentials")
          local t = pc and pc.value and pc.value.text
          local wexpr = not pc and with_is_expression(m, step)
          if t == "false" then
            profile = nil
          elseif wexpr then
            profile, sev, conf, at = "pedantic", "info", "high", wexpr
            why = "its `with:` is an expression, so whether it keeps the token cannot be read"
          elseif t == "true" then
            profile = "auditor"
            why = "it sets `persist-credentials: true`"
          elseif t and t:find("${{", 1, true) then
            profile = "pedantic"
            why = "`persist-credentials` is an expression that may be true"
          else
            why = "it does not set `persist-credentials: false`"
          end
          if profile then
            checkouts[#checkouts + 1] = {step = step, profile = profile, severity = sev,
                                         confidence = conf, why = why, v6 = v6_or_later(u),
                                         at = at}
          end
        elseif is_action(u, "actions/upload-artifact") then
          local pe = kv(step.with, "path")
          local t = pe and pe.value and pe.vtype == "string" and pe.value.text
          if t and #dangerous_paths(t) > 0 then
            uploads[#uploads + 1] = {step = step, paths = dangerous_paths(t)}
          end
        end
      end

      for _, c in ipairs(checkouts) do
        local step = c.step
        local upload
        if #uploads > 0 then
          for _, up in ipairs(uploads) do
            if up.step.index > step.index then upload = up; break end
          end
        end
        if #uploads == 0 or upload then
          local sev, conf
          if upload then
            sev, conf = c.v6 and "medium" or "high", "high"
          else
            sev, conf = c.v6 and "low" or "medium", "low"
          end
          local msg
          if c.at then
            msg = "actions/checkout takes its inputs from an expression (`with: ${{ ... }}`), "
              .. "so whether it keeps the job token in .git/config cannot be checked; write "
              .. "the inputs out, with `persist-credentials: false`."
          elseif upload then
            msg = ("actions/checkout keeps the job token in .git/config (%s) and step %d "
              .. "uploads the workspace (`%s`) as an artifact; set `persist-credentials: "
              .. "false` and upload only the files you need."):format(c.why,
              upload.step.index, upload.paths[1])
          else
            msg = ("actions/checkout keeps the job token in .git/config, readable by every "
              .. "later step (%s); set `persist-credentials: false`."):format(c.why)
          end
          ctx:fail{
            message = msg,
            line = c.at and c.at.line or step.line, column = c.at and c.at.col or step.col,
            end_line = not c.at and (step.uses.key_line or step.uses.line) or nil,
            severity = c.severity or sev, confidence = c.confidence or conf,
            profile = c.profile ~= "regular" and c.profile or nil,
            key = step.route .. ":persist-credentials",
            details = {job = job and job.id, step = step.index, uses = step.uses.raw,
                       upload_step = upload and upload.step.index or nil,
                       upload_paths = upload and upload.paths or nil},
          }
        end
      end
    end

    if m.kind == "workflow" then
      for _, job in ipairs(m.jobs or {}) do
        if job.kind ~= "reusable" then process(job.steps, job) end
      end
    else
      process(m.runs and m.runs.steps or m.steps, nil)
    end
  end,
}
