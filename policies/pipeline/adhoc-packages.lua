-- pipeline/adhoc-packages: packages installed in `run:` scripts outside a
-- hash-checked lock file (pip/uv pip/pipx/conda/poetry add/npm/yarn/pnpm
-- add/gem install/go install @latest).
--
-- Covers zizmor's adhoc-packages audit (`gem install <pkg>`, `npm
-- install|i|add <pkg>`; installs with no package name use the lock file and
-- are fine) and the catalog's wider PIN-PKG row for Python/ML tooling:
-- `pip install` without `--require-hashes` (including `-r
-- requirements.txt`), raised to medium for `--extra-index-url`,
-- `--trusted-host`, plain-http indexes and VCS installs that follow a branch.
-- Each install command is one finding on the line where it starts.

local P = mlgate.pipeline

local WRAPPERS = {sudo = true, env = true, time = true, nice = true, nohup = true,
                  command = true, exec = true, stdbuf = true, timeout = true, ["xvfb-run"] = true}
-- Wrapper options that take a value (sudo -u USER, timeout DURATION, ...).
local WRAPPER_VALUE_OPTS = {["-u"] = true, ["-g"] = true, ["-C"] = true, ["-n"] = true,
                            ["-h"] = true, ["-p"] = true, ["-D"] = true, ["-R"] = true,
                            ["-T"] = true, ["-S"] = false, ["-k"] = true, ["-s"] = true}

-- pip/uv pip options whose value is the next word.
local PIP_VALUE = {}
for o in ([[-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url
  --trusted-host -f --find-links -t --target --prefix --root --platform --python-version
  --implementation --abi --upgrade-strategy --progress-bar --src --no-binary --only-binary
  -C --config-settings --global-option --log --cache-dir --python -p --group --index
  --default-index --index-strategy --keyring-provider --resolution --prerelease
  --exclude-newer --extra --override --build-constraint --proxy --timeout --retries
  --exists-action --report --cert --client-cert --uv-lock]]):gmatch("%S+") do
  PIP_VALUE[o] = true
end
local CONDA_VALUE = {["-c"] = true, ["--channel"] = true, ["-n"] = true, ["--name"] = true,
                     ["-p"] = true, ["--prefix"] = true, ["--file"] = true, ["--override-channels"] = false,
                     ["--solver"] = true, ["-y"] = false}
local NPM_INSTALL = {install = true, i = true, add = true, ["in"] = true, ins = true,
                     inst = true, insta = true, instal = true, isnt = true, isnta = true,
                     isntal = true, isntall = true}

local function base(s) return (s:match("[^/\\]+$") or s) end

local function is_local(t)
  return t == "." or t == ".." or t:match("^%.%.?/") ~= nil or t:match("^/") ~= nil
      or t:match("^~/") ~= nil or t:match("%.whl$") ~= nil or t:match("%.tar%.gz$") ~= nil
      or t:match("%.zip$") ~= nil or t:match("^file:") ~= nil
      or (t:find("/", 1, true) ~= nil and not t:find("://", 1, true) and not t:find("@", 1, true)
          and not t:match("^git%+"))
      or t:match("^%$") ~= nil
end

-- Commands worth a closer look (after wrappers): the rest are skipped
-- before any table is built.
local function interesting(name)
  return name:match("^pip") or name:match("^python") or name == "py" or name == "uv"
      or name == "conda" or name == "mamba" or name == "micromamba" or name == "poetry"
      or name == "npm" or name == "yarn" or name == "pnpm" or name == "bun" or name == "gem"
      or name == "go"
end

-- The words of a command without wrapper commands (sudo, env A=b, time).
local function strip_wrappers(argv)
  local i = 1
  while argv[i] do
    local w = base(argv[i].text)
    if not WRAPPERS[w] then break end
    i = i + 1
    while argv[i] do
      local t = argv[i].text
      if w == "env" and t:match("^[%a_][%w_]*=") then
        i = i + 1
      elseif t:sub(1, 1) == "-" and t ~= "-" then
        i = i + 1
        if WRAPPER_VALUE_OPTS[t] and (w == "sudo" or w == "timeout") and argv[i] then
          i = i + 1
        end
      elseif w == "timeout" and t:match("^%d") then
        i = i + 1
      else
        break
      end
    end
  end
  local out = {}
  for j = i, #argv do out[#out + 1] = argv[j].text end
  return out
end

local function has(args, set)
  for _, a in ipairs(args) do
    local name = a:match("^(%-%-[%w%-]+)=") or a
    if set[name] then return true end
  end
  return false
end

-- pip/uv pip install: returns nil or {severity, why, targets}
local function judge_pip(args, tool)
  local targets, reasons, raise = {}, {}, false
  local require_hashes = false
  local i = 1
  while i <= #args do
    local a = args[i]
    local opt, val = a:match("^(%-%-[%w%-]+)=(.*)$")
    if not opt and a:match("^%-[rcefipt]..") and not a:match("^%-%-") then
      opt, val = a:sub(1, 2), a:sub(3)
    end
    opt = opt or a
    if opt == "--require-hashes" then
      require_hashes = true
    elseif opt:sub(1, 1) == "-" and PIP_VALUE[opt] then
      if not val then
        i = i + 1
        val = args[i] or ""
      end
      if opt == "-r" or opt == "--requirement" then
        targets[#targets + 1] = "-r " .. val
      elseif opt == "-e" or opt == "--editable" then
        if not is_local(val) then targets[#targets + 1] = val end
        if val:match("^git%+") then targets.vcs = val end
      elseif opt == "--extra-index-url" then
        raise = true
        reasons[#reasons + 1] = "adds the extra index " .. val
          .. " (any package name there can shadow PyPI's: dependency confusion)"
      elseif opt == "--trusted-host" then
        raise = true
        reasons[#reasons + 1] = "disables TLS verification for " .. val
      elseif opt == "-i" or opt == "--index-url" or opt == "--index" or opt == "--default-index"
             or opt == "-f" or opt == "--find-links" then
        if val:match("^http://") then
          raise = true
          reasons[#reasons + 1] = "downloads from " .. val .. " over plain HTTP"
        end
      end
    elseif opt:sub(1, 1) ~= "-" then
      if not is_local(a) or a:match("^git%+") then
        targets[#targets + 1] = a
        if a:match("^git%+") or a:match("@%s*git%+") then targets.vcs = a end
      end
    end
    i = i + 1
  end
  if targets.vcs then
    local ref = targets.vcs:match("@([^@/#]+)$") or targets.vcs:match("@([^@/#]+)#")
    if not (ref and #ref == 40 and not ref:find("[^0-9a-fA-F]")) then
      raise = true
      reasons[#reasons + 1] = "installs " .. targets.vcs
        .. " from a VCS branch or tag, not a commit"
    end
  end
  if #targets == 0 and not raise then return nil end
  if require_hashes and not raise then return nil end
  return {severity = raise and "medium" or "low", reasons = reasons, targets = targets,
          what = tool .. " install"}
end

local function nonflag_after(args, from, value_opts)
  local out = {}
  local i = from
  while i <= #args do
    local a = args[i]
    if a:sub(1, 1) == "-" then
      if value_opts and value_opts[a] then i = i + 1 end
    else
      out[#out + 1] = a
    end
    i = i + 1
  end
  return out
end

-- Classifies one simple command; nil when it installs nothing ad hoc.
local function judge(words)
  local cmd = words[1]
  if not cmd then return nil end
  local b = base(cmd)
  -- python -m pip / python3 -m pipx / py -m pip
  if (b:match("^python[%d%.]*$") or b == "py") and words[2] == "-m" and words[3] then
    local mod = words[3]
    local rest = {}
    for j = 4, #words do rest[#rest + 1] = words[j] end
    words = {mod}
    for _, r in ipairs(rest) do words[#words + 1] = r end
    b = mod
  end
  local sub = words[2]
  local args = {}
  for j = 3, #words do args[#args + 1] = words[j] end

  if b:match("^pip[%d%.]*$") and sub == "install" then
    return judge_pip(args, "pip")
  elseif b == "uv" and sub == "pip" and words[3] == "install" then
    local a2 = {}
    for j = 4, #words do a2[#a2 + 1] = words[j] end
    return judge_pip(a2, "uv pip")
  elseif b == "uv" and sub == "tool" and words[3] == "install" then
    local pk = nonflag_after(words, 4, PIP_VALUE)
    if #pk > 0 then return {severity = "low", what = "uv tool install", targets = pk, reasons = {}} end
  elseif b == "pipx" and sub == "install" then
    local pk = nonflag_after(args, 1, PIP_VALUE)
    if #pk > 0 then return {severity = "low", what = "pipx install", targets = pk, reasons = {}} end
  elseif (b == "conda" or b == "mamba" or b == "micromamba") and sub == "install" then
    local pk = nonflag_after(args, 1, CONDA_VALUE)
    if #pk > 0 then return {severity = "low", what = b .. " install", targets = pk, reasons = {}} end
  elseif b == "poetry" and sub == "add" then
    local pk = nonflag_after(args, 1, {["-G"] = true, ["--group"] = true, ["-E"] = true,
                                       ["--extras"] = true, ["--source"] = true})
    if #pk > 0 then return {severity = "low", what = "poetry add", targets = pk, reasons = {}} end
  elseif b == "npm" and sub and NPM_INSTALL[sub] then
    local pk = nonflag_after(args, 1, {["--prefix"] = true, ["-w"] = true, ["--workspace"] = true})
    local remote = {}
    for _, p in ipairs(pk) do
      -- npm reads "user/repo" as a GitHub repository: only explicit paths are local.
      if not (p:match("^%.%.?/") or p:match("^[/~]") or p:match("^file:") or p == "."
              or p:match("%.tgz$")) then
        remote[#remote + 1] = p
      end
    end
    if #remote > 0 then
      return {severity = "low", what = "npm " .. sub, targets = remote, reasons = {}}
    end
  elseif (b == "yarn" or b == "pnpm" or b == "bun") and (sub == "add" or
         (sub == "global" and words[3] == "add")) then
    local pk = nonflag_after(words, sub == "global" and 4 or 3, nil)
    if #pk > 0 then return {severity = "low", what = b .. " add", targets = pk, reasons = {}} end
  elseif b == "gem" then
    -- The first non-flag word must be install (or i), then a package.
    local j = 2
    while words[j] and words[j]:sub(1, 1) == "-" do j = j + 1 end
    if words[j] == "install" or words[j] == "i" then
      local pk = nonflag_after(words, j + 1, {["-v"] = true, ["--version"] = true,
                                              ["-s"] = true, ["--source"] = true,
                                              ["-i"] = true, ["--install-dir"] = true})
      -- zizmor counts every non-flag word after install (also option values).
      local any = false
      for k = j + 1, #words do
        if words[k]:sub(1, 1) ~= "-" then any = true end
      end
      if any then
        return {severity = "low", what = "gem " .. words[j], targets = pk, reasons = {}}
      end
    end
  elseif b == "go" and sub == "install" then
    for _, a in ipairs(args) do
      local ref = a:match("@([%w%._%-/]+)$")
      if ref == "latest" or ref == "master" or ref == "main" or ref == "HEAD" then
        return {severity = "low", what = "go install", targets = {a},
                reasons = {"follows @" .. ref .. " instead of a version"}}
      end
    end
  end
  return nil
end

local SKIP_SHELLS = {cmd = true, bat = true, python = true, python3 = true}
local KINDS = {workflow = true, action = true, ["gitlab-ci"] = true, jenkinsfile = true}

return mlgate.policy {
  id = "pipeline/adhoc-packages",
  title = "Packages must come from a hash-pinned lock file",
  description = [[
Flags package installations in `run:` scripts that bypass a lock file:
`pip install torch transformers`, `pip install -r requirements.txt` without
`--require-hashes`, `uv pip install`, `pipx install`, `conda/mamba install
<pkg>`, `poetry add`, `npm install <pkg>`, `yarn/pnpm add`, `gem install
<pkg>`, `go install ...@latest`. Each run then resolves whatever the index
serves that day: a compromised or typosquatted release, a yanked-and-replaced
wheel, or a dependency-confusion package from an extra index runs with the
job's secrets (model-registry tokens, cloud credentials for training data)
and ends up in the trained model or the published artifact.

Installs that only name the project itself (`pip install -e .`, `npm ci`,
`npm install` with no package, `bundle install`) are left alone. The
finding is raised to medium for `--extra-index-url` (dependency confusion),
`--trusted-host` (TLS off), plain-http indexes and `git+https://...`
installs that follow a branch rather than a commit. This covers zizmor's
adhoc-packages audit (gem and npm) and the catalog's Python/ML installers,
in GitHub `run:` scripts, GitLab CI script lines (included files too) and
Jenkins sh/powershell steps.]],
  remediation = [=[
Lock dependencies with hashes and install from the lock file:

    pip-compile --generate-hashes -o requirements.lock requirements.in
    pip install --require-hashes -r requirements.lock

or with uv: `uv lock` in the repository and `uv sync --locked` in CI; for
npm `npm ci`; for Ruby `bundle install` with Gemfile.lock. For extra
indexes use `--index-url` with a single trusted mirror (or uv's
`[[tool.uv.index]]` with `explicit = true`), never `--extra-index-url`.]=],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.M0013", "AML.M0016"},
  aliases = {"catalog:PIN-PKG", "zizmor:adhoc-packages", "scorecard:Pinned-Dependencies"},
  references = {
    "https://docs.zizmor.sh/audits/#adhoc-packages",
    "https://pip.pypa.io/en/stable/topics/secure-installs/",
    "https://github.com/ossf/scorecard/blob/main/docs/checks.md#pinned-dependencies",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or not KINDS[m.kind] then return end
    if not (mlgate.shell and mlgate.shell.parse) then return end
    -- GitLab jobs share lines (default: before_script, extends, anchors):
    -- one finding per command, for the first job that runs it.
    local shared = m.platform == "gitlab" or m.platform == "jenkins"
    local seen = {}
    for step, job in P.steps(m) do
      local run = step.run
      local text = run and run.text
      -- Cheap prefilter: every installer command has one of these words.
      if text and (text:find("install", 1, true) or text:find("add", 1, true)
                   or (text:find(" i", 1, true) and text:find("%f[%w]i%f[^%w]")))
         and not SKIP_SHELLS[P.shell(step, job, m)] then
        local script = mlgate.shell.parse(run.text)
        for ci, cmd in ipairs(script and script.cmds or {}) do
          local argv = cmd.argv or {}
          local first = argv[1] and base(argv[1].text) or ""
          local r = (interesting(first) or WRAPPERS[first]) and judge(strip_wrappers(argv))
          local line, col
          if r then
            line, col = P.where(run, cmd.offset)
            local at = (step.path or "") .. ":" .. line .. ":" .. col
            if shared and seen[at] then r = nil end
            seen[at] = true
          end
          if r then
            local what = table.concat(r.targets, " ")
            if #what > 80 then what = what:sub(1, 77) .. "..." end
            local why = #r.reasons > 0 and ("; it " .. table.concat(r.reasons, "; it ")) or ""
            ctx:fail{
              message = ("`%s %s` installs packages outside a hash-pinned lock file%s; "
                .. "install from a lock file with hashes (pip --require-hashes, uv sync "
                .. "--locked, npm ci, bundle install)."):format(r.what, what, why),
              path = step.path or (job and job.path), line = line, column = col,
              severity = r.severity,
              key = step.route .. ":" .. r.what .. ":" .. ci,
              details = {job = job and job.id or nil, step = step.index, installer = r.what,
                         packages = r.targets, reasons = r.reasons},
            }
          end
        end
      end
    end
  end,
}
