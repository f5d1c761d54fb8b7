-- pipeline/unredacted-secrets: `fromJSON(secrets.X)` (and fields of it):
-- GitHub masks the secret's exact value in logs, but the values decoded
-- out of a JSON secret are new strings the runner does not know, so they
-- print in clear text.
--
-- Same check as zizmor's unredacted-secrets: a fromJSON() call with an
-- argument that is the secrets context or a secret.

local P = mlgate.pipeline

local gha = mlgate.gha

-- Source text for a message, shortened when long.
local function clip(s)
  s = s:gsub("%s+", " ")
  if #s > 80 then return s:sub(1, 77) .. "..." end
  return s
end

local function strip(n)
  while n.type == "group" do n = n.left end
  return n
end

-- The secret a context chain reads ("secrets.cfg", "secrets"), or nil.
local function secret_of(n)
  n = strip(n)
  local t = n.type
  if t == "context" then
    return n.name:lower() == "secrets" and "secrets" or nil
  end
  if t == "property" then
    local b = secret_of(n.left)
    return b and (b .. "." .. n.name)
  end
  if t == "index" then
    local b = secret_of(n.left)
    if not b then return nil end
    local r = strip(n.right)
    if r.type == "literal" and type(r.value) == "string" then return b .. "." .. r.value end
    return b .. "[?]"
  end
  if t == "star" then
    local b = secret_of(n.left)
    return b and (b .. ".*")
  end
  return nil
end

local function collect(n, out)
  local t = n.type
  if t == "call" then
    if n.name == "fromJSON" then
      for _, a in ipairs(n.args) do
        local s = secret_of(a)
        if s then
          out[#out + 1] = {node = n, secret = s}
          return
        end
      end
    end
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "and" or t == "or" then
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "compare" or t == "index" then
    collect(n.left, out)
    collect(n.right, out)
  elseif t == "not" or t == "group" or t == "property" or t == "star" then
    collect(n.left, out)
  end
end

-- The file's text for the cheap raw-text gate below, or nil when the gate
-- cannot be trusted and the model must be walked: unreadable, UTF-16/32
-- (NUL bytes), or holding a backslash sequence that a double-quoted YAML
-- scalar would turn into other characters (\x24 is "$", \/ is "/", a
-- backslash at the end of a line joins two lines).
local function gate_text(path)
  local raw = mlgate.fs.read(path)
  if not raw or raw:find("\0", 1, true) then return nil end
  if raw:find("\\", 1, true) and raw:find("\\[xuU/\r\n]") then return nil end
  return raw
end

-- GitLab CI and Jenkins mask a secret's exact value in job logs as well;
-- a script that pipes one through an encoder or filter prints a new string.

local GITLAB_TOKENS = {CI_JOB_TOKEN = true, CI_BUILD_TOKEN = true, CI_JOB_JWT = true,
                       CI_JOB_JWT_V1 = true, CI_JOB_JWT_V2 = true,
                       CI_REGISTRY_PASSWORD = true, CI_DEPLOY_PASSWORD = true,
                       CI_DEPENDENCY_PROXY_PASSWORD = true}
local SECRET_WORDS = {TOKEN = true, PASSWORD = true, PASSWD = true, PASS = true, SECRET = true,
                      APIKEY = true, CREDENTIALS = true, CREDENTIAL = true, PAT = true}
local KEY_WORDS = {API = true, ACCESS = true, SECRET = true, PRIVATE = true, SIGNING = true,
                   AUTH = true, CLIENT = true, SERVICE = true, ACCOUNT = true, ENCRYPTION = true}
-- Commands whose output is a transformation of their input.
local TRANSFORMERS = {base64 = true, base32 = true, basenc = true, xxd = true, od = true,
                      hexdump = true, rev = true, tr = true, openssl = true, gzip = true,
                      bzip2 = true, xz = true, iconv = true, fold = true, cut = true, sed = true,
                      awk = true, gawk = true, uuencode = true, sha256sum = false}

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

-- The first secret a raw shell word expands ($X, ${X}, Groovy ${env.X}).
local function secret_in(raw, is_secret)
  if not raw:find("$", 1, true) then return nil end
  for name in raw:gmatch("%$%{?env%.([%a_][%w_]*)") do
    if is_secret(name) then return name end
  end
  for name in raw:gmatch("%$%{?([%a_][%w_]*)") do
    if name ~= "env" and is_secret(name) then return name end
  end
  return nil
end

local function base(s) return (s:match("([^/]+)$") or s) end

-- Whether a command's standard output goes to a file.
local function stdout_redirected(cmd)
  for _, r in ipairs(cmd.redirs or {}) do
    if (r.op == ">" or r.op == ">>" or r.op == ">|" or r.op == "&>" or r.op == "&>>")
       and (r.fd == nil or r.fd == 1) then
      return true
    end
  end
  return false
end

local function check_ci(m, ctx)
  local gitlab = m.platform == "gitlab"
  local seen = {}
  for step, job in mlgate.pipeline.steps(m) do
    local run = step.run
    local text = run and run.text
    local sh = mlgate.pipeline.shell(step, job, m)
    if text and text:find("$", 1, true) and sh ~= "bat" and sh ~= "cmd" then
      local is_secret
      if gitlab then
        local ids, literal = {}, {}
        for _, kv in ipairs(job.id_tokens or {}) do ids[kv.name] = true end
        for _, kv in ipairs(job.secrets or {}) do ids[kv.name] = true end
        -- Variables written in the file are not masked: nothing to undo.
        for _, kv in ipairs(job.env or {}) do
          local v = kv.value and kv.value.text
          if v and not v:find("$", 1, true) then literal[kv.name] = true end
        end
        is_secret = function(n)
          return GITLAB_TOKENS[n] or ids[n] or (secret_name(n) and not literal[n])
        end
      else
        local creds = {}
        for _, n in ipairs(step.credentials or {}) do creds[n] = true end
        is_secret = function(n) return creds[n] end
      end
      local script = mlgate.shell.parse(text)
      local cmds = script and script.cmds or {}
      for i, cmd in ipairs(cmds) do
        -- A secret in a command (or here-string) whose output a transformer
        -- in the same pipeline turns into text the job log shows.
        local name, word, herestring
        if not cmd.subst then
          for k = 2, #(cmd.argv or {}) do
            local w = cmd.argv[k]
            name = secret_in(text:sub(w.offset + 1, w.offset + w.len), is_secret)
            if name then word = w; break end
          end
          for _, r in ipairs(cmd.redirs or {}) do
            if not name and r.op == "<<<" and r.target then
              local w = r.target
              name = secret_in(text:sub(w.offset + 1, w.offset + w.len), is_secret)
              if name then word, herestring = w, true end
            end
          end
        end
        local via
        if name then
          local first = cmd.argv[1] and base(cmd.argv[1].text)
          local j, last = i, cmd
          if herestring and first and TRANSFORMERS[first] then via = first end
          while cmds[j] and (cmds[j].sep == "|" or cmds[j].sep == "|&") do
            j = j + 1
            local c2 = cmds[j]
            if not c2 or c2.subst then break end
            last = c2
            local n2 = c2.argv and c2.argv[1] and base(c2.argv[1].text)
            if n2 and TRANSFORMERS[n2] and not via then via = n2 end
          end
          if via and stdout_redirected(last) then via = nil end
        end
        if via then
          local line, col = mlgate.pipeline.where(run, word.offset)
          local path = step.path or job.path
          local at = (path or "") .. ":" .. line .. ":" .. col
          if not seen[at] then
            seen[at] = true
            ctx:fail{
              message = ("`$%s` goes through %s and is printed to the job log, where the "
                .. "transformed value is not masked; do not print secrets or values derived "
                .. "from them."):format(name, via),
              path = path, line = line, column = col,
              key = ("%s:%s:%s"):format(step.route, name, via),
              details = {job = job.id, step = step.index, secret = name, transform = via},
            }
          end
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/unredacted-secrets",
  title = "Secrets must not be decoded with fromJSON()",
  description = [[
GitHub hides a secret in logs by replacing its exact value. A secret that
holds JSON (a service-account key, a bundle of registry and tracking
credentials) and is decoded with `fromJSON(secrets.X)` or read as
`fromJSON(secrets.X).token` produces new strings (the fields, re-encoded
values) that the runner was never told to mask: any step that prints them,
and any verbose training or upload tool that logs its configuration, leaks
them in clear text into logs that everyone with read access to the
repository can see.

Checks every expression of workflows and composite actions. Same check as
zizmor's unredacted-secrets. GitLab CI and Jenkins mask secrets the same
way; there a script that pipes the job token, an ID token, a secret-named
variable (GitLab) or a credential bound by withCredentials (Jenkins)
through base64, xxd, tr, sed, openssl and the like, into the job log, is
reported.]],
  remediation = [[
Store each credential as its own secret and reference it directly:

    env:
      HF_TOKEN: ${{ secrets.HF_TOKEN }}
      WANDB_API_KEY: ${{ secrets.WANDB_API_KEY }}

When a JSON secret cannot be split, decode it in the step and register each
value with `echo "::add-mask::$VALUE"` before anything can print it.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0055", "AML.T0025"},
  aliases = {"catalog:SEC-UNREDACT", "zizmor:unredacted-secrets"},
  references = {
    "https://docs.zizmor.sh/audits/#unredacted-secrets",
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#using-secrets-in-a-workflow",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" or m.kind == "jenkinsfile" then return check_ci(m, ctx) end
    if not m.exprs then return end
    -- Cheap gate on the raw text before touching the model's expressions.
    local raw = gate_text(file.path)
    if raw and not raw:lower():find("fromjson", 1, true) then return end
    local seen = {}
    for _, e in ipairs(m.exprs) do
      local src = e.text
      local low = src:lower()
      if low:find("secrets", 1, true) and low:find("fromjson", 1, true) then
        local route = e.route or ""
        local n = (seen[route] or 0) + 1
        seen[route] = n
        local ast = gha.parse(src, {any_context = true})
        if ast then
          local out = {}
          collect(ast, out)
          for _, f in ipairs(out) do
            local node = f.node
            local shown = src:sub(node.offset + 1, node.offset + node.len)
            ctx:fail{
              message = ("`%s` decodes %s, and the decoded values are not masked in logs; "
                .. "store each value as its own secret and reference it directly."):format(
                clip(shown), clip(f.secret)),
              line = e.line, column = e.col,
              key = ("%s#%d:%s:%d"):format(route, n, f.secret, node.offset),
              details = {job = e.job, step = e.step, field = e.field, key = e.key,
                         secret = f.secret},
            }
          end
        end
      end
    end
  end,
}
