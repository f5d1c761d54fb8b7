-- pipeline/download-exec: scripts that download code and run it without
-- verifying it: `curl ... | sh`, `bash <(curl ...)`, `sh -c "$(wget -O- ...)"`,
-- `eval "$(curl ...)"`, a downloaded file made executable and run with no
-- checksum or signature check in between, PowerShell `iex (iwr ...)`.
-- poutine's unverified_script_exec (with its exemption of
-- raw.githubusercontent.com URLs pinned to a commit) on the shell lexer.

local P = mlgate.pipeline

local DOWNLOADERS = {curl = true, wget = true, iwr = true, ["invoke-webrequest"] = true,
                     irm = true, ["invoke-restmethod"] = true, fetch = true, http = true}
local INTERPRETERS = {sh = true, bash = true, zsh = true, dash = true, ksh = true, ash = true,
                      python = true, python3 = true, python2 = true, perl = true, ruby = true,
                      node = true, php = true, iex = true, ["invoke-expression"] = true,
                      pwsh = true, powershell = true, source = true, ["."] = true, eval = true,
                      deno = false}
local WRAPPERS = {sudo = true, env = true, time = true, nice = true, nohup = true,
                  command = true, exec = true}
local VERIFY = mlgate.re.compile(
  [[\b(?:sha(?:1|224|256|384|512)sum|shasum|b2sum|md5sum)\b[^\n]*(?:-c\b|--check\b)|]] ..
  [[\bgpg2?\b[^\n]*--verify\b|\bcosign\s+verify(?:-blob)?\b|\bminisign\b[^\n]*-V\b|]] ..
  [[\bslsa-verifier\b|\bgh\s+attestation\s+verify\b|\bopenssl\s+dgst\b[^\n]*-verify\b|]] ..
  [[\bsigntool\s+verify\b|Get-FileHash\b]])
local SAFE_URL = mlgate.re.compile(
  [[^https://(?:raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/|github\.com/[^/]+/[^/]+/raw/[0-9a-f]{40}/)]])
local PWSH = mlgate.re.compile(
  [[\b(?:iex|Invoke-Expression)\b[^\n]{0,512}\.DownloadString\(|]] ..
  [[\b(?:iwr|irm|Invoke-WebRequest|Invoke-RestMethod)\b[^\n|]{0,256}\|\s*(?:iex|Invoke-Expression)\b|]] ..
  [[\bdeno\s+(?:run|install)\s+(?:-A|--allow-all)\b[^\n]{0,128}https://]], "i")

local function base(s) return ((s or ""):match("[^/\\]+$") or s or ""):lower() end

-- Index of the command word after wrappers (sudo -E, env A=b, ...).
local function head(argv)
  local i = 1
  while argv[i] and WRAPPERS[base(argv[i].text)] do
    local w = base(argv[i].text)
    i = i + 1
    while argv[i] and (argv[i].text:sub(1, 1) == "-" or
                       (w == "env" and argv[i].text:match("^[%a_][%w_]*="))) do
      i = i + 1
    end
  end
  return i
end

local function url_of(argv, from)
  for j = from, #argv do
    local t = argv[j].text
    if t:match("^%a[%w+.-]*://") then return t end
  end
  return nil
end

-- The file a download writes, or nil (stdout).
local function output_of(tool, argv, from, redirs)
  for j = from, #argv do
    local t = argv[j].text
    if tool == "curl" then
      if (t == "-o" or t == "--output") and argv[j + 1] then return argv[j + 1].text end
      if t:match("^%-%a*o$") and argv[j + 1] then return argv[j + 1].text end
      local o = t:match("^%-o(.+)$") or t:match("^%-%-output=(.+)$")
      if o then return o end
      if t == "-O" or t == "--remote-name" or (t:match("^%-[%a]*O[%a]*$") and not t:match("^%-%-")) then
        local u = url_of(argv, from)
        return u and u:match("([^/?#]+)[?#]?[^/]*$")
      end
    elseif tool == "wget" then
      if (t == "-O" or t == "--output-document") and argv[j + 1] then
        local o = argv[j + 1].text
        if o == "-" then return nil end
        return o
      end
      local o = t:match("^%-O(.+)$") or t:match("^%-%-output%-document=(.+)$")
      if o then return o ~= "-" and o or nil end
    elseif tool == "iwr" or tool == "invoke-webrequest" then
      if t:lower() == "-outfile" and argv[j + 1] then return argv[j + 1].text end
    end
  end
  for _, r in ipairs(redirs or {}) do
    if (r.op == ">" or r.op == ">|") and not r.fd and r.target then return r.target.text end
  end
  if tool == "wget" then
    local u = url_of(argv, from)
    if u then return u:match("([^/?#]+)[?#]?[^/]*$") end
  end
  return nil
end

local function same_file(a, b)
  if not a or not b then return false end
  local na, nb = a:gsub("^%./", ""), b:gsub("^%./", "")
  return na == nb or base(na) == base(nb) and (na:find("/", 1, true) == nil or nb:find("/", 1, true) == nil)
end

local KINDS = {workflow = true, action = true, ["gitlab-ci"] = true, jenkinsfile = true}
-- Shells whose scripts are not POSIX shell or PowerShell.
local SKIP_SHELLS = {cmd = true, bat = true, python = true}

return mlgate.policy {
  id = "pipeline/download-exec",
  title = "Downloaded scripts and binaries must be verified before they run",
  description = [[
Flags `run:` scripts that execute code fetched over the network without
checking it: `curl -fsSL https://x/install.sh | bash`, `bash <(curl ...)`,
`sh -c "$(wget -O- ...)"`, `eval "$(curl ...)"`, `iex (iwr ...)`, and a file
downloaded with curl/wget that is then made executable or run with no
checksum or signature verification in between. Whoever controls the server,
the DNS, or the release asset at that moment runs code in the job, next to
its tokens and the credentials for model registries, datasets and cloud
accounts; installer one-liners for CUDA toolkits, conda and model tooling
are common in ML pipelines. URLs pinned to a commit on
raw.githubusercontent.com are accepted, as poutine does. GitLab CI script
lines (also in included files) and Jenkins sh/powershell steps are read the
same way; there a file downloaded by one line and run by a later line of
the same job counts too.]],
  remediation = [[
Download to a file, verify it against a pinned digest (or signature), then
run it:

    curl -fsSLo install.sh https://example.com/install-1.4.2.sh
    echo "3f5e...c9a1  install.sh" | sha256sum -c -
    bash install.sh

Better: install the tool from a package manager with a lock file, or use a
release asset whose checksum file is signed (cosign verify-blob,
gh attestation verify).]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013"},
  aliases = {"catalog:DL-EXEC", "poutine:unverified_script_exec", "scorecard:Pinned-Dependencies"},
  references = {
    "https://github.com/boostsecurityio/poutine/blob/main/docs/content/en/rules/unverified_script_exec.md",
    "https://github.com/ossf/scorecard/blob/main/docs/checks.md#pinned-dependencies",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or not KINDS[m.kind] then return end
    -- GitLab runs a job's script lines in one shell and Jenkins' sh steps
    -- share the workspace: a file downloaded by one line and run by a later
    -- one counts. GitHub steps are judged one by one, as poutine does.
    local per_job = m.platform == "gitlab" or m.platform == "jenkins"
    local reported = {}
    local state_job, downloads, executable
    for step, job in P.steps(m) do
      if not per_job or job ~= state_job then
        state_job, downloads, executable = job, {}, {}
      end
      local run = step.run
      local sh = run and P.shell(step, job, m)
      local text = run and run.text
      -- Cheap prefilter: nothing to find without a downloader or a URL
      -- (or a file downloaded earlier in the job).
      if text and (text:find("curl", 1, true) or text:find("wget", 1, true)
                   or text:find("://", 1, true) or text:lower():find("iwr", 1, true)
                   or text:find("Invoke-", 1, true) or #downloads > 0)
         and not SKIP_SHELLS[sh] then
        -- val, off: where in which script; st: the step holding it.
        local function report(val, off, st, what, url, kind)
          local line, col = P.where(val, off)
          local path = st.path or (job and job.path)
          local k = (path or "") .. ":" .. line .. ":" .. kind
          if reported[k] then return end
          reported[k] = true
          ctx:fail{
            message = ("This step %s%s without verifying it; download to a file, check it "
              .. "against a pinned sha256 or signature, then run it."):format(
              what, url and (" (" .. url .. ")") or ""),
            path = path, line = line, column = col,
            key = st.route .. ":" .. kind .. ":" .. line,
            details = {job = job and job.id or nil, step = st.index, url = url, pattern = kind},
          }
        end

        if sh == "pwsh" or sh == "powershell" or text:find("DownloadString", 1, true)
           or text:lower():find("iex", 1, true) or text:find("deno", 1, true) then
          for s in PWSH:gfind(text) do
            report(run, s - 1, step, "runs downloaded code directly (iex/deno)", nil, "pwsh")
          end
        end

        local script = (mlgate.shell and mlgate.shell.parse) and mlgate.shell.parse(text) or nil
        local cmds = script and script.cmds or {}
        for i, cmd in ipairs(cmds) do
          local argv = cmd.argv or {}
          local h = head(argv)
          local name = argv[h] and base(argv[h].text)
          if name and DOWNLOADERS[name] then
            local url = url_of(argv, h + 1)
            local safe = url and SAFE_URL:test(url)
            if not safe then
              -- 1. piped into an interpreter
              if cmd.sep == "|" or cmd.sep == "|&" then
                for j = i + 1, #cmds do
                  local c2 = cmds[j]
                  if c2.pipeline ~= cmd.pipeline then break end
                  local a2 = c2.argv or {}
                  local n2 = a2[head(a2)] and base(a2[head(a2)].text)
                  if n2 and INTERPRETERS[n2] then
                    report(run, cmd.offset, step, ("pipes a download into %s"):format(n2), url,
                           "pipe")
                    break
                  end
                end
              end
              -- 2. inside $( ) / <( ) given to an interpreter, eval or -c
              if cmd.subst then
                for j = i + 1, #cmds do
                  local c2 = cmds[j]
                  if not c2.subst or (c2.depth or 0) < (cmd.depth or 0) then
                    if c2.offset <= cmd.offset and cmd.offset < c2.offset + c2.len then
                      local a2 = c2.argv or {}
                      local n2 = a2[head(a2)] and base(a2[head(a2)].text)
                      if n2 and INTERPRETERS[n2] then
                        report(run, c2.offset, step, ("runs a download with %s"):format(n2), url,
                               "subst")
                      end
                      break
                    end
                  end
                end
              end
              -- 3. saved to a file: remember it
              local out = output_of(name, argv, h + 1, cmd.redirs)
              if out and not cmd.subst then
                downloads[#downloads + 1] = {file = out, off = cmd.offset, url = url,
                                             verified = false, val = run, step = step}
              end
            end
          elseif name and #downloads > 0 then
            local cmdtext = text:sub(cmd.offset + 1, cmd.offset + cmd.len)
            if VERIFY:test(cmdtext) then
              for _, d in ipairs(downloads) do d.verified = true end
            elseif name == "chmod" then
              local mode_x = false
              for j = h + 1, #argv do
                local t = argv[j].text
                if t:match("^[ugoa]*%+[rwx]*x") or t:match("^[0-7]?[0-7]?[1357][0-7][0-7]$")
                   or t:match("^[0-7]?[1357][0-7][0-7]$") then
                  mode_x = true
                end
              end
              if mode_x then
                for j = h + 1, #argv do
                  for _, d in ipairs(downloads) do
                    if same_file(argv[j].text, d.file) and not d.verified then
                      executable[d] = true
                      report(d.val, d.off, d.step,
                             ("downloads %s and makes it executable"):format(d.file), d.url,
                             "chmod")
                    end
                  end
                end
              end
            else
              -- running the file directly or through an interpreter
              local target = argv[h].text
              if INTERPRETERS[name] and argv[h + 1] then
                local k = h + 1
                while argv[k] and argv[k].text:sub(1, 1) == "-" do k = k + 1 end
                target = argv[k] and argv[k].text or target
              end
              for _, d in ipairs(downloads) do
                if not d.verified and not executable[d] and same_file(target, d.file)
                   and (INTERPRETERS[name] or target:find("/", 1, true)) then
                  report(d.val, d.off, d.step, ("downloads %s and runs it"):format(d.file),
                         d.url, "run")
                end
              end
            end
          end
        end
      end
    end
  end,
}
