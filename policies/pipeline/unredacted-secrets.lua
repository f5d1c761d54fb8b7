-- pipeline/unredacted-secrets: `fromJSON(secrets.X)` (and fields of it):
-- GitHub masks the secret's exact value in logs, but the values decoded
-- out of a JSON secret are new strings the runner does not know, so they
-- print in clear text.
--
-- Same check as zizmor's unredacted-secrets: a fromJSON() call with an
-- argument that is the secrets context or a secret.

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
zizmor's unredacted-secrets.]],
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
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or not m.exprs then return end
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
