-- pipeline/secret-exfiltration: a secret or the job token handed to
-- curl/wget in a `run:` script.
--
-- checkov's CKV_GHA_3 flags any `run:` line with both "curl" and
-- "secrets"; this reads the script with the shell lexer instead and
-- reports each curl/wget command that carries a secret:
--   * a `${{ secrets.X }}` / `${{ github.token }}` template in its
--     arguments (the secret is pasted into the script text itself): medium;
--   * a secret inside the URL (query string, path, user info) or sent over
--     plain http://, whether templated or through an environment variable
--     set from a secret: high (URLs end up in server, proxy and CDN logs);
--   * any secret sent to a host of param `suspicious_hosts` (request
--     catchers, paste sites, tunnels): high.
-- GitHub's own token sent to GitHub's API hosts is its intended use and is
-- not reported, nor are secrets passed through environment variables in
-- headers or bodies of https requests (the normal way to authenticate).
-- The finding points at the line where the command starts.

local P = mlgate.pipeline

local TOKEN_REFS = {["github.token"] = true, ["secrets.github_token"] = true}
local GITHUB_HOSTS = {["api.github.com"] = true, ["uploads.github.com"] = true,
                      ["github.com"] = true}

-- Secrets read by the expressions in text: {path (lower case), text}.
local function secret_refs(text)
  local out = {}
  if not text or not text:find("${{", 1, true) then return out end
  for _, span in ipairs(mlgate.gha.find(text) or {}) do
    local refs = span.expr and mlgate.gha.refs(span.expr)
    for _, r in ipairs(refs or {}) do
      if r.path:match("^secrets%.") or r.path == "github.token" or r.path == "secrets" then
        out[#out + 1] = {path = r.path, text = span.expr:sub(r.offset + 1, r.offset + r.len)}
      end
    end
  end
  return out
end

-- Environment variables (workflow, job, step) whose value reads a secret.
local function secret_env(m, job, step)
  local env = {}
  local function add(list)
    for _, e in ipairs(list or {}) do
      local refs = e.value and secret_refs(e.value.text) or {}
      if #refs > 0 then env[e.name] = refs[1] else env[e.name] = nil end
    end
  end
  add(m.env)
  if job then add(job.env) end
  add(step.env)
  return env
end

local function host_of(url)
  local rest = url:match("^[%a][%w+.-]*://(.*)$")
  if not rest then return nil end
  local authority = rest:match("^([^/?#]*)") or ""
  local host = authority:gsub("^.*@", ""):gsub(":%d*$", "")
  return host:lower(), authority:find("@", 1, true) ~= nil
end

local function host_matches(host, list)
  for _, h in ipairs(list) do
    h = h:lower()
    if host == h or host:sub(-(#h + 1)) == "." .. h then return true end
  end
  return false
end

-- Names of $VAR / ${VAR...} expansions in a raw word.
local function expansions(raw)
  local out = {}
  for name in raw:gmatch("%$%{?([%a_][%w_]*)") do out[#out + 1] = name end
  return out
end

local function basename(s) return s:match("([^/]+)$") or s end

-- GitLab's predefined secrets: the job token and what carries it.
local GITLAB_TOKENS = {CI_JOB_TOKEN = true, CI_BUILD_TOKEN = true, CI_JOB_JWT = true,
                       CI_JOB_JWT_V1 = true, CI_JOB_JWT_V2 = true,
                       CI_REGISTRY_PASSWORD = true, CI_DEPLOY_PASSWORD = true,
                       CI_DEPENDENCY_PROXY_PASSWORD = true}
-- Last words of variable names that hold secrets (HF_TOKEN, WANDB_API_KEY,
-- DOCKER_PASSWORD, AWS_SECRET_ACCESS_KEY); KEY only after these words.
local SECRET_WORDS = {TOKEN = true, PASSWORD = true, PASSWD = true, PASS = true, SECRET = true,
                      APIKEY = true, CREDENTIALS = true, CREDENTIAL = true, PAT = true, PSW = true}
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

-- Variable names a raw shell word expands: $X, ${X...}, and for Jenkins
-- GStrings ${env.X} and $env.X.
local function ci_expansions(raw)
  local out = {}
  for name in raw:gmatch("%$%{?env%.([%a_][%w_]*)") do out[#out + 1] = name end
  for name in raw:gmatch("%$%{?([%a_][%w_]*)") do
    if name ~= "env" then out[#out + 1] = name end
  end
  return out
end

-- GitLab CI and Jenkins: curl/wget commands of script lines and sh steps
-- that carry the job token, a credential bound in scope or a secret-named
-- variable. Environment variables in headers or bodies over https are how
-- services authenticate; reported are secrets in URLs, over http, to
-- request catchers, the GitLab job token sent to a host that is not a
-- GitLab instance, and Jenkins credentials pasted into the script text by
-- Groovy interpolation.
local function check_ci(m, ctx, suspicious)
  local gitlab = m.platform == "gitlab"
  -- Jenkins: names interpolated by Groovy, per step route.
  local groovy = {}
  if not gitlab then
    for _, e in ipairs(m.exprs or {}) do
      if e.syntax == "groovy" and e.route then
        local name = e.text:match("^env%.([%a_][%w_]*)$") or e.text:match("^([%a_][%w_]*)$")
        if name then
          groovy[e.route] = groovy[e.route] or {}
          groovy[e.route][name] = true
        end
      end
    end
  end
  local seen = {}
  for step, job in mlgate.pipeline.steps(m) do
    local run = step.run
    local text = run and run.text
    local sh = mlgate.pipeline.shell(step, job, m)
    if text and (text:find("curl", 1, true) or text:find("wget", 1, true))
       and sh ~= "bat" and sh ~= "cmd" then
      local creds = {}
      for _, n in ipairs(step.credentials or {}) do creds[n] = true end
      if gitlab then
        for _, kv in ipairs(job.id_tokens or {}) do creds[kv.name] = true end
        for _, kv in ipairs(job.secrets or {}) do creds[kv.name] = true end
      end
      local interp = (step.route and groovy[step.route]) or {}
      local script = mlgate.shell.parse(text)
      for _, c in ipairs(script and script.cmds or {}) do
        local tool = c.argv[1] and basename(c.argv[1].text)
        if tool == "curl" or tool == "wget" then
          local found, hosts, http, in_url = {}, {}, false, false
          local job_token, pasted, bound = false, false, false
          for i = 2, #c.argv do
            local w = c.argv[i]
            local wt = w.text
            local is_url = wt:match("^[%a][%w+.-]*://") ~= nil
            if is_url then
              local h = host_of(wt)
              if h and h ~= "" and not h:find("[%${}]") then hosts[#hosts + 1] = h end
              if wt:match("^http://") then http = true end
            end
            local raw = text:sub(w.offset + 1, w.offset + w.len)
            if raw:find("$", 1, true) then
              for _, name in ipairs(ci_expansions(raw)) do
                local tok = gitlab and GITLAB_TOKENS[name]
                if tok or creds[name] or secret_name(name) then
                  found[#found + 1] = name
                  if tok then job_token = true end
                  if creds[name] then bound = true end
                  if interp[name] then pasted = true end
                  if is_url then in_url = true end
                end
              end
            end
          end
          if #found > 0 then
            local bad_host
            for _, h in ipairs(hosts) do
              if host_matches(h, suspicious) then bad_host = h end
            end
            local foreign = false
            for _, h in ipairs(hosts) do
              if not h:find("gitlab", 1, true) then foreign = true end
            end
            local sev, why
            if bad_host then
              sev, why = "high", ("to %s, a request-catcher or tunnel host"):format(bad_host)
            elseif in_url then
              sev, why = "high", "inside the URL, where server and proxy logs keep it"
            elseif http then
              sev, why = "high", "over plain http"
            elseif pasted then
              sev, why = "medium", "pasted into the script text by Groovy interpolation"
            elseif job_token and foreign then
              sev, why = "medium", ("to %s, which is not the GitLab instance"):format(hosts[1])
            end
            local line, col = mlgate.pipeline.where(run, c.offset)
            local path = step.path or job.path
            local at = (path or "") .. ":" .. line .. ":" .. col
            if sev and not seen[at] then
              seen[at] = true
              ctx:fail{
                message = ("%s sends `$%s` %s; pass secrets in a header from an environment "
                  .. "variable over https, never in URLs%s."):format(tool, found[1], why,
                  gitlab and "" or " or interpolated by Groovy (use single quotes)"),
                path = path, line = line, column = col, severity = sev,
                confidence = (bad_host or bound or job_token) and "high" or "medium",
                key = step.route .. ":" .. tool .. ":" .. line .. ":" .. col,
                details = {job = job.id, step = step.index, tool = tool, secrets = found,
                           hosts = hosts},
              }
            end
          end
        end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/secret-exfiltration",
  title = "Secrets should not be sent with curl or wget from CI scripts",
  description = [[
A `run:` script that passes a secret or the job token to curl or wget sends
it over the network. When the secret is written as `${{ secrets.X }}` in the
script, GitHub pastes its value into the script file on the runner (readable
by every later step) and into the process list; when it is part of the URL
it lands in the access logs of every server, proxy and CDN on the way; over
plain http it is readable on the wire; and a request to a request catcher
or paste site is what exfiltration by a compromised step or injected script
looks like. In ML pipelines the secrets at stake are model-hub write tokens,
experiment-tracker keys and cloud credentials for training data.

Reported: curl/wget commands with a templated secret in their arguments
(medium), with a secret in the URL or over http:// (high), or sending any
secret to a host of param `suspicious_hosts` (high). GitHub's token sent to
GitHub's API is not reported. Same intent as checkov's CKV_GHA_3 and
CKV_GITLABCI_1. GitLab CI script lines and Jenkins sh steps: the job token
(CI_JOB_TOKEN), ID tokens, Jenkins credentials in scope and secret-named
variables in a URL, over http or to such a host (high); the job token sent
to a host that is not a GitLab instance, and credentials pasted into a
Jenkins script by Groovy interpolation (medium).]],
  remediation = [[
Pass secrets through environment variables, in a header, over https:

    - run: |
        curl -fsS -H "Authorization: Bearer ${WANDB_API_KEY}" \
          https://api.wandb.ai/...
      env:
        WANDB_API_KEY: ${{ secrets.WANDB_API_KEY }}

Never put a secret into a URL (`?token=`), and prefer the service's own
CLI or action, which keeps the token out of the command line.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "medium",
  atlas = {"AML.T0055", "AML.T0025"},
  aliases = {"catalog:SEC-EXFIL", "checkov:CKV_GHA_3", "checkov:CKV_GITLABCI_1"},
  references = {
    "https://www.checkov.io/5.Policy%20Index/github_actions.html",
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#using-secrets-in-a-workflow",
  },
  files = P.files("github", "action", "gitlab", "jenkins"),
  params = {
    suspicious_hosts = {"webhook.site", "requestbin.net", "requestcatcher.com",
                        "pipedream.net", "ngrok.io", "ngrok-free.app", "ngrok.app",
                        "interact.sh", "oast.fun", "oast.pro", "oast.live", "oast.site",
                        "burpcollaborator.net", "oastify.com", "pastebin.com",
                        "transfer.sh", "hookb.in", "beeceptor.com", "trycloudflare.com"},
  },

  check = function(file, ctx)
    local suspicious = ctx.params.suspicious_hosts
    if type(suspicious) ~= "table" then
      return ctx:error("param 'suspicious_hosts' must be a list of host names")
    end
    local m = mlgate.pipeline.load(file.path)
    if not m then return end
    if m.kind == "gitlab-ci" or m.kind == "jenkinsfile" then
      return check_ci(m, ctx, suspicious)
    end
    if m.kind ~= "workflow" and m.kind ~= "action" then return end

    for step, job in mlgate.pipeline.steps(m) do
      local run = step.run
      local text = run and run.text
      if text and (text:find("curl", 1, true) or text:find("wget", 1, true)) then
        local shell = step.shell and step.shell.text or ""
        local script = not shell:match("^%s*python") and mlgate.shell.parse(text) or nil
        local env
        local count = {}
        for _, c in ipairs(script and script.cmds or {}) do
          local tool = c.argv[1] and basename(c.argv[1].text)
          if tool == "curl" or tool == "wget" then
            env = env or secret_env(m, job, step)
            local inline, via_env, in_url = {}, {}, {}
            local hosts, http = {}, false
            for i = 2, #c.argv do
              local w = c.argv[i]
              local wt = w.text
              local is_url = wt:match("^[%a][%w+.-]*://") ~= nil
              if is_url then
                local h = host_of(wt)
                if h and h ~= "" and not h:find("[%${}]") then hosts[#hosts + 1] = h end
                if wt:match("^http://") then http = true end
              end
              local found = {}
              if w.template then
                for _, r in ipairs(secret_refs(wt)) do
                  inline[#inline + 1] = r
                  found[#found + 1] = r
                end
              end
              if w.expansion then
                local raw = text:sub(w.offset + 1, w.offset + w.len)
                for _, name in ipairs(expansions(raw)) do
                  if env[name] then
                    via_env[#via_env + 1] = name
                    found[#found + 1] = env[name]
                  end
                end
              end
              if is_url and #found > 0 then
                for _, p in ipairs(found) do in_url[#in_url + 1] = p end
              end
            end

            local secrets = {}
            for _, p in ipairs(inline) do secrets[#secrets + 1] = p end
            for _, n in ipairs(via_env) do secrets[#secrets + 1] = env[n] end
            if #secrets > 0 then
              -- GitHub's token to GitHub: intended.
              local only_token, to_github = true, #hosts > 0
              for _, r in ipairs(secrets) do
                if not TOKEN_REFS[r.path] then only_token = false end
              end
              for _, h in ipairs(hosts) do
                if not GITHUB_HOSTS[h] then to_github = false end
              end
              local bad_host
              for _, h in ipairs(hosts) do
                if host_matches(h, suspicious) then bad_host = h end
              end
              local sev, why
              if bad_host then
                sev, why = "high", ("to %s, a request-catcher or tunnel host"):format(bad_host)
              elseif #in_url > 0 then
                sev, why = "high", "inside the URL, where server and proxy logs keep it"
              elseif http then
                sev, why = "high", "over plain http"
              elseif #inline > 0 then
                sev, why = "medium", "pasted into the script text by a ${{ }} template"
              end
              if sev and not (only_token and to_github and not bad_host and not http) then
                local line, col = mlgate.pipeline.where(run, c.offset)
                local names = {}
                for i, r in ipairs(secrets) do names[i] = r.text end
                local k = step.route .. ":" .. tool
                count[k] = (count[k] or 0) + 1
                ctx:fail{
                  message = ("%s sends %s %s; pass secrets through env variables in a header "
                    .. "over https, never in URLs or templated into the script."):format(
                    tool, secrets[1].path == "github.token" and "the job token"
                      or ("`" .. secrets[1].text .. "`"), why),
                  line = line, column = col, severity = sev,
                  confidence = bad_host and "high" or "medium",
                  key = k .. (count[k] > 1 and (":" .. count[k]) or ""),
                  details = {job = job and job.id, step = step.index, tool = tool,
                             secrets = names, hosts = hosts},
                }
              end
            end
          end
        end
      end
    end
  end,
}
