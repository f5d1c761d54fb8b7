-- pipeline/github-env: a step of a privileged workflow (pull_request_target,
-- workflow_run) or of a composite action writes data that is not a literal
-- to $GITHUB_ENV or $GITHUB_PATH. Later steps of the job start with that
-- environment: LD_PRELOAD=, NODE_OPTIONS=, BASH_ENV=, a PATH entry in the
-- checkout, or a multi-line value that smuggles such a line in, and the
-- attacker's code runs with the job's secrets.
--
-- Compatible with zizmor's github-env audit: the same triggers, the same
-- exemption of echo/printf with literal arguments only, bash/sh/zsh via the
-- shell lexer, pwsh/powershell redirections and Out-File/Add-Content/
-- Set-Content/Tee-Object, cmd `>> %GITHUB_ENV%`; the finding is at the
-- step's `run:` key, as zizmor places it, and spans to the last write.
-- $GITHUB_OUTPUT writes of attacker text (which can forge other outputs of
-- the step with a newline) are reported with --profile pedantic only.

local DANGEROUS = {pull_request_target = true, workflow_run = true}
local FILES = {GITHUB_ENV = true, GITHUB_PATH = true, GITHUB_OUTPUT = true}
local WRITE_OPS = {[">"] = true, [">>"] = true, [">|"] = true, ["&>"] = true, ["&>>"] = true}
local ECHO_LIKE = {echo = true, printf = true}

local function text_of(v) return type(v) == "table" and v.text or v end

-- "/bin/bash -e {0}" -> "bash"; "pwsh.exe" -> "pwsh"
local function normalize_shell(s)
  if type(s) ~= "string" or s:find("${{", 1, true) then return nil end
  local first = s:match("^%s*(%S+)")
  if not first then return nil end
  first = first:match("([^/\\]+)$"):lower():gsub("%.exe$", "")
  return first
end

local function step_shell(m, job, step)
  local s = text_of(step.shell)
  if not s and job and job.defaults then s = text_of(job.defaults.shell) end
  if not s and m.defaults then s = text_of(m.defaults.shell) end
  local sh = normalize_shell(s)
  if sh then return sh end
  if not s and job and job.runs_on and not job.runs_on.expr then
    -- the runner's default shell: pwsh on Windows, bash elsewhere
    for _, l in ipairs(job.runs_on.labels or {}) do
      local t = (text_of(l) or ""):lower()
      if t == "windows" or t:find("windows-", 1, true) then return "pwsh" end
      if t == "linux" or t == "macos" or t:find("ubuntu-", 1, true) or t:find("macos", 1, true) then
        return "bash"
      end
    end
  end
  return "bash" -- as zizmor: an unknown shell is most likely bash
end

-- The environment file a shell word names: $GITHUB_ENV, ${GITHUB_ENV}, "$GITHUB_ENV".
local function env_file_of(word)
  local t = word and word.text
  if type(t) ~= "string" then return nil end
  local name = t:match("^%${?(GITHUB_[%u_]+)}?$")
  if name and FILES[name] and (t:sub(2, 2) ~= "{" or t:sub(-1) == "}") then return name end
  return nil
end

-- Class of what an argument word carries (templates, $VARs of the script,
-- env: and the runner, followed through mlgate.taint) and the trails of
-- the attacker-controlled parts.
local function word_taint(w, m, job, step, vars)
  local c, via = mlgate.taint.word(w.text or "", m, job, step, vars)
  local sources = {}
  if (c == "arbitrary" or c == "structured") and via then sources[1] = via end
  return c, sources
end

-- Whether a command only writes literal text: echo/printf whose arguments
-- have no $ expansion (and whose ${{ }} carry fixed values only), or cat of
-- a heredoc without expansions.
local function literal_producer(cmd, m, job, step)
  local argv = cmd.argv or {}
  if #argv == 0 then return false end -- a redirected group or subshell: unknown
  local name = argv[1].text
  if ECHO_LIKE[name] then
    for i = 2, #argv do
      local w = argv[i]
      if w.expansion then return false end
      if w.template then
        local c = mlgate.taint.text(w.text or "", m, job, step)
        if c ~= "fixed" then return false end
      end
    end
    return true
  end
  if name == "cat" and #argv == 1 then
    for _, r in ipairs(cmd.redirs or {}) do
      if r.heredoc then
        local quoted = r.target and r.target.quoted
        local body = r.heredoc
        if not quoted and body:gsub("%${{.-}}", ""):find("[$`]") then return false end
        if body:find("${{", 1, true) and mlgate.taint.text(body, m, job, step) ~= "fixed" then
          return false
        end
        return true
      end
    end
  end
  return false
end

-- Everything a producer writes, for the taint of the finding.
local function producer_taint(cmd, m, job, step, vars)
  local worst, sources = nil, {}
  for i = 2, #(cmd.argv or {}) do
    local c, src = word_taint(cmd.argv[i], m, job, step, vars)
    worst = mlgate.taint.worse(worst, c)
    for _, s in ipairs(src) do sources[#sources + 1] = s end
  end
  for _, r in ipairs(cmd.redirs or {}) do
    if r.heredoc and r.heredoc:find("[$]") then
      local c, src = word_taint({text = r.heredoc}, m, job, step, vars)
      worst = mlgate.taint.worse(worst, c)
      for _, s in ipairs(src) do sources[#sources + 1] = s end
    end
  end
  for _, a in ipairs(cmd.assigns or {}) do
    local c, src = word_taint(a, m, job, step, vars)
    worst = mlgate.taint.worse(worst, c)
    for _, s in ipairs(src) do sources[#sources + 1] = s end
  end
  return worst, sources
end

-- Writes in a POSIX shell script: {file=, offset=, class=, sources=}.
local function bash_writes(text, m, job, step)
  local script = mlgate.shell.parse(text)
  local out = {}
  if not script or not script.cmds then return out end
  local cmds = script.cmds
  local vars = mlgate.taint.shell_vars(script, m, job, step)
  for idx, cmd in ipairs(cmds) do
    local target
    for _, r in ipairs(cmd.redirs or {}) do
      if WRITE_OPS[r.op] then
        local f = env_file_of(r.target)
        if f then target = f end
      end
    end
    local producers = {}
    local argv = cmd.argv or {}
    local a1 = argv[1] and argv[1].text
    local ti = 1
    if a1 == "sudo" and argv[2] then ti, a1 = 2, argv[2].text end
    if not target and a1 == "tee" then
      for i = ti + 1, #argv do
        local f = env_file_of(argv[i])
        if f then target = f end
      end
      if target then
        -- what tee copies: the earlier commands of its pipeline
        for j = idx - 1, 1, -1 do
          local p = cmds[j]
          if p.pipeline ~= cmd.pipeline or p.depth ~= cmd.depth then break end
          table.insert(producers, 1, p)
        end
        if #producers == 0 then producers = {{argv = {}}} end
      end
    elseif target then
      producers = {cmd}
    end
    if target then
      local literal = true
      for _, p in ipairs(producers) do
        if not literal_producer(p, m, job, step) then literal = false end
      end
      if not literal then
        local worst, sources = nil, {}
        for _, p in ipairs(producers) do
          local c, src = producer_taint(p, m, job, step, vars)
          worst = mlgate.taint.worse(worst, c)
          for _, s in ipairs(src) do sources[#sources + 1] = s end
        end
        out[#out + 1] = {file = target, offset = (producers[1].offset or cmd.offset or 0),
                         class = worst, sources = sources}
      end
    end
  end
  return out
end

-- Splits text into lines with their 0-based start offsets, joining
-- PowerShell continuation lines (a trailing ` or |).
local function logical_lines(text)
  local lines = {}
  local pos = 1
  local cur, cur_off
  while pos <= #text do
    local nl = text:find("\n", pos, true) or (#text + 1)
    local line = text:sub(pos, nl - 1):gsub("\r$", "")
    if cur then cur = cur .. " " .. line else cur, cur_off = line, pos - 1 end
    if not (line:find("`%s*$") or line:find("|%s*$")) then
      lines[#lines + 1] = {cur, cur_off}
      cur = nil
    end
    pos = nl + 1
  end
  if cur then lines[#lines + 1] = {cur, cur_off} end
  return lines
end

local function strip_comment(line, marker)
  -- a comment starts at a marker at the line start or after blank space
  local s = line:find("^%s*" .. marker) and line:find(marker, 1, true)
  if not s then s = line:find("%s" .. marker) end
  if s then return line:sub(1, s - 1) end
  return line
end

local function pwsh_writes(text)
  local out = {}
  for _, l in ipairs(logical_lines(text)) do
    local line = strip_comment(l[1], "#"):lower()
    local f = line:match(">>?%s*[\"']?%${?env:(github_%a+)}?")
    local cmdlet = line:find("out%-file") or line:find("add%-content") or line:find("set%-content")
      or line:find("tee%-object") or line:find("appendalltext") or line:find("writealltext")
    if not f and cmdlet then f = line:match("%${?env:(github_%a+)}?") end
    if f and FILES[f:upper()] then
      local lhs = line:match("^(.-)>") or ""
      local literal = not cmdlet and lhs:match("^%s*[%w%-]+%s+(['\"])[^$`]*%1%s*$") ~= nil
      if not literal then
        out[#out + 1] = {file = f:upper(), offset = l[2] + (#l[1] - #l[1]:gsub("^%s+", "")),
                         sources = {}}
      end
    end
  end
  return out
end

local function cmd_writes(text)
  local out = {}
  for _, l in ipairs(logical_lines(text)) do
    local line = l[1]:lower()
    if not line:find("^%s*rem%s") and not line:find("^%s*::") then
      local f = line:match(">>?%s*\"?%%(github_%a+)%%")
      if f and FILES[f:upper()] then
        -- a line with no %VAR% / !VAR! other than the file itself writes a literal
        local rest = line:gsub("%%github_%a+%%", "")
        if rest:find("%%[%w_]+%%") or rest:find("![%w_]+!") or rest:find("%%%%") or
           rest:find("${{", 1, true) then
          out[#out + 1] = {file = f:upper(), offset = l[2], sources = {}}
        end
      end
    end
  end
  return out
end

local function python_writes(text)
  local out = {}
  local s = text:find("[\"'](GITHUB_ENV)[\"']") or text:find("[\"'](GITHUB_PATH)[\"']")
  if s then
    local f = text:match("[\"'](GITHUB_%u+)[\"']", s)
    out[#out + 1] = {file = f, offset = s - 1, sources = {}}
  end
  return out
end

local function describe_triggers(trig)
  local list = {}
  for _, n in ipairs({"pull_request_target", "workflow_run"}) do
    if trig[n] then list[#list + 1] = n end
  end
  return table.concat(list, " and ")
end

return mlgate.policy {
  id = "pipeline/github-env",
  title = "Privileged workflows must not write untrusted data to $GITHUB_ENV or $GITHUB_PATH",
  description = [[
A line appended to $GITHUB_ENV becomes an environment variable of every later
step of the job, and a line appended to $GITHUB_PATH a directory searched
for commands. In a workflow triggered by pull_request_target or
workflow_run, which runs with the base repository's token and secrets while
handling a fork's pull request, whoever controls that text controls the rest
of the job: `BASH_ENV=`, `LD_PRELOAD=`, `NODE_OPTIONS=--require ...`,
`PYTHONPATH=` or a PATH entry in a checked-out fork directory each run the
attacker's code, and a newline in an innocent-looking value adds any such
line. In an ML pipeline that job typically holds the registry token used to
publish the model and the credentials of the training data store.

Reported: in workflows with those triggers, and in composite actions (any
caller may run them on untrusted data), every step whose script writes to
$GITHUB_ENV or $GITHUB_PATH something other than literal text: a
redirection (`>>`, `>`), `tee`, PowerShell `>> $env:GITHUB_ENV`, Out-File,
Add-Content, Set-Content, Tee-Object, cmd `>> %GITHUB_ENV%`, or Python
opening the file. `echo`/`printf` of literal words and quoted strings and
`cat` of a heredoc without expansions are not reported. The shell comes from
`shell:`, `defaults.run.shell` or the runner's labels (pwsh on Windows), as
GitHub decides. Confidence is low (zizmor's) unless mlgate.taint shows the
written data carries attacker text (through `${{ }}` or an env: variable),
then medium. Writes of attacker text to $GITHUB_OUTPUT are reported with
--profile pedantic. The finding points at the step's `run:` key (zizmor's
anchor) and spans to the last write.]],
  remediation = [=[
Do not pass untrusted data through the environment file. Put it in the
step's `env:` where it is needed, or write it to $GITHUB_OUTPUT after
stripping newlines and read it with `${{ steps.<id>.outputs.<name> }}`
in an `env:` mapping:

    - id: meta
      env:
        PR_TITLE: ${{ github.event.pull_request.title }}
      run: |
        title=$(printf '%s' "$PR_TITLE" | tr -d '\r\n')
        echo "title=$title" >> "$GITHUB_OUTPUT"

If a value must go to $GITHUB_ENV, validate it against a strict pattern
first (for example `[[ "$v" =~ ^[A-Za-z0-9._-]+$ ]] || exit 1`), and never
add directories of a checked-out pull request to $GITHUB_PATH.]=],
  gate = "pipeline",
  severity = "high",
  confidence = "low",
  atlas = {"AML.T0010.001", "AML.T0050", "AML.T0055", "AML.M0016"},
  aliases = {"catalog:INJ-ENVFILE", "zizmor:github-env"},
  references = {
    "https://docs.zizmor.sh/audits/#github-env",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#environment-files",
    "https://securitylab.github.com/resources/github-actions-new-patterns-and-mitigations/",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    local where_desc
    if m.kind == "workflow" then
      local trig = mlgate.pipeline.triggers(m)
      if not (trig.pull_request_target or trig.workflow_run) then return end
      where_desc = "a workflow triggered by " .. describe_triggers(trig)
        .. ", which runs with the base repository's secrets"
    elseif m.kind == "action" then
      where_desc = "a composite action, which callers may run on untrusted data"
    else
      return
    end

    local done = {} -- run: values reached twice through YAML aliases
    for step, job in mlgate.pipeline.steps(m) do
      local run = step.run
      local text = run and run.text
      local first = run and not done[run.offset or -1]
      if run and run.offset then done[run.offset] = true end
      if first and type(text) == "string" and (text:find("GITHUB_", 1, true) or text:lower():find("github_", 1, true)) then
        local shell = step_shell(m, job, step)
        local writes
        if shell == "bash" or shell == "sh" or shell == "zsh" or shell == "dash" or shell == "ksh" then
          writes = bash_writes(text, m, job, step)
        elseif shell == "pwsh" or shell == "powershell" then
          writes = pwsh_writes(text)
        elseif shell == "cmd" then
          writes = cmd_writes(text)
        elseif shell == "python" or shell == "python3" then
          writes = python_writes(text)
        else
          writes = {}
        end

        local env_writes, out_writes = {}, {}
        for _, w in ipairs(writes) do
          if w.file == "GITHUB_OUTPUT" then
            if w.class == "arbitrary" then out_writes[#out_writes + 1] = w end
          else
            env_writes[#env_writes + 1] = w
          end
        end

        local function report(list, pedantic)
          if #list == 0 then return end
          local files, lines, sources, seenf, seens = {}, {}, {}, {}, {}
          local tainted = false
          local last = run.key_line or run.line
          for _, w in ipairs(list) do
            if not seenf[w.file] then seenf[w.file] = true; files[#files + 1] = "$" .. w.file end
            local l = mlgate.pipeline.where(run, w.offset or 0)
            lines[#lines + 1] = l
            if l and l > last then last = l end
            if w.class == "arbitrary" or w.class == "structured" then tainted = true end
            for _, s in ipairs(w.sources or {}) do
              if not seens[s] then seens[s] = true; sources[#sources + 1] = s end
            end
          end
          local fl = table.concat(files, " and ")
          local msg
          if pedantic then
            msg = ("This step writes attacker-controlled text (%s) to $GITHUB_OUTPUT in %s; "
              .. "a newline in it forges other outputs of the step: strip \\r and \\n first.")
              :format(table.concat(sources, ", "), where_desc)
          elseif tainted then
            msg = ("This step writes attacker-controlled text (%s) to %s in %s, so later steps "
              .. "run with variables (BASH_ENV, LD_PRELOAD, NODE_OPTIONS) or PATH entries the "
              .. "attacker chose; keep untrusted values out of %s and pass them via env:.")
              :format(table.concat(sources, ", "), fl, where_desc, fl)
          else
            msg = ("This step writes non-literal data to %s (line %s) in %s; if any of it comes "
              .. "from the pull request or another outsider, later steps run with variables or "
              .. "PATH entries the attacker chose: write only validated values or use env:.")
              :format(fl, table.concat(lines, ", "), where_desc)
          end
          ctx:fail{
            message = msg,
            line = run.key_line or run.line, column = run.key_col or run.col,
            end_line = last,
            confidence = tainted and "medium" or "low",
            severity = pedantic and "medium" or nil,
            profile = pedantic and "pedantic" or nil,
            key = (step.route or "") .. (pedantic and ":output" or ":env"),
            details = {job = job and job.id, step = step.index, shell = shell,
                       files = files, write_lines = lines, sources = sources},
          }
        end
        report(env_writes, false)
        report(out_writes, true)
      end
    end
  end,
}
