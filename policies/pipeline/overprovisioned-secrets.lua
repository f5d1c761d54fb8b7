-- pipeline/overprovisioned-secrets: an expression that hands a job every
-- secret at once: `toJSON(secrets)`, `secrets.*`, or `secrets[<computed>]`
-- (GitHub must then make every secret available to the job, since it
-- cannot know which one the index selects).
--
-- Same check as zizmor's overprovisioned-secrets and poutine's
-- job_all_secrets; `secrets.*` is an addition (it yields every value).

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

local function is_secrets(n)
  n = strip(n)
  return n.type == "context" and n.name:lower() == "secrets"
end

-- Collects the expansions of the whole secrets context under n.
local function collect(n, out)
  local t = n.type
  if t == "call" then
    if n.name == "toJSON" then
      for _, a in ipairs(n.args) do
        if is_secrets(a) then
          out[#out + 1] = {node = n, kind = "toJSON"}
          return
        end
      end
    end
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "index" then
    local r = strip(n.right)
    if is_secrets(n.left) and not (r.type == "literal" and type(r.value) == "string") then
      out[#out + 1] = {node = n, kind = r.type == "star" and "star" or "computed"}
      return
    end
    collect(n.left, out)
    collect(n.right, out)
  elseif t == "star" then
    if is_secrets(n.left) then
      out[#out + 1] = {node = n, kind = "star"}
      return
    end
    collect(n.left, out)
  elseif t == "and" or t == "or" then
    for _, a in ipairs(n.args) do collect(a, out) end
  elseif t == "compare" then
    collect(n.left, out)
    collect(n.right, out)
  elseif t == "not" or t == "group" or t == "property" then
    collect(n.left, out)
  end
end

local WHY = {
  toJSON = "serialises every secret the repository and organisation hold into one value",
  star = "reads every secret value at once",
  computed = "selects a secret by a name computed at run time, so GitHub gives the job "
    .. "every secret",
}

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
  id = "pipeline/overprovisioned-secrets",
  title = "Jobs must not receive the whole secrets context",
  description = [[
`${{ toJSON(secrets) }}`, `${{ secrets.* }}` and `${{ secrets[expr] }}` with a
computed name give a job every secret the repository and its organisation
define, not the one or two it needs. Any step of that job (a third-party
action, a dependency installed during the build, a training script that
loads remote code) can then read model-registry and Hugging Face tokens,
cloud credentials for the training data, signing keys and deploy keys that
this workflow never meant to use. For a computed index GitHub cannot tell
which secret will be read, so it provisions all of them.

Checks every expression of workflows and composite actions. Same check as
zizmor's overprovisioned-secrets and poutine's job_all_secrets.]],
  remediation = [[
Pass each secret the job needs by name, in the step that needs it:

    - run: python publish.py
      env:
        HF_TOKEN: ${{ secrets.HF_TOKEN }}
        MLFLOW_TRACKING_TOKEN: ${{ secrets.MLFLOW_TRACKING_TOKEN }}

Instead of `secrets[format('TOKEN_{0}', matrix.env)]`, give each matrix
entry its own environment (`environment: ${{ matrix.env }}`) with a secret
of the same name in each.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0055"},
  aliases = {"catalog:SEC-ALL", "zizmor:overprovisioned-secrets", "poutine:job_all_secrets"},
  references = {
    "https://docs.zizmor.sh/audits/#overprovisioned-secrets",
    "https://boostsecurityio.github.io/poutine/rules/job_all_secrets/",
    "https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or not m.exprs then return end
    -- Cheap gate on the raw text before touching the model's expressions:
    -- every finding has `secrets` followed by `)`, `,`, `[` or `.*`.
    local raw = gate_text(file.path)
    if raw then
      local low = raw:lower()
      if not (low:find("secrets%s*[%),%[]") or low:find("secrets%s*%.%s*%*")) then return end
    end
    local seen = {}
    for _, e in ipairs(m.exprs) do
      local src = e.text
      -- Cheap filter: most expressions never mention secrets.
      if src:lower():find("secrets", 1, true) then
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
              message = ("`%s` %s; pass only the secrets this step needs, each by name "
                .. "(secrets.NAME)."):format(clip(shown), WHY[f.kind]),
              line = e.line, column = e.col,
              key = ("%s#%d:%s:%d"):format(route, n, f.kind, node.offset),
              details = {job = e.job, step = e.step, field = e.field, key = e.key,
                         kind = f.kind},
            }
          end
        end
      end
    end
  end,
}
