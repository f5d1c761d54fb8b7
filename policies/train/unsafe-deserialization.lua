-- train/unsafe-deserialization: Python code that deserialises data with a
-- loader able to run code (pickle and everything built on it, unsafe YAML
-- loaders, Keras unsafe mode, marshal).
--
-- How it reads a file: comments and string literals are masked first
-- (replaced by spaces, offsets and newlines kept), so `# pickle.load(f)` and
-- "torch.load(x)" in a docstring are never calls; expressions inside
-- f-strings stay visible because they run. Imports are then resolved
-- (`import pickle as pk`, `from joblib import load as jl`, star imports) and
-- every call whose resolved name is a known loader is checked, reading its
-- keyword arguments up to the matching closing parenthesis, across lines.

local PICKLE_MSG = "%s runs any code embedded in the data it reads; store the data in a "
  .. "format that cannot carry code (JSON, Parquet, safetensors) or load it with a "
  .. "restricted loader."
local UNPICKLER_MSG = "%s runs any code embedded in the stream unless find_class is "
  .. "restricted; subclass it with an allow-listing find_class, or use a format that "
  .. "cannot carry code."
local JOBLIB_MSG = "%s unpickles the file, running any code embedded in it; save models "
  .. "with skops, ONNX or safetensors instead, or load only files whose hash you verified."
local PANDAS_MSG = "%s unpickles the file, running any code embedded in it; store data "
  .. "frames as Parquet or CSV instead."
local YAML_ALWAYS_MSG = "%s builds arbitrary Python objects from tags in the document "
  .. "and can run code; use yaml.safe_load() instead."
local SHELVE_MSG = "%s stores values with pickle, so reading the shelf runs any code put "
  .. "into it; use JSON or SQLite for data you do not fully control."
local MARSHAL_MSG = "%s reads code objects and is not safe for untrusted data; use JSON "
  .. "or another data-only format."

-- Loaders. `rule` says how the call's arguments decide:
--   always   every call can run code
--   torch    safe only with weights_only=True
--   numpy    unsafe with allow_pickle=True (argument 3 or keyword)
--   yaml     safe only with a safe Loader (argument 2 or keyword)
--   keras    unsafe with safe_mode=False
local TARGETS = {}
local function target(names, rule, msg)
  for _, n in ipairs(names) do TARGETS[n] = {rule = rule, msg = msg} end
end
target({"pickle.load", "pickle.loads", "cPickle.load", "cPickle.loads", "_pickle.load",
        "_pickle.loads", "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads",
        "jsonpickle.decode"}, "always", PICKLE_MSG)
target({"pickle.Unpickler", "cPickle.Unpickler", "_pickle.Unpickler", "dill.Unpickler"},
       "always", UNPICKLER_MSG)
target({"joblib.load", "sklearn.externals.joblib.load"}, "always", JOBLIB_MSG)
target({"pandas.read_pickle"}, "always", PANDAS_MSG)
target({"torch.load", "torch.serialization.load"}, "torch")
target({"numpy.load"}, "numpy")
target({"yaml.load", "yaml.load_all"}, "yaml")
target({"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"},
       "always", YAML_ALWAYS_MSG)
target({"keras.models.load_model", "keras.saving.load_model",
        "tensorflow.keras.models.load_model", "tensorflow.keras.saving.load_model",
        "tf_keras.models.load_model"}, "keras")
target({"shelve.open"}, "always", SHELVE_MSG)
target({"marshal.load", "marshal.loads"}, "always", MARSHAL_MSG)

-- Top-level module names that mean themselves even without a visible import
-- (imported in a way this policy does not follow, e.g. inside exec).
local MODULES = {}
for name in pairs(TARGETS) do MODULES[name:match("^[^.]+")] = true end

-- The last name of every target: calls are found by the name they end
-- with, plus the names a file binds to a target (`from joblib import load
-- as jl` makes `jl(` a candidate).
local LAST = {}
for name in pairs(TARGETS) do LAST[name:match("([^.]+)$")] = true end

-- A file that mentions none of these words cannot call a target (even
-- through an alias: the import names the target), so it is not parsed.
-- Generic last names (open, decode) are replaced by their module's name.
local PREFILTER
do
  local words = {}
  for name in pairs(TARGETS) do
    local last = name:match("([^.]+)$")
    if last == "open" or last == "decode" then last = name:match("^([^.]+)") end
    words[last] = true
  end
  PREFILTER = mlgate.re.compile("\\b(?:" .. table.concat(mlgate.keys(words), "|") .. ")\\b")
end

local function call_re(bindings)
  local names = {}
  for n in pairs(LAST) do names[n] = true end
  for alias, full in pairs(bindings) do
    if TARGETS[full] then names[alias] = true end
  end
  -- sorted keys: the same file always gives the same pattern
  return mlgate.re.compile("(?<![\\w.])((?:[A-Za-z_]\\w*[ \\t]*\\.[ \\t]*)*(?:"
    .. table.concat(mlgate.keys(names), "|") .. "))[ \\t]*\\(")
end

local SAFE_YAML_LOADERS = {SafeLoader = true, CSafeLoader = true, BaseLoader = true,
                           CBaseLoader = true}
local UNSAFE_YAML_LOADERS = {Loader = true, CLoader = true, UnsafeLoader = true,
                             CUnsafeLoader = true, FullLoader = true, CFullLoader = true}

-- --- masking comments and strings --------------------------------------------

local STRING_PREFIXES = {r = true, u = true, b = true, f = true, t = true, br = true,
                         rb = true, fr = true, rf = true, tr = true, rt = true}

local function blank(s)
  return (s:gsub("[^\n]", " "))
end

local scan_string

-- Copies the expression of an f-string replacement field starting at i
-- (after '{') into buf. Returns the index after the field's '}' and
-- "closed", or the index of what ended the enclosing string early and
-- "outer", or #src + 1 and "eof". Nested strings are masked; a format spec
-- is masked (it may hold a quote as fill character).
local function scan_fexpr(src, i, q, triple, buf)
  local depth, j, start, len = 0, i, i, #src
  local q3 = q:rep(3)
  while j <= len do
    local c = src:sub(j, j)
    if c == "'" or c == '"' then
      if (not triple and c == q) or (triple and src:sub(j, j + 2) == q3) then
        buf[#buf + 1] = src:sub(start, j - 1)
        return j, "outer"
      end
      buf[#buf + 1] = src:sub(start, j - 1)
      j = scan_string(src, j, false, buf)
      start = j
    elseif c == "\n" and not triple then
      buf[#buf + 1] = src:sub(start, j - 1)
      return j, "outer"
    elseif c == "(" or c == "[" or c == "{" then
      depth = depth + 1
      j = j + 1
    elseif c == ")" or c == "]" then
      depth = depth - 1
      j = j + 1
    elseif c == "}" then
      if depth <= 0 then
        buf[#buf + 1] = src:sub(start, j)
        return j + 1, "closed"
      end
      depth = depth - 1
      j = j + 1
    elseif c == ":" and depth <= 0 and src:sub(j + 1, j + 1) ~= "=" then
      buf[#buf + 1] = src:sub(start, j - 1)
      local d, k = 0, j
      while k <= len do
        local ch = src:sub(k, k)
        if ch == "{" then
          d = d + 1
        elseif ch == "}" then
          if d == 0 then break end
          d = d - 1
        elseif (ch == "\n" and not triple) or (ch == q and (not triple or src:sub(k, k + 2) == q3)) then
          break
        end
        k = k + 1
      end
      buf[#buf + 1] = blank(src:sub(j, k - 1))
      start, j = k, k
    else
      j = j + 1
    end
  end
  buf[#buf + 1] = src:sub(start, len)
  return len + 1, "eof"
end

-- Appends the masked string literal whose opening quote is at qpos to buf
-- (delimiters kept, contents blanked except f-string expressions) and
-- returns the index after it. An unterminated single-quoted string ends at
-- the end of its line, as Python's tokenizer would report it.
function scan_string(src, qpos, fstring, buf)
  local q = src:sub(qpos, qpos)
  local q3 = q:rep(3)
  local triple = src:sub(qpos, qpos + 2) == q3
  local dl = triple and 3 or 1
  local len = #src
  local pat = "[\\" .. q .. (triple and "" or "\n") .. (fstring and "{" or "") .. "]"
  local j = qpos + dl
  local lit = j
  buf[#buf + 1] = src:sub(qpos, qpos + dl - 1)
  local function flush(upto)
    if upto >= lit then buf[#buf + 1] = blank(src:sub(lit, upto)) end
  end
  while true do
    local p = src:find(pat, j)
    if not p then
      flush(len)
      return len + 1
    end
    local c = src:sub(p, p)
    if c == "\\" then
      j = p + 2
    elseif c == "\n" then
      flush(p - 1)
      return p
    elseif c == "{" then
      if src:sub(p + 1, p + 1) == "{" then
        j = p + 2
      else
        flush(p)
        local e, how = scan_fexpr(src, p + 1, q, triple, buf)
        if how == "eof" then return e end
        j, lit = e, e
      end
    elseif not triple then
      flush(p - 1)
      buf[#buf + 1] = q
      return p + 1
    elseif src:sub(p, p + 2) == q3 then
      flush(p - 1)
      buf[#buf + 1] = q3
      return p + 3
    else
      j = p + 1
    end
  end
end

-- Returns src with comments and string contents replaced by spaces (same
-- length, newlines kept), so positions in it are positions in src. Only
-- '#' and quotes stop the scan; a string's prefix (r, b, f, rb, ...) is
-- found by looking back from its quote, so identifiers cost nothing.
local function mask(src)
  local buf, i, last, len = {}, 1, 1, #src
  while true do
    local s = src:find("[#'\"]", i)
    if not s then break end
    if src:byte(s) == 35 then -- '#'
      local e = src:find("\n", s, true) or len + 1
      buf[#buf + 1] = src:sub(last, s - 1)
      buf[#buf + 1] = blank(src:sub(s, e - 1))
      last, i = e, e
    else
      local p = s
      while p > 1 and p > s - 2 and src:sub(p - 1, p - 1):find("%a") do p = p - 1 end
      local prefix = src:sub(p, s - 1):lower()
      local fstring = false
      if prefix ~= "" and STRING_PREFIXES[prefix]
         and not (p > 1 and src:sub(p - 1, p - 1):find("[%w_\128-\255]")) then
        fstring = prefix:find("[ft]") ~= nil
      end
      buf[#buf + 1] = src:sub(last, s - 1)
      i = scan_string(src, s, fstring, buf)
      last = i
    end
  end
  buf[#buf + 1] = src:sub(last)
  local out = table.concat(buf)
  if #out ~= #src then
    error("internal error: masking changed the length of the source")
  end
  return out
end

-- --- imports --------------------------------------------------------------------

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The text of a statement starting at i: up to the end of the logical line
-- (backslash continuations followed) or ';', or the parenthesised list.
-- Capped, so that a file of unclosed imports stays linear.
local STATEMENT_MAX = 65536

local function statement_tail(m, i)
  local limit = math.min(#m, i + STATEMENT_MAX)
  local s = m:match("^[ \t]*%(", i)
  if s then
    local close = m:find(")", i, true)
    if not close or close > limit then close = limit + 1 end
    return m:sub(i + #s, close - 1)
  end
  local j = i
  while j <= limit do
    local e = m:find("[;\n]", j)
    if not e or e > limit then break end
    if m:sub(e, e) == "\n" and (m:sub(e - 1, e - 1) == "\\" or m:sub(e - 2, e - 1) == "\\\r") then
      j = e + 1
    else
      return m:sub(i, e - 1)
    end
  end
  return m:sub(i, limit)
end

local function names_of(list)
  local out = {}
  for item in (list:gsub("\\%s*\n", " ") .. ","):gmatch("([^,]*),") do
    item = trim(item)
    if item ~= "" then
      local name, alias = item:match("^([%w_.%*]+)%s+as%s+([%w_]+)$")
      out[#out + 1] = {name = name or item:match("^([%w_.%*]+)"), alias = alias}
    end
  end
  return out
end

-- name bound in the module -> fully qualified name it refers to. One pass
-- over the import statements in order; a statement's text is consumed once
-- (an `import` inside an unclosed list is not a new statement), so the
-- pass stays linear even on malformed files.
local function bindings_of(m)
  local b = {}
  local consumed = 0
  for s, e, mod in mlgate.re.gfind(m, "\\b(?:from[ \\t]+([\\w.]+)[ \\t]+)?import\\b") do
    if s > consumed then
      local tail = statement_tail(m, e + 1)
      consumed = e + #tail
      if mod then
        if not mod:find("^%.") then
          for _, it in ipairs(names_of(tail)) do
            if it.name == "*" then
              for t in pairs(TARGETS) do
                local fn = t:sub(#mod + 2)
                if t:sub(1, #mod + 1) == mod .. "." and not fn:find(".", 1, true) then
                  b[fn] = t
                end
              end
            elseif it.name then
              b[it.alias or it.name] = mod .. "." .. it.name
            end
          end
        end
      else
        for _, it in ipairs(names_of(tail)) do
          if it.name and it.name ~= "*" then
            if it.alias then
              b[it.alias] = it.name
            else
              local top = it.name:match("^[^.]+")
              b[top] = top
            end
          end
        end
      end
    end
  end
  return b
end

local function resolve(chain, b)
  local first, rest = chain:match("^([%w_]+)(.*)$")
  local base = b[first] or (MODULES[first] and first)
  if not base then return nil end
  return base .. rest
end

-- --- calls ----------------------------------------------------------------------

-- Bracket structure of the masked source, in one pass: for every '(' the
-- index of its matching ')' (or #m + 1 when unclosed) and the indexes of
-- its top-level commas. One pass keeps deeply nested or unclosed calls
-- linear in the size of the file.
local function brackets(m)
  local close, commas, stack, kinds = {}, {}, {}, {}
  local i = 1
  while true do
    local p = m:find("[%(%)%[%]{},]", i)
    if not p then break end
    local c = m:sub(p, p)
    if c == "(" or c == "[" or c == "{" then
      stack[#stack + 1], kinds[#kinds + 1] = p, c
      if c == "(" then commas[p] = {} end
    elseif c == "," then
      local top = stack[#stack]
      if top and kinds[#kinds] == "(" then
        local l = commas[top]
        l[#l + 1] = p
      end
    elseif #stack > 0 then
      close[stack[#stack]] = p
      stack[#stack], kinds[#kinds] = nil, nil
    end
    i = p + 1
  end
  for _, p in ipairs(stack) do close[p] = #m + 1 end
  return close, commas
end

local ARG_MAX = 256 -- an argument's text is read up to this many bytes

-- Arguments of the call whose '(' is at open: positional values, keyword
-- values, whether **kwargs is passed, and the index of the ')'. Values
-- longer than ARG_MAX are cut (they are then no literal True/False).
local function call_args(m, open, close, commas)
  local stop = close[open] or (#m + 1)
  local bounds, start = {}, open + 1
  for _, c in ipairs(commas[open] or {}) do
    bounds[#bounds + 1] = {start, c - 1}
    start = c + 1
  end
  bounds[#bounds + 1] = {start, stop - 1}
  local pos, kw, star = {}, {}, false
  for _, r in ipairs(bounds) do
    local a = m:sub(r[1], math.min(r[2], r[1] + ARG_MAX - 1))
    if r[2] - r[1] + 1 > ARG_MAX then a = a .. " ..." end
    a = trim(a):gsub("%s+", " ")
    if a ~= "" then
      local k, v = a:match("^([%a_][%w_]*) ?= ?(.*)$")
      if k and v:sub(1, 1) ~= "=" then
        kw[k] = v
      elseif a:sub(1, 2) == "**" then
        star = true
      else
        pos[#pos + 1] = a
      end
    end
  end
  return pos, kw, star, math.min(stop, #m)
end

-- Decides one call. Returns nil when safe, else message, confidence,
-- argument name, argument value.
local function judge(name, t, label, pos, kw, star)
  if t.rule == "always" then
    return t.msg:format(label .. "()"), "high"
  elseif t.rule == "torch" then
    local v = kw.weights_only
    if v == "True" then return nil end
    if v == "False" then
      return ("%s(..., weights_only=False) unpickles arbitrary objects, running any code "
        .. "in the checkpoint; pass weights_only=True or store the weights as "
        .. "safetensors."):format(label), "high", "weights_only", v
    end
    if v then
      return ("%s(..., weights_only=%s) cannot be shown to load weights only; pass "
        .. "weights_only=True literally."):format(label, v), "medium", "weights_only", v
    end
    return ("%s() without weights_only=True unpickles arbitrary objects on torch < 2.6 "
      .. "(or when TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set), running any code in the "
      .. "checkpoint; pass weights_only=True explicitly."):format(label), "medium",
      "weights_only", star and "(from **kwargs?)" or "(not set)"
  elseif t.rule == "numpy" then
    local v = kw.allow_pickle or pos[3]
    if v == nil or v == "False" then return nil end
    if v == "True" then
      return ("%s(..., allow_pickle=True) unpickles object arrays, running any code in "
        .. "the file; drop allow_pickle=True and save numeric arrays (or safetensors) "
        .. "instead."):format(label), "high", "allow_pickle", v
    end
    return ("%s(..., allow_pickle=%s) may unpickle object arrays, running code from the "
      .. "file; pass allow_pickle=False."):format(label, v), "medium", "allow_pickle", v
  elseif t.rule == "yaml" then
    local v = kw.Loader or pos[2]
    local short = v and v:match("([%w_]+)%s*$")
    if short and SAFE_YAML_LOADERS[short] then return nil end
    if not v then
      return ("%s() without a Loader uses PyYAML's unsafe default before 6.0 and can "
        .. "build arbitrary Python objects; use yaml.safe_load() (or "
        .. "Loader=yaml.SafeLoader)."):format(label), "medium", "Loader", "(not set)"
    end
    if short and UNSAFE_YAML_LOADERS[short] then
      return ("%s(..., Loader=%s) builds arbitrary Python objects from tags and can run "
        .. "code; use yaml.safe_load() (or Loader=yaml.SafeLoader)."):format(label, v),
        "high", "Loader", v
    end
    return ("%s(..., Loader=%s) uses a loader not known to be safe; derive it from "
      .. "yaml.SafeLoader or use yaml.safe_load()."):format(label, v), "medium", "Loader", v
  elseif t.rule == "keras" then
    local v = kw.safe_mode
    if v == nil or v == "True" then return nil end
    if v == "False" then
      return ("%s(..., safe_mode=False) lets the model file run arbitrary Python (Lambda "
        .. "layers) on load; remove safe_mode=False and register custom layers "
        .. "instead."):format(label), "high", "safe_mode", v
    end
    return ("%s(..., safe_mode=%s) may disable Keras safe mode; pass safe_mode=True."):format(
      label, v), "medium", "safe_mode", v
  end
end

local function allow_list(ctx)
  local a = ctx.params.allow
  if a == nil or mlgate.isnull(a) then return {} end
  if type(a) == "string" then a = {a} end
  if type(a) ~= "table" then
    error("param 'allow' must be a list of \"module.function\" names, like [numpy.load]", 0)
  end
  for i, v in ipairs(a) do
    if type(v) ~= "string" or v == "" then
      error(("param 'allow': entry %d must be a \"module.function\" string"):format(i), 0)
    end
  end
  return a
end

local function allowed(list, name)
  for _, pat in ipairs(list) do
    if pat == name or mlgate.fs.glob(pat, name) then return true end
  end
  return false
end

-- Line starts, for offset -> line/column by binary search.
local function line_index(s)
  local starts, i = {1}, 1
  while true do
    local nl = s:find("\n", i, true)
    if not nl then break end
    starts[#starts + 1] = nl + 1
    i = nl + 1
  end
  return function(off)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= off then lo = mid else hi = mid - 1 end
    end
    return lo, off - starts[lo] + 1
  end
end

return mlgate.policy {
  id = "train/unsafe-deserialization",
  title = "Python code must not deserialise data with loaders that can run code",
  description = [[
Flags Python calls that deserialise data with a loader able to execute code
embedded in that data. A model or dataset file that reaches such a call
(downloaded, produced by another job, or swapped in a merge request) runs its
payload with the permissions of the training job, which usually holds cloud,
registry and tracking credentials.

Detected calls (aliases such as `import pickle as pk`, `from joblib import
load as jl`, `from torch import load` and star imports are followed):
- pickle / cPickle / _pickle / dill / cloudpickle `load`, `loads`, `Unpickler`;
  `jsonpickle.decode`; `joblib.load`; `pandas.read_pickle`; `shelve.open`;
  `marshal.load(s)`: always.
- `torch.load` without `weights_only=True`: `weights_only=False` with high
  confidence; no `weights_only` at all with medium confidence, because torch
  2.6 and later default to weights_only=True but older torch, and any torch
  with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, unpickle arbitrary objects.
- `numpy.load(..., allow_pickle=True)` (keyword or third argument).
- `yaml.load` / `yaml.load_all` without a safe Loader (SafeLoader,
  CSafeLoader, BaseLoader); `yaml.unsafe_load`, `yaml.full_load` (and _all).
- Keras `load_model(..., safe_mode=False)` (keras, tf.keras, tf_keras).

Comments and string literals are ignored (a call in a docstring is not a
call); expressions inside f-strings are code and are checked. A call is
reported at the line and column where it starts; its arguments are read up
to the matching parenthesis, across lines. Limits: a loader stored in a
variable (`f = pickle.load; f(x)`) or reached through getattr/importlib is not
followed.]],
  remediation = [[
Load data in a format that cannot carry code: safetensors for tensors
(`safetensors.torch.load_file`), `torch.load(path, weights_only=True)` for
checkpoints, JSON/Parquet/CSV for data, `yaml.safe_load` for YAML, skops or
ONNX for scikit-learn models. Where a pickle is unavoidable, load only files
whose SHA-256 you verified against a trusted manifest, and accept that call
explicitly with the policy's `allow` parameter (for example
`params: {allow: [joblib.load]}` in mlgate.yml) or a waiver with a reason and
an expiry date.]],
  gate = "train",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0011.000", "AML.T0010.003", "AML.T0018.002", "AML.M0011", "AML.M0016",
           "AML.M0014"},
  aliases = {"catalog:ML-UNSAFE-LOAD", "bandit:B301", "bandit:B302", "bandit:B506",
             "bandit:B614"},
  references = {
    "https://docs.python.org/3/library/pickle.html",
    "https://pytorch.org/docs/stable/generated/torch.load.html",
    "https://pyyaml.org/wiki/PyYAMLDocumentation",
    "https://atlas.mitre.org/techniques/AML.T0011.000",
  },
  files = {"**/*.py"},
  params = {allow = {}},

  check = function(file, ctx)
    local allow = allow_list(ctx)
    local src, err = mlgate.fs.read(file.path)
    if not src then return ctx:error(err) end
    if not mlgate.text.is_text(src) then return end -- not Python source
    if not PREFILTER:test(src) then return end
    local m = mask(src)
    local b = bindings_of(m)
    local where, close, commas
    for s, _, chain in call_re(b):gfind(m) do
      local written = chain:gsub("%s", "")
      local name = resolve(written, b)
      local t = name and TARGETS[name]
      local before = m:sub(math.max(1, s - 16), s - 1)
      if t and not before:find("%f[%w_]def%s+$") and not before:find("%f[%w_]class%s+$")
         and not allowed(allow, name) then
        local open = m:find("(", s + #chain, true)
        if not close then close, commas = brackets(m) end
        local pos, kw, star, stop = call_args(m, open, close, commas)
        local msg, conf, arg, value = judge(name, t, name, pos, kw, star)
        if msg then
          where = where or line_index(src)
          local line, col = where(s)
          local eline, ecol = where(stop)
          ecol = ecol + 1 -- exclusive, like mlgate.pos
          ctx:fail{
            message = msg, line = line, column = col, end_line = eline, end_column = ecol,
            confidence = conf,
            details = {call = name, written = written, module = name:match("^(.*)%."),
                       name = name:match("([^.]+)$"), argument = arg, value = value},
          }
        end
      end
    end
  end,
}
