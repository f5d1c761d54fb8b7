-- pipeline/hardcoded-credentials: a registry password written into the
-- workflow for a job container or a service container.
--
-- Same check as zizmor's hardcoded-container-credentials and actionlint's
-- credentials rule: `credentials: password:` of `container:` and of each
-- `services:` entry must be a whole `${{ ... }}` expression (a secret);
-- anything else is a literal password in the repository. The finding
-- points at the password itself.

local P = mlgate.pipeline

local function is_expression(s)
  return s:match("^%s*%${{.-}}%s*$") ~= nil
end

-- GitLab `variables:` and Jenkins `environment {}` entries named like a
-- secret (DOCKER_PASSWORD, HF_TOKEN, WANDB_API_KEY, AWS_SECRET_ACCESS_KEY)
-- whose value is a literal, not a reference to a CI/CD variable ($X) or a
-- Jenkins credentials('id').
local SECRET_WORDS = {TOKEN = true, PASSWORD = true, PASSWD = true, PASS = true, SECRET = true,
                      APIKEY = true, CREDENTIALS = true, CREDENTIAL = true, PAT = true}
local KEY_WORDS = {API = true, ACCESS = true, SECRET = true, PRIVATE = true, SIGNING = true,
                   AUTH = true, CLIENT = true, SERVICE = true, ACCOUNT = true, ENCRYPTION = true}

local function secret_name(name)
  local up = name:upper()
  local last = up:match("([%u%d]+)$")
  if not last then return false end
  if SECRET_WORDS[last] then return true end
  if last == "KEY" then
    local prev = up:match("([%u%d]+)_KEY$")
    return prev ~= nil and KEY_WORDS[prev] == true
  end
  return false
end

local function literal(kv)
  if kv.credential or kv.vtype == "expr" or kv.vtype == "null" or kv.vtype == "bool" then
    return nil
  end
  local v = kv.value
  local t = v and v.text
  if not t or t == "" or t:find("$", 1, true) or (v.style == "code") then return nil end
  return t
end

local function check_ci(m, ctx)
  local gitlab = m.platform == "gitlab"
  local seen = {}
  local function scan(list, where)
    for _, kv in ipairs(list or {}) do
      if kv.name and secret_name(kv.name) and literal(kv) then
        local path = kv.path or (kv.value and kv.value.path) or m.path
        local at = path .. ":" .. kv.line .. ":" .. kv.col
        if not seen[at] then
          seen[at] = true
          ctx:fail{
            message = gitlab and
              ("%s in %s is a literal secret in the repository; define it as a masked, "
                .. "protected CI/CD variable in the project settings (or a `secrets:` "
                .. "entry), remove it here and rotate it."):format(kv.name, where)
              or ("%s in %s is a literal secret in the Jenkinsfile; store it in Jenkins "
                .. "credentials and use `%s = credentials('id')`, then rotate it."):format(
                kv.name, where, kv.name),
            path = path, line = kv.line, column = kv.col,
            key = (path ~= m.path and (path .. ":") or "") .. "env." .. kv.name .. ":" .. kv.line,
            details = {variable = kv.name, scope = where},
          }
        end
      end
    end
  end
  if gitlab then
    scan(m.variables, "the global variables")
    for _, t in ipairs(m.templates or {}) do
      scan(t.env, ("template '%s'"):format(t.id))
    end
  else
    scan(m.environment, "the pipeline environment")
  end
  for _, job in ipairs(m.jobs or {}) do
    scan(job.env, gitlab and ("job '%s'"):format(job.id) or ("stage '%s'"):format(job.id))
  end
  -- Jenkins password parameters with a default value.
  for _, p in ipairs((not gitlab and m.parameters) or {}) do
    local d = p.default and p.default.text
    if p.type == "password" and d and d ~= "" and not d:find("$", 1, true) then
      ctx:fail{
        message = ("The password parameter %s has a literal default value in the "
          .. "Jenkinsfile; use a Jenkins credential instead and rotate it."):format(p.name),
        line = p.default.line or p.line, column = p.default.col or p.col,
        key = "parameters." .. p.name,
        details = {parameter = p.name},
      }
    end
  end
end

return mlgate.policy {
  id = "pipeline/hardcoded-credentials",
  title = "Registry and service passwords must come from secrets, not the CI file",
  description = [[
A `password:` under `container: credentials:` or `services: <name>:
credentials:` that is not a `${{ secrets.NAME }}` expression is a registry
password committed to the repository: everyone who can read the repository
(every fork of a public one, forever, through git history) can pull, and
often push, the images of that registry. For ML teams that is typically the
private registry holding training images with baked-in data access and
inference images that serve production traffic; a push credential lets an
attacker replace them.

Matches zizmor's hardcoded-container-credentials and actionlint's
credentials check. GitLab CI: `variables:` entries named like a secret
(DOCKER_PASSWORD, HF_TOKEN, WANDB_API_KEY, ...) with a literal value rather
than a `$VARIABLE` reference, globally, in templates or jobs (included
files too). Jenkins: such `environment {}` and withEnv entries that are no
`credentials('id')`, and password parameters with a default value.]],
  remediation = [[
Store the password as a secret (better: a short-lived token, or OIDC login
to the cloud registry) and reference it:

    container:
      image: registry.example.com/ml/train:2024.06@sha256:<digest>
      credentials:
        username: ${{ vars.REGISTRY_USER }}
        password: ${{ secrets.REGISTRY_TOKEN }}

Then rotate the password that was committed: it is in the git history.
GitLab: move the value to a masked, protected CI/CD variable (Settings >
CI/CD > Variables) and delete the `variables:` entry. Jenkins: store it as
a credential and write `PASS = credentials('registry-pass')`.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0055", "AML.T0010.001"},
  aliases = {"catalog:CRED-HARDCODED", "zizmor:hardcoded-container-credentials",
             "actionlint:credentials"},
  references = {
    "https://docs.zizmor.sh/audits/#hardcoded-container-credentials",
    "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idcontainercredentials",
  },
  files = P.files("github", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" or m.kind == "jenkinsfile" then return check_ci(m, ctx) end
    if m.kind ~= "workflow" then return end

    local function check_image(img, what, key, job)
      local cred = img and img.credentials
      local pw = cred and cred.password
      if not pw or not pw.text or pw.text == "" or is_expression(pw.text) then return end
      ctx:fail{
        message = ("The registry password of %s is written in the workflow; store it as a "
          .. "secret and use `password: ${{ secrets.NAME }}`, then rotate it."):format(what),
        line = pw.line, column = pw.col,
        key = key,
        details = {job = job.id, image = img.raw,
                   username = cred.username and cred.username.text or nil},
      }
    end

    for _, job in ipairs(m.jobs or {}) do
      check_image(job.container, ("job '%s''s container"):format(job.id),
        job.route .. ".container.credentials", job)
      for _, svc in ipairs(job.services or {}) do
        check_image(svc.image, ("service '%s' of job '%s'"):format(svc.name, job.id),
          job.route .. ".services." .. svc.name .. ".credentials", job)
      end
    end
  end,
}
