-- pipeline/misfeature: GitHub Actions features that defeat analysis or
-- isolation (zizmor's misfeature): `shell: cmd` (directly or through
-- `defaults.run.shell`), other non-standard shells (auditor profile) and
-- actions/setup-python's `pip-install` input.

local P = mlgate.pipeline

local WELL_KNOWN = {bash = true, pwsh = true, python = true, sh = true, powershell = true}

local function effective_shell(step, job, m)
  return step.shell or (job and job.defaults and job.defaults.shell)
         or (m.defaults and m.defaults.shell)
end

local function normalize(text)
  local first = (text or ""):match("^%s*(%S+)") or ""
  return (first:match("[^/\\]+$") or first)
end

return mlgate.policy {
  id = "pipeline/misfeature",
  title = "Avoid GitHub Actions misfeatures",
  description = [[
Flags features that make a pipeline hard to analyse or brittle:
`shell: cmd` (set on a step or inherited from `defaults.run.shell`) —
cmd.exe has no formal grammar and several line-continuation rules, so
neither reviewers nor scanners can tell what a script does with an
interpolated value, and it is not the Windows default since 2019; custom
shells (`shell: perl {0}`, reported in the auditor profile); and
actions/setup-python's `pip-install:` input, which installs packages into
the global interpreter outside any virtual environment or lock file — a
fragile and unpinned way to set up an ML training environment.]],
  remediation = [[
Use `shell: pwsh` or `shell: bash` on Windows runners, and install Python
packages in a virtual environment from a lock file instead of
`pip-install:`:

    - uses: actions/setup-python@<full-commit-sha> # v5.6.0
      with:
        python-version: "3.12"
    - run: |
        python -m venv .venv
        .venv/bin/pip install --require-hashes -r requirements.lock]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:HYG-MISFEATURE", "zizmor:misfeature"},
  references = {
    "https://docs.zizmor.sh/audits/#misfeature",
    "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idstepsshell",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    for step, job in P.steps(m) do
      local u = step.uses
      if u and u.kind == "action" and u.owner and u.repo
         and u.owner:lower() == "actions" and u.repo:lower() == "setup-python"
         and (not u.subpath or u.subpath == "") then
        for _, kv in ipairs(step.with or {}) do
          if kv.name == "pip-install" then
            ctx:fail{
              message = "actions/setup-python's `pip-install` installs packages into the global "
                .. "interpreter outside a virtual environment or lock file; install them in a "
                .. "venv from a hash-pinned lock file instead.",
              line = kv.line, column = kv.col,
              key = step.route .. ":pip-install",
              details = {job = job and job.id or nil, step = step.index},
            }
          end
        end
      elseif step.run then
        local sh = effective_shell(step, job, m)
        local name = sh and normalize(sh.text)
        if name and not WELL_KNOWN[name] then
          local line, col = sh.key_line or sh.line, sh.key_col or sh.col
          if name == "cmd" or name == "cmd.exe" then
            ctx:fail{
              message = "This step runs under `shell: cmd`, whose quoting and line continuations "
                .. "cannot be analysed reliably and which is no longer the Windows default; use "
                .. "`shell: pwsh` or `shell: bash`.",
              line = line, column = col,
              key = step.route .. ":shell",
              details = {job = job and job.id or nil, step = step.index, shell = sh.text},
            }
          else
            ctx:fail{
              message = ("This step runs under the custom shell `%s`, which scanners and reviewers "
                .. "cannot analyse; use bash or pwsh."):format(sh.text),
              line = line, column = col,
              profile = "auditor",
              key = step.route .. ":shell",
              details = {job = job and job.id or nil, step = step.index, shell = sh.text},
            }
          end
        end
      end
    end
  end,
}
