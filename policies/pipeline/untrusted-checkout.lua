-- pipeline/untrusted-checkout: a privileged workflow (pull_request_target,
-- workflow_run, issue_comment; workflow_call with low confidence) checks
-- out the contribution's code (the pull request head or merge commit, the
-- triggering run's head) and a later step of the same job builds, installs,
-- tests or runs it.
--
-- Same idea as poutine's untrusted_checkout_exec, written over the model:
-- checkouts are actions/checkout with a `ref:`/`repository:` naming the PR
-- head (or refs/pull/N/...), and scripts that `gh pr checkout`, or
-- `git fetch`/`checkout`/`pull` the PR ref; executions are commands the
-- shell lexer finds (npm ci, make, pip install ., python train.py, dvc
-- repro, ./script.sh, ...) and actions that run repository code (local
-- `./` actions, pre-commit/action, ...). One finding per executing step,
-- at the line of its first such command (or its `uses:`).

local PRIVILEGED = {
  pull_request_target = "high", workflow_run = "high", issue_comment = "high",
  workflow_call = "low",
}

-- Context paths whose value names the contribution's code.
local HEAD_PATHS = {
  ["github.event.pull_request.head.sha"] = true,
  ["github.event.pull_request.head.ref"] = true,
  ["github.event.pull_request.head.label"] = true,
  ["github.event.pull_request.head.repo.full_name"] = true,
  ["github.event.pull_request.head.repo.clone_url"] = true,
  ["github.event.pull_request.head.repo.ssh_url"] = true,
  ["github.event.pull_request.merge_commit_sha"] = true,
  ["github.head_ref"] = true,
  ["github.event.workflow_run.head_sha"] = true,
  ["github.event.workflow_run.head_branch"] = true,
  ["github.event.workflow_run.head_commit.id"] = true,
  ["github.event.workflow_run.head_repository.full_name"] = true,
  ["github.event.workflow_run.pull_requests.*.head.sha"] = true,
  ["github.event.workflow_run.pull_requests.*.head.ref"] = true,
}
-- Numbers that name a pull request (used in refs/pull/N/head|merge).
local PR_NUMBER_PATHS = {
  ["github.event.pull_request.number"] = true, ["github.event.number"] = true,
  ["github.event.issue.number"] = true,
  ["github.event.workflow_run.pull_requests.*.number"] = true,
}

-- Actions that run code from the workspace.
local EXEC_ACTIONS = {
  ["pre-commit/action"] = "pre-commit hooks from the checkout",
  ["oxsecurity/megalinter"] = "MegaLinter with the checkout's configuration and plugins",
  ["bridgecrewio/checkov-action"] = "checkov with the checkout's external checks",
  ["github/codeql-action/autobuild"] = "the checkout's build",
  ["docker/build-push-action"] = "a Docker build of the checkout's Dockerfile",
  ["borales/actions-yarn"] = "yarn",
  ["gradle/gradle-build-action"] = "the checkout's Gradle build",
  ["coactions/setup-xvfb"] = "the given command",
  ["cypress-io/github-action"] = "npm install and the checkout's Cypress tests",
  ["paambaati/codeclimate-action"] = "the coverage command",
  ["nick-fields/retry"] = "the given command",
}

local WRAPPERS = {sudo = true, env = true, time = true, nohup = true, ["xvfb-run"] = true,
  exec = true, timeout = true, nice = true, ionice = true, stdbuf = true, command = true}

local NPM_SUB = {install = true, i = true, ci = true, run = true, ["run-script"] = true,
  test = true, t = true, start = true, build = true, exec = true, x = true, rebuild = true,
  pack = true, publish = true, ["install-test"] = true, it = true, restart = true}
local GO_SUB = {build = true, run = true, test = true, generate = true, install = true}
local CARGO_SUB = {build = true, b = true, run = true, r = true, test = true, t = true,
  check = true, c = true, bench = true, install = true, clippy = true, doc = true}
local DOTNET_SUB = {build = true, run = true, test = true, publish = true, pack = true,
  msbuild = true, restore = true}
local PY_TOOLS_SUB = {
  uv = {sync = true, run = true, build = true, pip = true, tool = false},
  poetry = {install = true, run = true, build = true},
  pdm = {install = true, run = true, build = true, sync = true},
  hatch = {run = true, build = true, test = true, env = true},
  pipenv = {install = true, run = true, sync = true},
  conda = {env = true, run = true}, mamba = {env = true, run = true},
  micromamba = {create = true, install = true, run = true},
  dvc = {repro = true, exp = true, run = true},
  mlflow = {run = true},
  ["pre-commit"] = {run = true, install = true, ["try-repo"] = true},
  terraform = {plan = true, apply = true, init = true, validate = true},
  docker = {build = true, compose = true, buildx = true},
  podman = {build = true}, buildah = {bud = true, build = true},
  ["docker-compose"] = {up = true, run = true, build = true},
  bundle = {install = true, exec = true},
  composer = {install = true, update = true, ["run-script"] = true, run = true},
  mkdocs = {build = true, serve = true, ["gh-deploy"] = true},
  jupyter = {nbconvert = true, execute = true},
  kedro = {run = true}, snakemake = true, accelerate = {launch = true},
  streamlit = {run = true}, jekyll = {build = true}, swift = {build = true, run = true, test = true},
  flutter = {test = true, build = true, run = true}, dart = {run = true, test = true},
}
-- Commands that always run code from the working tree.
local ALWAYS = {
  make = true, gmake = true, cmake = true, ninja = true, meson = true, bazel = true,
  bazelisk = true, buck = true, buck2 = true, pants = true, scons = true, ant = true,
  mvn = true, mvnw = true, gradle = true, gradlew = true, sbt = true, lein = true,
  mix = true, rebar3 = true, msbuild = true, xcodebuild = true, rake = true,
  pytest = true, ["py.test"] = true, tox = true, nox = true, yarn = true, pnpm = true,
  bun = true, npx = true, pnpx = true, bunx = true, torchrun = true, deepspeed = true,
  papermill = true, ["sphinx-build"] = true, gomplate = true, vale = true,
  snakemake = true, nextflow = true,
}
local INTERPRETERS = {python = true, python2 = true, python3 = true, node = true,
  deno = true, tsx = true, ["ts-node"] = true, ruby = true, perl = true, php = true,
  Rscript = true, rscript = true, julia = true, bash = true, sh = true, zsh = true,
  dash = true, ksh = true, pwsh = true, powershell = true, lua = true}

local function text_of(v) return type(v) == "table" and v.text or v end

local function basename(s) return (s:match("([^/]+)$") or s) end

-- The command a word list runs, past wrappers and VAR=x prefixes.
local function command_words(argv)
  local i = 1
  while argv[i] do
    local t = argv[i].text or ""
    local b = basename(t)
    if WRAPPERS[b] then
      i = i + 1
      -- skip wrapper options and VAR=value (env), durations (timeout 10m)
      while argv[i] and ((argv[i].text or ""):match("^%-") or (argv[i].text or ""):match("^[%w_]+=")
            or ((b == "timeout" or b == "nice") and (argv[i].text or ""):match("^%d"))) do
        i = i + 1
      end
    else
      break
    end
  end
  return i
end

-- Why a command runs repository code, or nil.
local function exec_reason(argv)
  local i = command_words(argv)
  local w = argv[i]
  if not w or not w.text then return nil end
  local raw = w.text
  local cmd = basename(raw):gsub("%.exe$", "")
  local sub = argv[i + 1] and argv[i + 1].text or nil
  local line = raw
  for j = i + 1, math.min(#argv, i + 4) do line = line .. " " .. (argv[j].text or "") end
  -- a script of the checkout run by path: ./x.sh, scripts/build.sh, bin/run
  if raw:find("/", 1, true) and not raw:find("^/") and not raw:find("^~") and not raw:find("%$")
     and not raw:find("^%a+:") then
    return line
  end
  if ALWAYS[cmd] then
    if (cmd == "npx" or cmd == "pnpx" or cmd == "bunx") and not sub then return nil end
    return line
  end
  if cmd == "npm" then return sub and NPM_SUB[sub] and line or nil end
  if cmd == "go" then return sub and GO_SUB[sub] and line or nil end
  if cmd == "cargo" then return sub and CARGO_SUB[sub] and line or nil end
  if cmd == "dotnet" then return sub and DOTNET_SUB[sub] and line or nil end
  if cmd == "gem" then return (sub == "build" or sub == "install") and line or nil end
  if cmd:match("^pip%d*[%.%d]*$") then
    if sub ~= "install" and sub ~= "wheel" and sub ~= "download" then return nil end
    for j = i + 2, #argv do
      local a = argv[j].text or ""
      if a == "." or a:match("^%.%.?/") or a == "-e" or a == "--editable" or a == "-r"
         or a == "--requirement" or a:match("^%-r.") or a:match("requirements.*%.txt$")
         or a:match("%.whl$") or a:match("^[%w_%-]+/") or a:match("setup%.py$") then
        return line
      end
    end
    return nil
  end
  local t = PY_TOOLS_SUB[cmd]
  if t == true then return line end
  if type(t) == "table" then return sub and t[sub] and line or nil end
  if INTERPRETERS[cmd] or cmd:match("^python%d[%.%d]*$") then
    -- an interpreter given a file or module of the checkout
    local j = i + 1
    while argv[j] do
      local a = argv[j].text or ""
      if a == "-c" or a == "-e" or a == "--eval" or a == "-Command" or a == "--version"
         or a == "-V" or a == "--help" then
        return nil
      end
      if a == "-m" then
        local mod = argv[j + 1] and argv[j + 1].text or ""
        if mod == "pip" then
          local sub2 = argv[j + 2] and argv[j + 2].text
          if sub2 ~= "install" then return nil end
          for k = j + 3, #argv do
            local x = argv[k].text or ""
            if x == "." or x:match("^%.%.?/") or x == "-e" or x == "-r" or x:match("requirements") then
              return line
            end
          end
          return nil
        end
        if mod == "venv" or mod == "json.tool" or mod == "http.server" or mod == "site" then
          return nil
        end
        return line
      end
      if not a:match("^%-") then
        if a:match("%.[%w]+$") or a:find("/", 1, true) then return line end
        return nil
      end
      j = j + 1
    end
    return nil
  end
  return nil
end

-- Context paths in a string (every ${{ }}).
local function paths_in(text)
  local out = {}
  if type(text) ~= "string" or not text:find("${{", 1, true) then return out end
  for _, sp in ipairs(mlgate.gha.find(text) or {}) do
    local inner = sp.expr
    if type(inner) ~= "string" then
      inner = text:sub((sp.inner or 0) + 1, (sp.inner or 0) + (sp.inner_len or 0))
    end
    for _, r in ipairs(mlgate.gha.refs(inner) or {}) do out[#out + 1] = r.path end
  end
  return out
end

local function hint_name(path)
  return path:match("^steps%.") or path:match("^needs%.") or path:match("^env%.")
    or path:match("^inputs%.")
end

-- Confidence that a ref/repository/script text names the contribution:
-- "high", "medium" or nil; and the evidence.
local function names_head(text, env_list, model, job, step)
  if type(text) ~= "string" then return nil end
  local best, ev
  if text:find("refs/pull/", 1, true) or text:find("pull/%$") or text:find("pull/${{", 1, true) then
    best, ev = "high", "refs/pull/"
  end
  for _, p in ipairs(paths_in(text)) do
    if HEAD_PATHS[p] then return "high", "${{ " .. p .. " }}" end
    if PR_NUMBER_PATHS[p] and text:find("pull", 1, true) then return "high", "${{ " .. p .. " }}" end
    if hint_name(p) then
      local lp = p:lower()
      -- env.X / steps.x.outputs.y that carry a PR head value
      local _, _, via = mlgate.taint.classify(p, model, job, step)
      local followed = via and via:lower() or ""
      for hp in pairs(HEAD_PATHS) do
        if followed:find(hp, 1, true) then return "high", "${{ " .. p .. " }} (" .. via .. ")" end
      end
      if (lp:find("head") or lp:find("pr_") or lp:find("pull") or lp:find("sha")
          or lp:find("%.ref$") or lp:find("branch")) and not lp:find("base") then
        best, ev = best or "medium", ev or ("${{ " .. p .. " }}")
      end
    end
  end
  -- $VAR in scripts: follow the step's env
  for name in text:gsub("%${{.-}}", ""):gmatch("%$%{?([%a_][%w_]*)") do
    if name == "GITHUB_HEAD_REF" then return "high", "$GITHUB_HEAD_REF" end
    for _, kv in ipairs(env_list or {}) do
      if kv.name == name and kv.value then
        for _, p in ipairs(paths_in(kv.value.text)) do
          if HEAD_PATHS[p] then return "high", "$" .. name .. " (${{ " .. p .. " }})" end
          if PR_NUMBER_PATHS[p] and text:find("pull", 1, true) then
            return "high", "$" .. name .. " (${{ " .. p .. " }})"
          end
        end
      end
    end
  end
  return best, ev
end

local function kv_text(list, name)
  for _, kv in ipairs(list or {}) do
    if type(kv.name) == "string" and kv.name:lower() == name then
      return kv.value and kv.value.text, kv
    end
  end
  return nil
end

-- A checkout of the contribution in this step: {line=, confidence=, evidence=, path=}.
local function checkout_of(step, model, job)
  local u = step.uses
  if u and u.kind == "action" and (u.owner or ""):lower() == "actions"
     and (u.repo or ""):lower() == "checkout" then
    local best, ev
    for _, k in ipairs({"ref", "repository"}) do
      local t = kv_text(step.with, k)
      local c, e = names_head(t, step.env, model, job, step)
      if c == "high" then best, ev = c, e break end
      if c and not best then best, ev = c, e end
    end
    if best then
      return {line = u.line or step.line, confidence = best, evidence = ev,
              path = kv_text(step.with, "path"), what = "actions/checkout"}
    end
    return nil
  end
  local text = text_of(step.run)
  if type(text) ~= "string" or not (text:find("git", 1, true) or text:find("gh", 1, true)
     or text:find("hub", 1, true)) then
    return nil
  end
  local script = mlgate.shell.parse(text)
  for _, cmd in ipairs(script and script.cmds or {}) do
    local argv = cmd.argv or {}
    local i = command_words(argv)
    local c0 = argv[i] and basename(argv[i].text or "")
    local sub = argv[i + 1] and argv[i + 1].text
    local words = {}
    for j = i, #argv do words[#words + 1] = argv[j].text or "" end
    local joined = table.concat(words, " ")
    local hit, conf, ev
    if (c0 == "gh" or c0 == "hub") and sub == "pr" and argv[i + 2] and argv[i + 2].text == "checkout" then
      hit, conf, ev = true, "high", c0 .. " pr checkout"
    elseif c0 == "git" and (sub == "fetch" or sub == "checkout" or sub == "switch" or sub == "pull"
            or sub == "clone" or sub == "reset" or sub == "merge") then
      local raw = text:sub((cmd.offset or 0) + 1, (cmd.offset or 0) + (cmd.len or #text))
      conf, ev = names_head(raw, step.env, model, job, step)
      if not conf and (joined:find("pull/", 1, true)) then conf, ev = "high", "pull/" end
      hit = conf ~= nil
    end
    if hit then
      return {line = mlgate.pipeline.where(step.run, cmd.offset or 0), confidence = conf,
              evidence = ev, what = joined:sub(1, 60)}
    end
  end
  return nil
end

local FORK_GUARDS = {
  "head%.repo%.full_name%s*==%s*github%.repository",
  "github%.repository%s*==%s*github%.event%.pull_request%.head%.repo%.full_name",
  "head%.repo%.fork%s*==%s*false", "!%s*github%.event%.pull_request%.head%.repo%.fork",
  "head_repository%.full_name%s*==%s*github%.repository",
  "github%.repository%s*==%s*github%.event%.workflow_run%.head_repository%.full_name",
  "head_repository%.fork%s*==%s*false",
}
local SOFT_GUARDS = {"author_association", "labels", "label%.name", "github%.actor%s*==",
  "triggering_actor"}

local function cond_text(x)
  return (text_of(x and x.cond) or ""):lower()
end

local function guarded(texts)
  for _, t in ipairs(texts) do
    for _, g in ipairs(FORK_GUARDS) do
      if t:find(g) then return "fork" end
    end
  end
  for _, t in ipairs(texts) do
    for _, g in ipairs(SOFT_GUARDS) do
      if t:find(g) then return "soft" end
    end
  end
  return nil
end

local RANK = {low = 1, medium = 2, high = 3}
local function min_conf(a, b) return RANK[a] <= RANK[b] and a or b end

return mlgate.policy {
  id = "pipeline/untrusted-checkout",
  title = "Privileged workflows must not build or run the pull request's code",
  description = [[
pull_request_target, workflow_run and issue_comment workflows run with the
base repository's secrets and a GITHUB_TOKEN that can write. When such a
workflow checks out the contribution (the pull request's head or merge
commit, the head of the run that triggered it, `gh pr checkout`) and then
builds, installs, tests or runs it, the contribution's author decides what
runs: an `npm ci` lifecycle script, a Makefile, a setup.py or conftest.py,
a `train.py`, a DVC stage or a pre-commit hook is their code, executed with
the repository's write token and every secret in scope, which for ML
projects means the model registry, Hugging Face and cloud training
credentials. This is the "pwn request" pattern behind most compromises of
GitHub repositories.

Reported: in a workflow with one of those triggers (workflow_call with low
confidence, since the caller decides), each step after such a checkout in
the same job that executes workspace code: package managers and build tools
(npm/yarn/pnpm install, ci, run; make, cmake, mvn, gradle, cargo, go build/
test/generate, dotnet, bundle, composer), Python installs of the checkout
(`pip install .`, `-e`, `-r requirements.txt`, uv/poetry/pdm/hatch), test
runners (pytest, tox, nox), interpreters given a file or module of the
checkout (`python train.py`, `node build.js`, `bash scripts/x.sh`), scripts
run by path (`./run.sh`), ML tools (accelerate launch, torchrun,
deepspeed, dvc repro, mlflow run, papermill, jupyter nbconvert --execute,
kedro run), Docker builds, terraform plan, pre-commit, and actions that run
workspace code (local `./` actions, pre-commit/action, docker/build-push-
action, codeql autobuild, ...). The finding is at the first such command of
the step. A job or step condition that excludes forks
(`github.event.pull_request.head.repo.full_name == github.repository`) skips
it; label, author_association or actor conditions and a checkout into a
`path:` the step does not visibly use lower the confidence.]],
  remediation = [[
Build and test contributions in a `pull_request` workflow, which gets a
read-only token and no secrets for forks. If results must reach a
privileged workflow, pass them as plain data (an artifact of JSON or text)
and never execute anything from it:

    on: pull_request            # not pull_request_target
    permissions:
      contents: read
    jobs:
      eval:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@<sha>
            with:
              persist-credentials: false
          - run: pip install -e . && python eval.py --out metrics.json
          - uses: actions/upload-artifact@<sha>
            with: {name: metrics, path: metrics.json}

If a privileged job must look at the contribution, check it out into a
separate directory and only read files there (no install, build or test),
or require a maintainer's approval through a protected environment.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0049", "AML.T0050", "AML.T0055"},
  aliases = {"catalog:PRIV-CHECKOUT-EXEC", "poutine:untrusted_checkout_exec",
             "scorecard:Dangerous-Workflow"},
  references = {
    "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    "https://boostsecurityio.github.io/poutine/rules/untrusted_checkout_exec/",
    "https://github.com/ossf/scorecard/blob/main/docs/checks.md#dangerous-workflow",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local trig = mlgate.pipeline.triggers(m)
    local base, trigger
    for _, name in ipairs({"pull_request_target", "workflow_run", "issue_comment", "workflow_call"}) do
      if trig[name] and (not base or RANK[PRIVILEGED[name]] > RANK[base]) then
        base, trigger = PRIVILEGED[name], name
      end
    end
    if not base then return end

    local reported = {} -- steps reached twice through YAML aliases
    for _, job in ipairs(m.jobs or {}) do
      local co -- the most recent checkout of the contribution in this job
      for _, step in ipairs(job.steps or {}) do
        local found = checkout_of(step, m, job)
        if found then
          co = found
          co.step = step
        elseif co then
          local line, col, what
          local u = step.uses
          if u and u.kind == "local" then
            line, col, what = u.line, u.col, "the local action " .. tostring(u.raw)
              .. " (its action.yml is part of that code)"
          elseif u and u.kind == "action" and u.owner and u.repo then
            local key = (u.owner .. "/" .. u.repo):lower()
            if u.subpath and u.subpath ~= "" then key = key .. "/" .. u.subpath:lower() end
            local d = EXEC_ACTIONS[key]
            if key == "ruby/setup-ruby" then
              local b = kv_text(step.with, "bundler-cache")
              if b and b:lower() == "true" then d = "bundle install of the checkout's Gemfile" end
            end
            if d then line, col, what = u.line, u.col, d .. " (" .. tostring(u.raw) .. ")" end
          elseif step.run and type(step.run.text) == "string" then
            local script = mlgate.shell.parse(step.run.text)
            for _, cmd in ipairs(script and script.cmds or {}) do
              local r = exec_reason(cmd.argv or {})
              if r then
                line, col = mlgate.pipeline.where(step.run, cmd.offset or 0)
                what = "`" .. r .. "`"
                break
              end
            end
          end
          if line and not reported[line .. ":" .. tostring(col)] then
            reported[line .. ":" .. tostring(col)] = true
            local conds = {cond_text(job), cond_text(step), cond_text(co.step)}
            local g = guarded(conds)
            if g ~= "fork" then
              local conf = min_conf(base, co.confidence)
              if g == "soft" or job.environment then conf = min_conf(conf, "medium") end
              if co.path and co.path ~= "" then
                local wd = text_of(step.working_directory) or ""
                local body = text_of(step.run) or ""
                if not (wd:find(co.path, 1, true) or body:find(co.path, 1, true)) then
                  conf = min_conf(conf, "medium")
                end
              end
              ctx:fail{
                message = ("This step runs %s against the pull request's code, checked out at "
                  .. "line %d (%s), in this %s workflow, which holds the repository's secrets "
                  .. "and write token; build and test contributions in a pull_request workflow "
                  .. "instead."):format(what, co.line or 0, co.evidence or co.what, trigger),
                line = line, column = col,
                confidence = conf,
                key = (step.route or (job.id .. ":" .. step.index)) .. ":exec",
                details = {job = job.id, step = step.index, trigger = trigger,
                           checkout_line = co.line, checkout = co.evidence,
                           command = what, guard = g},
              }
            end
          end
        end
      end
    end
  end,
}
