-- pipeline/obfuscation: GitHub Actions features written so that they do
-- the same as a plain spelling but defeat review and pattern matching:
--   * `uses:` paths with `.`, `..` or empty components
--     (actions/checkout/./@v4, foo/bar////baz@v1, a/b/x/../y@v1);
--   * `${{ }}` expressions that are constant (`${{ 'foo' }}`,
--     `${{ format('{0}', 'abc') }}`) or contain a constant sub-expression
--     (`format('{0}', github.x, true || false)`);
--   * `fromJSON(toJSON(x))` round trips, which are x;
--   * a whole `with:` given as one expression (the action's inputs cannot
--     be read; informational).
-- Pedantic only (as in zizmor): computed indexes (`inputs[inputs.name]`),
-- constant indexes written as computations (`github[format('{0}', 'event')]`),
-- literal indexes that could be a property (`github['event']`) and
-- upper-cased context names (`GITHUB.event`).
--
-- "Constant" follows zizmor's constant-reducible definition: literals,
-- operators over constants, and contains/startsWith/endsWith/format/toJSON/
-- join over constants (fromJSON is not, so matrices built with
-- fromJSON('[...]') are not reported).

local gha = mlgate.gha

-- Source text for a message, shortened when long.
local function clip(s)
  s = s:gsub("%s+", " ")
  if #s > 80 then return s:sub(1, 77) .. "..." end
  return s
end

local REDUCIBLE_CALLS = {
  contains = true, startsWith = true, endsWith = true, format = true, toJSON = true,
  join = true,
}

local function reducible(n)
  local t = n.type
  if t == "literal" then return true end
  if t == "group" or t == "not" then return reducible(n.left) end
  if t == "compare" then return reducible(n.left) and reducible(n.right) end
  if t == "and" or t == "or" then
    for _, a in ipairs(n.args) do
      if not reducible(a) then return false end
    end
    return true
  end
  if t == "call" and REDUCIBLE_CALLS[n.name] then
    for _, a in ipairs(n.args) do
      if not reducible(a) then return false end
    end
    return true
  end
  return false
end

local function strip(n)
  while n.type == "group" do n = n.left end
  return n
end

-- Collects obfuscated sub-expressions of n into out as {off, len, kind,
-- profile} (off/len: the text to show and point at). in_index: n is (inside)
-- the index of a context chain.
local function add(out, node, kind, profile, from)
  local off = from or node.offset
  out[#out + 1] = {off = off, len = node.offset + node.len - off, kind = kind,
                   profile = profile}
end

local function subexprs(n, out, in_index)
  local t = n.type
  if t ~= "literal" and reducible(n) then
    if in_index then add(out, n, "constant-index", "pedantic")
    else add(out, n, "constant-subexpr") end
    return
  end
  if t == "call" then
    if n.name == "fromJSON" and #n.args == 1 then
      local inner = strip(n.args[1])
      if inner.type == "call" and inner.name == "toJSON" and #inner.args == 1 then
        add(out, n, "roundtrip")
      end
    end
    for _, a in ipairs(n.args) do subexprs(a, out, in_index) end
  elseif t == "and" or t == "or" then
    for _, a in ipairs(n.args) do subexprs(a, out, in_index) end
  elseif t == "compare" then
    subexprs(n.left, out, in_index)
    subexprs(n.right, out, in_index)
  elseif t == "not" or t == "group" or t == "property" or t == "star" then
    subexprs(n.left, out, in_index)
  elseif t == "context" then
    if n.name ~= n.name:lower() then add(out, n, "context-case", "pedantic") end
  elseif t == "index" then
    subexprs(n.left, out, in_index)
    -- Point at the brackets: "[inputs.foo]".
    local from = n.left.offset + n.left.len
    local r = strip(n.right)
    if r.type == "literal" then
      if type(r.value) == "string" and r.value:match("^[%a_][%w_%-]*$") then
        add(out, n, "literal-index", "pedantic", from)
      end
    elseif r.type == "star" then
      return
    elseif reducible(r) then
      subexprs(n.right, out, true)
    else
      add(out, n, "computed-index", "pedantic", from)
      subexprs(n.right, out, true)
    end
  end
end

local MESSAGES = {
  constant = "`${{ %s }}` is a constant; write its value instead of an expression.",
  ["constant-subexpr"] = "`%s` is a constant written as an expression; replace it by its value.",
  ["constant-index"] = "The index `%s` is a constant written as an expression; "
    .. "use the property name directly.",
  ["computed-index"] = "The index `%s` is computed at run time, so what this expression reads "
    .. "cannot be reviewed; read a named property instead.",
  ["literal-index"] = "The index %s spells a property name as a string; write it as a "
    .. "property (`.name`) so that reviews and scanners see it.",
  ["context-case"] = "The context `%s` is spelled in unusual case; write it in lower case "
    .. "so that reviews and scanners see it.",
  roundtrip = "`%s` converts a value to JSON and back, which returns it unchanged; use the "
    .. "value directly.",
}

local KEYWORDS = {["true"] = true, ["false"] = true, ["null"] = true, NaN = true,
                  Infinity = true}

-- True for the common expression that is only a lower-case context path
-- (`github.sha`, `steps.build.outputs.tag`, `matrix.*`): nothing in it can
-- be obfuscated, and skipping the parse keeps the policy cheap.
local function plain_path(src)
  local head = src:match("^%s*([%l_][%l%d_%-]*)[%w_%-%.%*]*%s*$")
  return head ~= nil and not KEYWORDS[head]
end

-- Cheap gates on the raw text, so that files with nothing to report do not
-- pay for walking the model: a `uses:` value with "/." "//" or "/@", and a
-- `${{ }}` that is not a plain context path.
local function suspicious_uses(raw)
  for v in raw:gmatch("uses[\"']?[ \t]*:%s*([^\n#]*)") do
    v = v:gsub("^[\"']", "")
    if v:find("^[|>&*!]") then return true end
    if not (v:find("^%./") or v:find("^docker://")) and
       (v:find("/.", 1, true) or v:find("//", 1, true) or v:find("/@", 1, true)) then
      return true
    end
  end
  return false
end

local function suspicious_exprs(raw)
  for inner in raw:gmatch("%${{(.-)}}") do
    if not plain_path(inner) then return true end
  end
  return false
end

-- A whole `with:` written as one expression, even a plain path.
local function suspicious_with(raw)
  return raw:find("with[\"']?[ \t]*:%s*[\"']?%${{") or raw:find("with[\"']?[ \t]*:%s*[|>&*!]")
end

-- What is obfuscated in the path of an owner/repo/path@ref reference, or nil.
local function uses_problem(raw)
  local v = raw:match("^%s*(.-)%s*$")
  if v:sub(1, 2) == "./" or v:sub(1, 9) == "docker://" then return nil end
  local path = v:match("^([^@]*)")
  local owner, repo, sub = path:match("^([^/]+)/([^/]+)/(.*)$")
  if not owner then return nil end
  local what = {}
  for comp in (sub .. "/"):gmatch("([^/]*)/") do
    if comp == "." then what["'.'"] = true
    elseif comp == ".." then what["'..'"] = true
    elseif comp == "" then what["empty components ('//' or a trailing '/')"] = true end
  end
  local list = mlgate.keys(what)
  if #list == 0 then return nil end
  table.sort(list)
  return table.concat(list, " and "), path
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
  id = "pipeline/obfuscation",
  title = "Actions references and expressions must not be obfuscated",
  description = [[
GitHub accepts many spellings of the same thing. `uses:
actions/checkout/./@v4`, `actions/checkout////@v4` and
`actions/cache/save/../save@v4` run the same action as the plain reference;
`${{ 'main' }}` and `${{ format('{0}', 'main') }}` are the literal `main`;
`fromJSON(toJSON(x))` is `x`. Nobody writes these by accident: they slip
code past reviewers and past the pattern matching of scanners and
allow-lists (pinning rules, forbidden actions, cache checks), which is how a
malicious change to a training or model-publishing workflow would hide.

Reported (low severity): `uses:` paths with `.`, `..` or empty components;
expressions that are constant or contain a constant sub-expression
(zizmor's definition: literals, operators and
contains/startsWith/endsWith/format/toJSON/join over constants; fromJSON is
not counted, so `fromJSON('["a","b"]')` matrices pass); fromJSON(toJSON(x))
round trips. Informational: a whole `with:` written as one expression, which
hides the action's inputs. Pedantic profile only: computed indexes
(`inputs[inputs.name]`), constant indexes written as computations, literal
indexes that could be properties (`github['event']`) and context names in
unusual case (`GITHUB.event`). Same check as zizmor's obfuscation audit.]],
  remediation = [[
Write references and values plainly:

    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    - uses: github/codeql-action/init@<sha>     # not github/codeql-action/./init
    - run: echo "abc"                          # not echo ${{ format('{0}', 'abc') }}
      if: github.event_name == 'push'         # not github['event_name']

List the inputs of an action under `with:` instead of computing the whole
mapping with fromJSON().]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0074"},
  aliases = {"catalog:OBFUSC", "zizmor:obfuscation"},
  references = {
    "https://docs.zizmor.sh/audits/#obfuscation",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/evaluate-expressions-in-workflows-and-actions",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end

    local raw = gate_text(file.path)
    local check_uses = not raw or suspicious_uses(raw)
    local check_exprs = not raw or suspicious_exprs(raw)
    local check_with = not raw or suspicious_with(raw)

    for uses, step, job in check_uses and mlgate.pipeline.uses(m) or function() end do
      if uses.kind == "action" or uses.kind == "reusable" then
        local what, path = uses_problem(uses.raw)
        if what then
          local route = step and step.route or (job and job.route) or ""
          ctx:fail{
            message = ("`uses: %s` has %s in its path, which GitHub ignores but which hides "
              .. "the action from review and pattern matching; write the plain path."):format(
              uses.raw, what),
            line = uses.key_line or uses.line, column = uses.col,
            key = route .. ".uses",
            details = {job = job and job.id, step = step and step.index, uses = uses.raw,
                       path = path},
          }
        end
      end
    end

    if not (check_exprs or check_with) then return end
    -- Keys number the checked expressions of each route in file order.
    local seen = {}
    local function key_base(e)
      local route = e.route or ""
      local n = (seen[route] or 0) + 1
      seen[route] = n
      return ("%s#%d"):format(route, n)
    end
    for _, e in ipairs(m.exprs) do
      local src = e.text
      -- Most expressions are plain context paths: decide on the text alone.
      local ast = check_exprs and not plain_path(src) and e.fenced
        and gha.parse(src, {any_context = true})
      local whole_with = check_with and e.field == "with" and not e.key and e.fenced
      local base = (ast or whole_with) and key_base(e)
      if ast then
        local one_line = e.end_line == e.line
        local function col_of(off)
          return one_line and (e.col + 3 + off) or e.col
        end
        local lead = #src:match("^%s*")
        if reducible(ast) then
          local shown = src:match("^%s*(.-)%s*$")
          ctx:fail{
            message = MESSAGES.constant:format(clip(shown)),
            line = e.line, column = col_of(lead),
            key = base .. ":constant",
            details = {job = e.job, step = e.step, field = e.field, kind = "constant"},
          }
        else
          local out = {}
          subexprs(ast, out, false)
          for _, f in ipairs(out) do
            local shown = src:sub(f.off + 1, f.off + f.len)
            ctx:fail{
              message = MESSAGES[f.kind]:format(clip(shown)),
              line = e.line, column = col_of(f.off),
              profile = f.profile,
              key = ("%s:%s:%d"):format(base, f.kind, f.off),
              details = {job = e.job, step = e.step, field = e.field, kind = f.kind},
            }
          end
        end
      end
      if whole_with then
        ctx:fail{
          message = "The whole `with:` of this step is one expression, so its inputs "
            .. "cannot be reviewed or checked; list each input under `with:`.",
          line = e.line, column = e.col,
          severity = "info",
          key = base .. ":with",
          details = {job = e.job, step = e.step, field = e.field, kind = "with-expression"},
        }
      end
    end
  end,
}
