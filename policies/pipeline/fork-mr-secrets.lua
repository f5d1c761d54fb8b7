-- pipeline/fork-mr-secrets: jobs that merge-request (pull-request) pipelines
-- run, that bring secrets or protected variables into scope or deploy to
-- an environment. The catalog's SEC-FORK-MR row: GitLab jobs whose rules
-- let merge request pipelines run them; Jenkins stages that run for change
-- requests (`when { changeRequest() }`) with credentials.

local P = mlgate.pipeline

-- Variables GitLab gives every job: not secrets of the project.
local function predefined(name)
  return name:match("^CI_") or name:match("^GITLAB_") or name == "DOCKER_AUTH_CONFIG"
end

local DEPLOY_ENV = {"prod", "production", "live", "release", "deploy"}

local function deploy_env(job)
  local env = job.environment
  local name = env and env.name and env.name.text
  if not name then return nil end
  local lower = name:lower()
  for _, w in ipairs(DEPLOY_ENV) do
    if lower:find(w, 1, true) then
      local action = env.action and env.action.text
      if action ~= "stop" and action ~= "prepare" and action ~= "verify" then return env end
    end
  end
  return nil
end

-- Programs that run code from the checked-out tree (build files, test
-- suites, install hooks): with them a job executes the merge request's
-- code, not only its data.
local BUILDERS = {make = true, cmake = true, ninja = true, pytest = true, tox = true, nox = true,
                  gradle = true, gradlew = true, mvn = true, cargo = true, npm = true,
                  yarn = true, pnpm = true, bun = true, poetry = true, pipenv = true,
                  hatch = true, pdm = true, dvc = true, bazel = true, rake = true, bundle = true}

local function base(s) return ((s or ""):match("[^/\\]+$") or s or ""):lower() end

-- The first line of the job that runs repository code, or nil.
local function runs_repo_code(job)
  for _, step in ipairs(job.steps or {}) do
    local run = step.run
    local script = run and run.text ~= "" and mlgate.shell.parse(run.text)
    for _, c in ipairs(script and script.cmds or {}) do
      local a = c.argv or {}
      local w1 = a[1] and a[1].text or ""
      local name = base(w1)
      local arg = a[2] and a[2].text or ""
      local hit = BUILDERS[name] or w1:match("^%./") or w1:match("^scripts?/")
        or ((name == "bash" or name == "sh") and arg ~= "" and arg:sub(1, 1) ~= "-")
        or (name:match("^python[%d.]*$") and arg:match("%.py$"))
        or (name:match("^pip[%d.]*$") and arg == "install" and (a[3] and (a[3].text == "-e"
            or a[3].text == "." or a[3].text == "-r")))
        or (name == "docker" and arg == "build")
        or (name == "go" and (arg == "test" or arg == "build" or arg == "run"))
      if hit then
        local line = mlgate.pipeline.where(run, c.offset)
        return line, arg ~= "" and (w1 .. " " .. arg) or w1
      end
    end
  end
  return nil
end

-- The file a GitLab kv or reference is in: the variable's own path, else
-- the job's.
local function path_of(job, s)
  for _, kv in ipairs(job.env or {}) do
    if kv.name == s.name and kv.line == s.line then return kv.path or job.path end
  end
  return job.path
end

return mlgate.policy {
  id = "pipeline/fork-mr-secrets",
  title = "Merge request pipelines must not get secrets or deploy",
  description = [[
Anyone who can open a merge request decides what its pipeline runs: the
scripts, the Makefile, the training code and the requirements come from
the request's branch. A job that merge request pipelines can start and that
reads deploy tokens, model-registry or cloud credentials, or deploys to a
production environment, hands those to the author of the change. In GitLab
that is a job whose `rules:` (or `only: merge_requests`, or workflow rules)
let `merge_request_event` pipelines run it, including pipelines that
maintainers run in the parent project for merge requests from forks; in
Jenkins a stage limited to change requests (`when { changeRequest() }`)
that binds credentials.

When the job also runs code from the checked-out tree (a build file, the
test suite, `./scripts/...`, `pip install -e .`), the finding also carries
`catalog:PRIV-CHECKOUT-EXEC`: the request's code then runs next to the
secret.

Reports the first place each secret enters such a job (a `variables:`
entry, a script line that reads a secret variable, a `withCredentials` or
`credentials()` binding) and production `environment:` deploys. Severity is
high when fork merge requests can run the job, medium when only merge
requests from branches of the project can.]],
  remediation = [[
Run jobs that need secrets only for protected branches and tags, and keep
merge request jobs secret-free:

    deploy_model:
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      environment: production
      script: ./deploy.sh

Mark the variables Protected (and Masked) in the project settings, so that
GitLab never passes them to merge request pipelines, and do not run fork
merge request pipelines in the parent project for untrusted authors. In
Jenkins, keep `withCredentials` out of stages that run for change requests.]],
  gate = "pipeline",
  severity = "high",
  confidence = "medium",
  atlas = {"AML.T0055", "AML.T0010.001"},
  aliases = {"catalog:SEC-FORK-MR"},
  references = {
    "https://docs.gitlab.com/ci/pipelines/merge_request_pipelines/#use-with-forked-projects",
    "https://docs.gitlab.com/ci/variables/#protect-a-cicd-variable",
    "https://www.jenkins.io/doc/book/pipeline/multibranch/#supporting-pull-requests",
  },
  params = {
    -- More variable names to treat as secrets when scripts read them.
    secret_variables = {},
  },
  files = P.files("gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or (m.kind ~= "gitlab-ci" and m.kind ~= "jenkinsfile") then return end
    for _, job in ipairs(m.jobs or {}) do
      -- Secret-like variables the job's scripts read ($MODEL_REGISTRY_TOKEN):
      -- project variables never appear in the file but are in scope.
      local extra = {}
      for _, name in ipairs(ctx.params.secret_variables or {}) do extra[name] = true end
      for _, step in ipairs(job.steps or {}) do
        local text = step.run and step.run.text or ""
        for name in text:gmatch("%$%{?([%a_][%w_]*)") do
          if P.secretish(name) and not predefined(name) then extra[name] = true end
        end
      end
      local reach = P.reach(m, job)
      local mr = reach.merge_request or reach.fork
      if m.kind == "jenkinsfile" then
        mr = mr and job.when and job.when.change_request == true
      end
      if mr then
        local severity = reach.fork and "high" or "medium"
        -- Secrets next to the request's own code: also PRIV-CHECKOUT-EXEC.
        local exec_line, exec_what = runs_repo_code(job)
        local also = exec_line and {"catalog:PRIV-CHECKOUT-EXEC"} or nil
        local who = reach.fork and "merge requests from forks" or "merge requests"
        local noun = m.kind == "jenkinsfile" and "Stage" or "Job"
        for _, s in ipairs(P.secrets(m, job, extra)) do
          if s.name ~= "*" and not (m.kind == "gitlab-ci" and predefined(s.name)) then
            ctx:fail{
              message = ("%s '%s' runs for %s and brings %s into scope%s; run it only for "
                .. "protected branches or tags, or drop the secret from it."):format(
                noun, job.id, who, s.name, exec_line
                  and (" while it runs the request's code (`%s`, line %d)"):format(exec_what, exec_line)
                  or ""),
              aliases = also,
              path = m.kind == "gitlab-ci" and path_of(job, s) or nil,
              line = s.line, column = s.col,
              severity = severity,
              key = ("%s:secret:%s"):format(job.route, s.name),
              details = {job = job.id, secret = s.name, via = s.via, fork = reach.fork or false,
                         runs_code_line = exec_line},
            }
          end
        end
        local env = deploy_env(job)
        if env then
          ctx:fail{
            message = ("%s '%s' deploys to '%s' and runs for %s; deploy only from protected "
              .. "branches or tags."):format(noun, job.id, env.name.text, who),
            path = m.kind == "gitlab-ci" and (env.path or job.path) or nil,
            aliases = also,
            line = env.line, column = env.col,
            severity = severity,
            key = ("%s:environment"):format(job.route),
            details = {job = job.id, environment = env.name.text, fork = reach.fork or false},
          }
        end
      end
    end
  end,
}
