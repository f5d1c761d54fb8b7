-- mlgate.mlcmd: what CI scripts do with models and data. Pipeline policies
-- of the ML pack (pipeline/ml-*) read jobs through it on every platform:
-- a step's `run` (a GitHub run block, a GitLab script line, a Jenkins sh
-- string) is parsed with mlgate.shell, inline Python (`python -c`,
-- `python - <<'PY'` heredocs, `shell: python` steps, heredocs written to a
-- *.py file) is scanned for calls, and each ML-relevant action becomes an
-- event with its file position (mlgate.pipeline.where).
--
-- API
--   mlcmd.job(model, job) -> list of events of the job's steps in order
--     (job nil: an action's steps). Each event has kind, line, col (file
--     position where the command or call starts), seq (order in the job),
--     step, offset (into step.run.text; nil for `uses:` steps), text (what
--     was matched, for messages) and per kind:
--       "fetch"   a model/dataset/file is downloaded: tool, hf (true for
--                 Hugging Face Hub: huggingface-cli/hf download,
--                 from_pretrained, snapshot_download, hf_hub_download,
--                 load_dataset, pipeline(model=), SentenceTransformer,
--                 lm-eval pretrained=, --model_name_or_path, vllm/TGI
--                 model, git clone of huggingface.co), repo (the id or URL
--                 as written; nil when not a literal), revision (as
--                 written; "?" when given but not literal), pinned (the
--                 revision is a 40-hex commit), dest (file or directory
--                 written, nil when unknown), dest_dir (dest is a
--                 directory), verified (content-addressed: DVC pull, HF
--                 or DVC at a commit, a --checksum flag), cache_only (the
--                 fetch only fills the HF cache: from_pretrained, lm-eval,
--                 vLLM, --model_name_or_path), artifact (curl/wget of a
--                 model/data file name; stores always), repo_type, alias
--                 (wandb), url, dvc
--       "remote_code"  remote code is executed: tool, what
--                 ("trust_remote_code=True", "--trust-remote-code",
--                 "torch.hub.load"), repo, revision, pinned
--       "load"    a file is deserialised: fn ("torch.load", ...), file
--                 (literal path or nil), unsafe ("explicit": the call
--                 runs code by design or was told to; "default": only with
--                 the library's old default, torch.load without
--                 weights_only; nil: safe format), arg (the argument that
--                 decided, e.g. "weights_only=False")
--       "consume" a command that runs training/eval/serving code on what
--                 the job has (python, torchrun, accelerate, lm_eval, vllm,
--                 ...); every "load" counts as a consumer as well
--       "verify"  a digest or signature check (sha256sum -c, shasum -c,
--                 cosign verify-blob, gpg --verify, hashlib in Python, ...)
--       "publish" a model is pushed: tool, repo, token (a --token / token=
--                 argument was given: its text)
--       "login"   huggingface-cli/hf login (token, when given)
--       "sign"    a signing/attestation step (cosign sign/attest,
--                 model_signing sign, actions/attest-build-provenance, ...)
--       "mount"   docker run -v/--volume/--mount: host, target
--       "setenv"  export NAME=VALUE in a script: name, value
--   mlcmd.script(val [, opts]) -> events of one script (no step/seq);
--     opts.python = true: the whole text is Python.
--   mlcmd.python(src) -> list of calls {name (dotted, as written), last
--     (its last component), offset (0-based, start of the name), args =
--     [{text, kw = name?, str = literal string value?, offset}], kw =
--     {name -> arg}}; strings and comments are skipped, calls nested in
--     arguments are listed too.
--   mlcmd.is_sha(s) -> true for a 40-hex commit id
--   mlcmd.hf_id(s) -> true when s looks like a Hub repo id
--     ("org/name" or a canonical "name"), not a path or a loader name
--   mlcmd.same_path(dest, dest_dir, file) -> whether `file` is (under) dest
--   mlcmd.gpu_label(label [, extra]) -> whether a runner label is a GPU one
--   mlcmd.ml_secret(name [, extra]) -> whether a secret name is an ML one
--   mlcmd.load(path), mlcmd.jobs(model), mlcmd.own(model, job),
--   mlcmd.path(model, job), mlcmd.list_param(ctx, name),
--   mlcmd.allowed(repo, orgs, models), mlcmd.FILES: shared by the ML pack
--     policies (see the comments at each definition)
local _, share = ...
local M = {}
local P = mlgate.pipeline

local function base(s) return ((s or ""):match("[^/\\]+$") or s or "") end

function M.is_sha(s)
  return type(s) == "string" and #s == 40 and s:match("^[0-9a-fA-F]+$") ~= nil
end

local LOADERS = {csv = true, json = true, parquet = true, text = true, arrow = true,
                 pandas = true, imagefolder = true, audiofolder = true, videofolder = true,
                 webdataset = true, sql = true, generator = true, xml = true}
local FILE_EXT = {pt = true, pth = true, bin = true, ckpt = true, safetensors = true,
                  onnx = true, gguf = true, h5 = true, keras = true, pkl = true, pickle = true,
                  joblib = true, npy = true, npz = true, parquet = true, csv = true, jsonl = true,
                  json = true, arrow = true, txt = true, tar = true, gz = true, zip = true,
                  tgz = true, msgpack = true, model = true, pb = true, tflite = true}

function M.hf_id(s)
  if type(s) ~= "string" or s == "" then return false end
  if s:find("[%$%%{}\\:]") or s:find("..", 1, true) then return false end
  if s:match("^[./~]") or s:match("/$") then return false end
  local org, name = s:match("^([%w][%w%-_.]*)/([%w][%w%-_.]*)$")
  if not org then
    name = s:match("^([%w][%w%-_.]*)$")
    if not name or LOADERS[name:lower()] then return false end
  end
  local ext = name:match("%.(%w+)$")
  if ext and FILE_EXT[ext:lower()] then return false end
  return true
end

function M.same_path(dest, dest_dir, file)
  if not dest or not file then return false end
  local d = dest:gsub("^%./", ""):gsub("/+$", "")
  local f = file:gsub("^%./", "")
  if d == "." or d == "" then return not f:find("/", 1, true) end
  if f == d then return true end
  if dest_dir or dest:match("/$") then return f:sub(1, #d + 1) == d .. "/" end
  return base(f) == base(d) and (not f:find("/", 1, true) or not d:find("/", 1, true))
end

-- ---------------------------------------------------------------------
-- Python call scanner
-- ---------------------------------------------------------------------

-- End (exclusive, 1-based index after the literal) of the string literal
-- starting at i (the quote), or #src + 1 when unterminated.
local function skip_string(src, i)
  local q = src:sub(i, i)
  local triple = src:sub(i, i + 2) == q:rep(3)
  local j = triple and i + 3 or i + 1
  local n = #src
  while j <= n do
    local c = src:sub(j, j)
    if c == "\\" then
      j = j + 2
    elseif triple then
      if src:sub(j, j + 2) == q:rep(3) then return j + 3 end
      j = j + 1
    else
      if c == q then return j + 1 end
      if c == "\n" then return j end
      j = j + 1
    end
  end
  return n + 1
end

local function unquote(t)
  t = t:match("^%s*(.-)%s*$")
  local p, q = t:match("^([rRuUbB]?)(['\"])")
  if not q then return nil end
  local body = t:sub(#p + 2)
  if body:sub(1, 2) == q:rep(2) and body:sub(-3) == q:rep(3) then
    body = body:sub(3, -4)
  elseif body:sub(-1) == q then
    body = body:sub(1, -2)
  else
    return nil
  end
  if body:find(q, 1, true) and not body:find("\\" .. q, 1, true) then return nil end
  return body
end

-- Arguments of the call whose "(" is at index open (1-based); returns the
-- list and the index after ")".
local function split_args(src, open)
  local args = {}
  local depth, i, n = 0, open + 1, #src
  local start = i
  local function push(stop)
    local raw = src:sub(start, stop)
    if raw:match("%S") then
      local lead = #raw:match("^%s*")
      local kw, rest = raw:match("^%s*([%a_][%w_]*)%s*=([^=].*)$")
      if not kw then kw, rest = raw:match("^%s*([%a_][%w_]*)%s*=()$"), nil end
      local text = (rest or raw):match("^%s*(.-)%s*$")
      args[#args + 1] = {text = text, kw = kw, str = unquote(text), offset = start - 1 + lead}
    end
  end
  while i <= n do
    local c = src:sub(i, i)
    if c == "'" or c == '"' then
      i = skip_string(src, i)
    elseif c == "#" then
      local nl = src:find("\n", i, true)
      i = nl or n + 1
    elseif c == "(" or c == "[" or c == "{" then
      depth = depth + 1; i = i + 1
    elseif c == ")" or c == "]" or c == "}" then
      if depth == 0 then
        push(i - 1)
        return args, i + 1
      end
      depth = depth - 1; i = i + 1
    elseif c == "," and depth == 0 then
      push(i - 1)
      i = i + 1
      start = i
    else
      i = src:find("[#'\"%(%)%[%]{},]", i + 1) or n + 1
    end
  end
  push(n)
  return args, n + 1
end

function M.python(src)
  local calls = {}
  local i, n = 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c == "#" then
      local nl = src:find("\n", i, true)
      i = nl or n + 1
    elseif c == "'" or c == '"' then
      i = skip_string(src, i)
    elseif c:match("[%a_]") then
      local s, e = src:find("^[%a_][%w_]*", i)
      local word = src:sub(s, e)
      -- string prefixes: r"...", b'...', f"..."
      local nxt = src:sub(e + 1, e + 1)
      if (nxt == "'" or nxt == '"') and #word <= 2 and word:lower():match("^[rbuf]+$") then
        i = skip_string(src, e + 1)
      else
        local prev = i > 1 and src:sub(i - 1, i - 1) or ""
        local name_end = e
        -- dotted chain
        while true do
          local ds, de = src:find("^%s*%.%s*[%a_][%w_]*", name_end + 1)
          if not ds then break end
          name_end = de
        end
        local ps = src:find("^%s*%(", name_end + 1)
        -- x.method( is a call of the chain that starts at x, not a new
        -- one, except after a call: f(...).push_to_hub(
        local chained = false
        if prev == "." then
          local k = i - 2
          while k > 0 and src:sub(k, k):match("%s") do k = k - 1 end
          chained = k > 0 and (src:sub(k, k) == ")" or src:sub(k, k) == "]")
        end
        if ps and (prev ~= "." or chained) then
          local name = src:sub(i, name_end):gsub("%s", "")
          local open = src:find("(", name_end + 1, true)
          local args = split_args(src, open)
          local kw = {}
          for _, a in ipairs(args) do if a.kw then kw[a.kw] = a end end
          calls[#calls + 1] = {name = name, last = name:match("([%w_]+)$"), offset = i - 1,
                               args = args, kw = kw}
          i = open + 1 -- nested calls are scanned too
        else
          i = name_end + 1
        end
      end
    else
      i = src:find("[#'\"%a_]", i + 1) or n + 1
    end
  end
  return calls
end

-- ---------------------------------------------------------------------
-- Shell words: decoding with positions
-- ---------------------------------------------------------------------

-- For the raw text of a word, the decoded text and, per decoded byte, its
-- offset in raw (0-based). Handles '...', "..." (\\ \" \$ \` \newline),
-- $'...' (escapes counted as written) and unquoted backslashes.
local function decode_word(raw)
  local out, map = {}, {}
  local i, n = 1, #raw
  local function put(ch, at) out[#out + 1] = ch; map[#map + 1] = at end
  while i <= n do
    local c = raw:sub(i, i)
    if c == "'" then
      local j = raw:find("'", i + 1, true) or n + 1
      for k = i + 1, j - 1 do put(raw:sub(k, k), k - 1) end
      i = j + 1
    elseif c == "$" and raw:sub(i + 1, i + 1) == "'" then
      local j = i + 2
      while j <= n and raw:sub(j, j) ~= "'" do
        if raw:sub(j, j) == "\\" then j = j + 1 end
        j = j + 1
      end
      for k = i + 2, j - 1 do put(raw:sub(k, k), k - 1) end
      i = j + 1
    elseif c == '"' then
      local j = i + 1
      while j <= n and raw:sub(j, j) ~= '"' do
        local d = raw:sub(j, j)
        if d == "\\" and raw:sub(j + 1, j + 1):match('[\\"$`\n]') then
          if raw:sub(j + 1, j + 1) ~= "\n" then put(raw:sub(j + 1, j + 1), j) end
          j = j + 2
        else
          put(d, j - 1)
          j = j + 1
        end
      end
      i = j + 1
    elseif c == "\\" then
      if raw:sub(i + 1, i + 1) ~= "\n" then put(raw:sub(i + 1, i + 1), i) end
      i = i + 2
    else
      put(c, i - 1)
      i = i + 1
    end
  end
  return table.concat(out), map
end

-- ---------------------------------------------------------------------
-- Command interpretation
-- ---------------------------------------------------------------------

local WRAPPERS = {sudo = true, env = true, time = true, nice = true, nohup = true,
                  command = true, exec = true, timeout = true, stdbuf = true, xvfb_run = true}
local RUNNERS = {uv = "run", poetry = "run", pipenv = "run", pdm = "run", hatch = "run",
                 rye = "run", conda = "run", micromamba = "run", mamba = "run", pixi = "run"}

-- Index of the command word, skipping wrappers (sudo -E, env A=b,
-- timeout 30, uv run, conda run -n env).
local function head(argv)
  local i = 1
  while argv[i] do
    local w = base(argv[i].text):lower()
    if WRAPPERS[w] then
      i = i + 1
      while argv[i] and (argv[i].text:sub(1, 1) == "-" or
                         (w == "env" and argv[i].text:match("^[%a_][%w_]*=")) or
                         (w == "timeout" and argv[i].text:match("^%d"))) do
        i = i + 1
      end
    elseif RUNNERS[w] and argv[i + 1] and argv[i + 1].text == RUNNERS[w] then
      i = i + 2
      while argv[i] and argv[i].text:sub(1, 1) == "-" do
        local t = argv[i].text
        i = i + 1
        if (t == "-n" or t == "--name" or t == "-p" or t == "--prefix" or t == "--with"
            or t == "-e" or t == "--environment") and argv[i] then i = i + 1 end
      end
    else
      break
    end
  end
  return i
end

local function is_python(name)
  name = base(name):lower()
  return name == "python" or name == "py" or name:match("^python[%d.]*$") ~= nil
end

-- Value of option --name (also --name=value) in argv from index `from`;
-- up to four names (no vararg table: this runs for every command of
-- every script, in each of the ML policies).
local function opt_match(t, nm)
  if not nm then return nil end
  if t == nm then return true end
  if t:byte(#nm + 1) == 61 and t:find(nm, 1, true) == 1 then return false end
  return nil
end

local function opt(argv, from, n1, n2, n3, n4)
  for j = from, #argv do
    local t = argv[j].text
    local r = opt_match(t, n1)
    if r == nil then r = opt_match(t, n2) end
    if r == nil then r = opt_match(t, n3) end
    if r == nil then r = opt_match(t, n4) end
    if r == true then
      if argv[j + 1] then return argv[j + 1].text, argv[j + 1], j end
      return "", nil, j
    elseif r == false then
      return t:sub(t:find("=", 1, true) + 1), argv[j], j
    end
  end
  return nil
end

-- A revision option: its text, "?" when it is not a literal (a variable,
-- a ${{ }} template), nil when absent.
local function optr(argv, from, ...)
  local v, w = opt(argv, from, ...)
  if v and ((w and (w.expansion or w.template)) or v:find("$", 1, true)) then return "?" end
  return v
end

local function has(argv, from, n1, n2, n3)
  for j = from, #argv do
    local t = argv[j].text
    if t == n1 or t == n2 or t == n3 then return j end
  end
  return nil
end

-- Positional arguments after index `from`, skipping options; `valued`
-- lists options that take a value.
local function positionals(argv, from, valued)
  local out = {}
  local j = from
  while j <= #argv do
    local t = argv[j].text
    if t:sub(1, 1) == "-" and #t > 1 then
      if valued[t] then j = j + 1 end
    else
      out[#out + 1] = argv[j]
    end
    j = j + 1
  end
  return out
end

local HF_VALUED = {["--revision"] = true, ["--repo-type"] = true, ["--local-dir"] = true,
                   ["--cache-dir"] = true, ["--token"] = true, ["--include"] = true,
                   ["--exclude"] = true, ["--max-workers"] = true, ["--commit-message"] = true,
                   ["--commit-description"] = true, ["--every"] = true, ["--private"] = false,
                   ["--revision-message"] = true, ["--repo_type"] = true, ["--local_dir"] = true}

local TRUE = {["true"] = true, ["True"] = true, ["1"] = true, ["yes"] = true, ["TRUE"] = true}
local FALSE = {["false"] = true, ["False"] = true, ["0"] = true, ["no"] = true, ["FALSE"] = true}

local CONSUMERS = {torchrun = true, accelerate = true, deepspeed = true, lm_eval = true,
                   ["lm-eval"] = true, vllm = true, ["text-generation-launcher"] = true,
                   tritonserver = true, ["llama-cli"] = true, ["llama-server"] = true,
                   ollama = true, bentoml = true, ["optimum-cli"] = true, jupyter = true,
                   papermill = true, pytest = true, composer = true, ["tune"] = true,
                   axolotl = true, ["litgpt"] = true, ["sglang"] = true}

local VERIFY_SUMS = {sha256sum = true, sha512sum = true, sha1sum = true, sha384sum = true,
                     sha224sum = true, b2sum = true, md5sum = true, shasum = true}

-- lm-eval --model_args "pretrained=org/m,revision=abc,trust_remote_code=True"
local function model_args(s)
  local kv = {}
  for part in (s .. ","):gmatch("([^,]*),") do
    local k, v = part:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
    if k then kv[k] = v end
  end
  return kv
end

local function url_file(u)
  return u and u:match("([^/?#]+)[?#]?[^/]*$")
end

-- Where curl/wget write: file name or nil.
local function dl_output(tool, argv, from, redirs)
  for j = from, #argv do
    local t = argv[j].text
    if tool == "curl" then
      if (t == "-o" or t == "--output") and argv[j + 1] then return argv[j + 1].text end
      if t:match("^%-%a*o$") and argv[j + 1] then return argv[j + 1].text end
      local o = t:match("^%-o(.+)$") or t:match("^%-%-output=(.+)$")
      if o then return o end
      if t == "-O" or t == "--remote-name" or (t:match("^%-%a*O%a*$")) then
        for k = from, #argv do
          if argv[k].text:match("^%a[%w+.-]*://") then return url_file(argv[k].text) end
        end
      end
    else
      if (t == "-O" or t == "--output-document") and argv[j + 1] then
        local o = argv[j + 1].text
        return o ~= "-" and o or nil
      end
      local o = t:match("^%-O(.+)$") or t:match("^%-%-output%-document=(.+)$")
      if o then return o ~= "-" and o or nil end
      if (t == "-P" or t == "--directory-prefix") and argv[j + 1] then
        local u
        for k = from, #argv do
          if argv[k].text:match("^%a[%w+.-]*://") then u = argv[k].text end
        end
        return argv[j + 1].text .. "/" .. (url_file(u) or "")
      end
    end
  end
  for _, r in ipairs(redirs or {}) do
    if (r.op == ">" or r.op == ">|") and not r.fd and r.target then return r.target.text end
  end
  if tool == "wget" then
    for k = from, #argv do
      if argv[k].text:match("^%a[%w+.-]*://") then return url_file(argv[k].text) end
    end
  end
  return nil
end

local function artifact_like(s)
  if not s then return false end
  local ext = s:gsub("[?#].*$", ""):match("%.(%w+)$")
  return ext ~= nil and FILE_EXT[ext:lower()] == true and ext:lower() ~= "txt"
end

-- Python source found in a script: events from its calls. at(off) maps a
-- source offset to a file line/col; seq0 orders them.
local HF_FETCH = {from_pretrained = "model", snapshot_download = "model",
                  hf_hub_download = "file", load_dataset = "dataset"}
local PICKLERS = {pickle = true, cPickle = true, _pickle = true, dill = true,
                  cloudpickle = true, joblib = true}

local function python_events(src, at, out, base_off)
  local calls = M.python(src)
  local lower = src:lower()
  if lower:find("hashlib", 1, true) and (lower:find("hexdigest", 1, true)
     or lower:find("digest", 1, true)) then
    local s = lower:find("hashlib", 1, true)
    local line, col = at(s - 1)
    out[#out + 1] = {kind = "verify", tool = "hashlib", line = line, col = col,
                     offset = base_off(s - 1), text = "hashlib"}
  end
  for _, c in ipairs(calls) do
    local line, col = at(c.offset)
    local ev0 = {line = line, col = col, offset = base_off(c.offset), text = c.name .. "(", call = c.name,
                 call_text = c.args[1] and c.args[1].text or nil}
    local function ev(t)
      for k, v in pairs(ev0) do if t[k] == nil then t[k] = v end end
      out[#out + 1] = t
      return t
    end
    local last = c.last
    local qual = c.name:match("^(.*)%.[%w_]+$") or ""
    local qlast = qual:match("([%w_]+)$") or ""
    local a1 = c.args[1] and not c.args[1].kw and c.args[1] or nil
    local function rev()
      local r = c.kw.revision
      if not r then return nil, false end
      if r.str then return r.str, M.is_sha(r.str) end
      return "?", false
    end
    -- trust_remote_code=True on any call
    local trc = c.kw.trust_remote_code
    if trc and (trc.text == "True" or trc.text == "true" or trc.text == "1") then
      local repo = (a1 and a1.str) or (c.kw.pretrained_model_name_or_path and c.kw.pretrained_model_name_or_path.str)
                   or (c.kw.model and c.kw.model.str) or (c.kw.path and c.kw.path.str)
      local r, pinned = rev()
      ev{kind = "remote_code", tool = "python", what = "trust_remote_code=True", repo = repo,
         revision = r, pinned = pinned, text = c.name .. "(..., trust_remote_code=True)"}
    end
    if HF_FETCH[last] or (last == "pipeline" and c.kw.model)
       or last == "SentenceTransformer" or last == "CrossEncoder" then
      local arg
      if last == "pipeline" then arg = c.kw.model
      elseif last == "snapshot_download" or last == "hf_hub_download" then arg = c.kw.repo_id or a1
      elseif last == "load_dataset" then arg = c.kw.path or a1
      elseif last == "from_pretrained" then arg = c.kw.pretrained_model_name_or_path or a1
      else arg = c.kw.model_name_or_path or a1 end
      local repo = arg and arg.str
      local r, pinned = rev()
      local dest = (c.kw.local_dir and c.kw.local_dir.str) or nil
      local what = HF_FETCH[last] or "model"
      if last == "load_dataset" then what = "dataset" end
      local rt = c.kw.repo_type and c.kw.repo_type.str
      if rt == "dataset" then what = "dataset" end
      ev{kind = "fetch", tool = c.name, hf = true, repo = repo, revision = r, pinned = pinned,
         verified = pinned, dest = dest, dest_dir = true, what = what, repo_type = rt,
         cache_only = last ~= "snapshot_download" and last ~= "hf_hub_download",
         text = repo and ("%s(%q)"):format(c.name, repo) or c.name .. "(...)"}
    end
    if last == "load" and c.name:lower():match("torch%.hub%.load$") then
      local repo = a1 and a1.str
      local source = c.kw.source and c.kw.source.str
      if source ~= "local" then
        local ref = repo and repo:match(":(.+)$")
        ev{kind = "remote_code", tool = "torch.hub", what = "torch.hub.load", repo = repo,
           revision = ref, pinned = M.is_sha(ref),
           trust_repo = c.kw.trust_repo and c.kw.trust_repo.text or nil,
           text = repo and ("torch.hub.load(%q)"):format(repo) or "torch.hub.load(...)"}
      end
    elseif (last == "load" or last == "loads" or last == "read_pickle") and
           (qlast == "torch" or PICKLERS[qlast] or qlast == "np" or qlast == "numpy"
            or qlast == "pd" or qlast == "pandas") then
      local farg = a1 or c.kw.f or c.kw.file or c.kw.filename or c.kw.filepath_or_buffer or c.kw.path
      local file = farg and (farg.str or farg.text:match("^open%s*%(%s*[rRbB]?['\"]([^'\"]+)['\"]"))
      local unsafe, why
      local fn = c.name
      if qlast == "torch" then
        local wo = c.kw.weights_only
        if not wo then unsafe, why = "default", "no weights_only=True"
        elseif FALSE[wo.text] then unsafe, why = "explicit", "weights_only=" .. wo.text end
      elseif qlast == "np" or qlast == "numpy" then
        local ap = c.kw.allow_pickle
        if ap and TRUE[ap.text] then unsafe, why = "explicit", "allow_pickle=" .. ap.text end
      elseif qlast == "pd" or qlast == "pandas" then
        if last == "read_pickle" then unsafe, why = "explicit", "pickle format" end
      else
        unsafe, why = "explicit", "pickle format"
      end
      if last ~= "loads" or unsafe then
        ev{kind = "load", fn = fn, file = file, unsafe = unsafe, arg = why}
      end
    elseif last == "load_model" and (qual == "" or qual:lower():find("keras", 1, true)) then
      local sm = c.kw.safe_mode
      local file = a1 and a1.str
      if sm and FALSE[sm.text] then
        ev{kind = "load", fn = c.name, file = file, unsafe = "explicit", arg = "safe_mode=" .. sm.text}
      else
        ev{kind = "load", fn = c.name, file = file}
      end
    elseif last == "load_file" or last == "safe_open" or last == "InferenceSession"
           or (last == "load" and (qlast == "onnx" or qlast == "saved_model" or qlast == "jit")) then
      ev{kind = "load", fn = c.name, file = a1 and a1.str}
    elseif last == "push_to_hub" or last == "upload_folder" or last == "upload_file"
           or last == "upload_large_folder" or last == "create_commit"
           or (last == "register_model" and qual:lower():find("mlflow", 1, true))
           or (last == "log_model" and c.kw.registered_model_name) then
      local repo = (a1 and a1.str) or (c.kw.repo_id and c.kw.repo_id.str)
      local tok = c.kw.token
      ev{kind = "publish", tool = c.name, repo = repo, token = tok and tok.text or nil}
    end
  end
end

-- Events of one script. run: a val; opts.python: the text is Python.
-- The events of a script depend on its text only (and whether it is
-- Python): computed once per child and shared with the other ML policies
-- (lua_api_share.c), with positions worked out again for this `run`.
local script_events

function M.script(run, opts)
  local text = run and run.text
  if not text or text == "" then return {} end
  local python = opts and opts.python
  if not share then return script_events(run, text, python) end
  local key = (python and "mlcmd.py\0" or "mlcmd.sh\0") .. text
  local shared = share.get(key)
  if not shared then
    shared = share.put(key, script_events(run, text, python))
  end
  local out = {}
  for i = 1, #shared do
    local e = shared[i]
    e.line, e.col = P.where(run, e.offset or 0)
    out[i] = e
  end
  return out
end

script_events = function(run, text, python)
  local out = {}
  local function where(off) return P.where(run, off) end
  if python then
    python_events(text, where, out, function(o) return o end)
    return out
  end
  local script = mlgate.shell.parse(text)
  if not script then return out end
  local cmds = script.cmds or {}
  local cmd, line, col
  -- Positions are computed for commands that give an event only: most
  -- commands of a script give none, and seven policies walk every script.
  local function ev(t)
    if not line then line, col = where(cmd.offset) end
    t.line = t.line or line
    t.col = t.col or col
    t.offset = t.offset or cmd.offset
    t.text = t.text or text:sub(cmd.offset + 1, cmd.offset + cmd.len):match("^[^\n]*")
    out[#out + 1] = t
    return t
  end
  for _, c in ipairs(cmds) do
    cmd, line, col = c, nil, nil
    local argv = cmd.argv or {}
    local h = head(argv)
    local w = argv[h]
    -- The command's own text, to skip option scans that cannot match.
    local ct = text:sub(cmd.offset + 1, cmd.offset + cmd.len)
    local mentions_model = ct:find("model", 1, true) ~= nil
    local mentions_trust = ct:find("trust", 1, true) ~= nil
    -- export NAME=VALUE / NAME=VALUE (no command)
    if ct:find("=", 1, true) then
      for _, a in ipairs(cmd.assigns or {}) do
        local nm, v = a.text:match("^([%a_][%w_]*)=(.*)$")
        if nm then ev{kind = "setenv", name = nm, value = v} end
      end
    end
    local name = w and base(w.text):lower() or ""
    if name == "export" then
      for j = h + 1, #argv do
        local nm, v = argv[j].text:match("^([%a_][%w_]*)=(.*)$")
        if nm then ev{kind = "setenv", name = nm, value = v} end
      end
    end
    local sub = argv[h + 1] and argv[h + 1].text or ""
    local sub2 = argv[h + 2] and argv[h + 2].text or ""
    -- Generic ML options, whatever the command.
    local ma = mentions_model and opt(argv, h + 1, "--model_args", "--model-args")
    if ma then
      local kv = model_args(ma)
      if kv.revision and kv.revision:find("$", 1, true) then kv.revision = "?" end
      local p = kv.pretrained or kv.model or kv.model_name or kv.peft
      if kv.pretrained and M.hf_id(kv.pretrained) then
        ev{kind = "fetch", tool = name .. " --model_args", hf = true, cache_only = true, repo = kv.pretrained, revision = kv.revision,
           pinned = M.is_sha(kv.revision), verified = M.is_sha(kv.revision), what = "model",
           text = "pretrained=" .. kv.pretrained}
      end
      if kv.trust_remote_code and TRUE[kv.trust_remote_code] then
        ev{kind = "remote_code", tool = name, what = "trust_remote_code=True", repo = p,
           revision = kv.revision, pinned = M.is_sha(kv.revision)}
      end
    end
    local mnp = mentions_model and opt(argv, h + 1, "--model_name_or_path", "--model-name-or-path")
    if mnp and mnp ~= "" then
      local r = optr(argv, h + 1, "--model_revision", "--model-revision")
      ev{kind = "fetch", tool = name .. " --model_name_or_path", cache_only = true, hf = M.hf_id(mnp), repo = mnp, revision = r,
         pinned = M.is_sha(r), verified = M.is_sha(r), what = "model",
         text = "--model_name_or_path " .. mnp}
    end
    local trj = mentions_trust and has(argv, h + 1, "--trust-remote-code", "--trust_remote_code")
    if mentions_trust and not trj then
      for j = h + 1, #argv do
        local v = argv[j].text:match("^%-%-trust[-_]remote[-_]code=(.*)$")
        if v and not FALSE[v] then trj = j end
      end
    end
    if trj and not (argv[trj + 1] and FALSE[argv[trj + 1].text]) then
      local model = opt(argv, h + 1, "--model", "--model-id", "--model_id", "--model-path")
      if not model and name == "vllm" and sub == "serve" then model = sub2 end
      ev{kind = "remote_code", tool = name, what = argv[trj].text:match("^[^=]*"), repo = model}
    end
    -- vllm / TGI / sglang model ids
    local serving = (name == "vllm" and sub == "serve") or name == "text-generation-launcher"
                    or (is_python(name) and (sub == "-m") and
                        (sub2:match("^vllm%.") or sub2:match("^sglang%.")))
    if serving then
      local model = opt(argv, h + 1, "--model", "--model-id", "--model-path")
      if not model and name == "vllm" then
        local pos = positionals(argv, h + 2, {["--revision"] = true, ["--port"] = true,
                                              ["--host"] = true, ["--tensor-parallel-size"] = true})
        model = pos[1] and pos[1].text
      end
      if model and M.hf_id(model) then
        local r = optr(argv, h + 1, "--revision")
        ev{kind = "fetch", tool = name, hf = true, repo = model, revision = r, cache_only = true,
           pinned = M.is_sha(r), verified = M.is_sha(r), what = "model"}
      end
    end

    if name == "huggingface-cli" or name == "hf" then
      local op = sub
      if op == "download" then
        local pos = positionals(argv, h + 2, HF_VALUED)
        local repo = pos[1] and pos[1].text
        local r = optr(argv, h + 2, "--revision")
        local files = {}
        for k = 2, #pos do files[#files + 1] = pos[k].text end
        ev{kind = "fetch", tool = name .. " download", hf = true, repo = repo, revision = r,
           pinned = M.is_sha(r), verified = M.is_sha(r),
           repo_type = opt(argv, h + 2, "--repo-type", "--repo_type"),
           what = (opt(argv, h + 2, "--repo-type", "--repo_type") == "dataset") and "dataset" or "model",
           dest = opt(argv, h + 2, "--local-dir", "--local_dir"), dest_dir = true, files = files,
           token = opt(argv, h + 2, "--token")}
      elseif op == "upload" or op == "upload-large-folder" then
        local pos = positionals(argv, h + 2, HF_VALUED)
        ev{kind = "publish", tool = name .. " " .. op, repo = pos[1] and pos[1].text,
           token = opt(argv, h + 2, "--token"),
           repo_type = opt(argv, h + 2, "--repo-type", "--repo_type")}
      elseif op == "login" or (op == "auth" and sub2 == "login") then
        ev{kind = "login", tool = name, token = opt(argv, h + 2, "--token")}
      end
    elseif is_python(name) then
      local has_c = ct:find("-c", 1, true) ~= nil
      local code = has_c and opt(argv, h + 1, "-c")
      local cj = has_c and has(argv, h + 1, "-c")
      if code and cj and argv[cj + 1] then
        local wd = argv[cj + 1]
        local raw = text:sub(wd.offset + 1, wd.offset + wd.len)
        local dec, map = decode_word(raw)
        local function at(o)
          local ro = (dec == wd.text and map[o + 1]) or 0
          return where(wd.offset + ro)
        end
        local function boff(o)
          return wd.offset + ((dec == wd.text and map[o + 1]) or 0)
        end
        python_events(wd.text, at, out, boff)
      end
      local heredoc
      if ct:find("<<", 1, true) then
        for _, r in ipairs(cmd.redirs or {}) do
          if (r.op == "<<" or r.op == "<<-") and r.heredoc then heredoc = r end
        end
      end
      if heredoc and not cj then
        local ho = heredoc.heredoc_offset or 0
        local body = heredoc.heredoc
        local lmap
        if heredoc.op == "<<-" then
          -- tabs stripped: map each body line to its raw start
          lmap = {}
          local ro, bo = ho, 0
          for bl in (body .. "\n"):gmatch("([^\n]*)\n") do
            while text:sub(ro + 1, ro + 1) == "\t" do ro = ro + 1 end
            lmap[#lmap + 1] = {bo, ro}
            local nl = text:find("\n", ro + 1, true)
            ro = nl or #text
            bo = bo + #bl + 1
          end
        end
        local function boff(o)
          if lmap then
            local best = lmap[1]
            for _, e in ipairs(lmap) do
              if e[1] <= o then best = e else break end
            end
            return best[2] + (o - best[1])
          end
          return ho + o
        end
        python_events(body, function(o) return where(boff(o)) end, out, boff)
      end
      if sub == "-m" then
        local mod = sub2
        if mod == "model_signing" or mod == "sigstore" then
          local action = argv[h + 3] and argv[h + 3].text
          if action == "verify" then ev{kind = "verify", tool = "python -m " .. mod}
          elseif action == "sign" or action == "attest" then ev{kind = "sign", tool = "python -m " .. mod} end
        end
      end
      ev{kind = "consume", tool = name}
    elseif CONSUMERS[name] then
      ev{kind = "consume", tool = name}
    elseif name == "curl" or name == "wget" then
      local url
      for j = h + 1, #argv do
        if argv[j].text:match("^%a[%w+.-]*://") then url = argv[j].text break end
      end
      local piped = cmd.sep == "|" or cmd.sep == "|&"
      local dest = dl_output(name, argv, h + 1, cmd.redirs)
      if url and not cmd.subst and (dest or not piped or artifact_like(url)) then
        ev{kind = "fetch", tool = name, url = url, repo = url, dest = dest,
           artifact = artifact_like(url) or artifact_like(dest),
           hf = url:match("^https?://huggingface%.co/") ~= nil,
           pinned = url:match("/resolve/(%x+)/") ~= nil and M.is_sha(url:match("/resolve/(%x+)/")),
           verified = false, what = "file"}
      end
    elseif name == "aws" and sub == "s3" and (sub2 == "cp" or sub2 == "sync" or sub2 == "mv") then
      local pos = positionals(argv, h + 3, {["--profile"] = true, ["--region"] = true,
                                            ["--exclude"] = true, ["--include"] = true,
                                            ["--endpoint-url"] = true, ["--checksum-mode"] = true,
                                            ["--checksum-algorithm"] = true, ["--sse"] = true})
      local src, dst = pos[1] and pos[1].text, pos[2] and pos[2].text
      if src and src:match("^s3://") and dst and not dst:match("^s3://") then
        ev{kind = "fetch", tool = "aws s3 " .. sub2, url = src, repo = src, dest = dst,
           dest_dir = sub2 == "sync" or dst:match("/$") ~= nil or dst == "." or has(argv, h + 3, "--recursive") ~= nil,
           artifact = true, verified = opt(argv, h + 3, "--checksum-mode") ~= nil and false or false,
           what = "file"}
      end
    elseif name == "gsutil" or (name == "gcloud" and sub == "storage") then
      local k = h + 1
      if name == "gcloud" then k = h + 2 end
      while argv[k] and argv[k].text:sub(1, 1) == "-" do k = k + 1 end
      local op = argv[k] and argv[k].text
      if op == "cp" or op == "rsync" or op == "mv" then
        local pos = positionals(argv, k + 1, {})
        local src, dst = pos[1] and pos[1].text, pos[#pos] and pos[#pos].text
        if #pos >= 2 and src:match("^gs://") and not dst:match("^gs://") then
          ev{kind = "fetch", tool = name .. (name == "gcloud" and " storage " or " ") .. op,
             url = src, repo = src, dest = dst, artifact = true,
             dest_dir = op == "rsync" or dst == "." or dst:match("/$") ~= nil,
             verified = false, what = "file"}
        end
      end
    elseif name == "az" and sub == "storage" and sub2 == "blob" then
      local op = argv[h + 3] and argv[h + 3].text
      if op == "download" or op == "download-batch" then
        ev{kind = "fetch", tool = "az storage blob " .. op,
           repo = opt(argv, h + 4, "--name", "-n") or opt(argv, h + 4, "--source", "-s"),
           dest = opt(argv, h + 4, "--file", "-f") or opt(argv, h + 4, "--destination", "-d"),
           dest_dir = op == "download-batch", artifact = true, verified = false, what = "file"}
      end
    elseif name == "azcopy" and (sub == "copy" or sub == "cp" or sub == "sync") then
      local pos = positionals(argv, h + 2, {})
      if pos[1] and pos[1].text:match("^https://") and pos[2] and not pos[2].text:match("^https://") then
        ev{kind = "fetch", tool = "azcopy " .. sub, repo = pos[1].text, url = pos[1].text,
           dest = pos[2].text, artifact = true, verified = false, what = "file"}
      end
    elseif name == "mlflow" then
      if sub == "artifacts" and sub2 == "download" then
        ev{kind = "fetch", tool = "mlflow artifacts download",
           repo = opt(argv, h + 3, "--artifact-uri", "-u") or opt(argv, h + 3, "--run-id", "-r"),
           dest = opt(argv, h + 3, "--dst-path", "-d"), dest_dir = true, artifact = true,
           verified = false, what = "model"}
      elseif sub == "models" and sub2 == "serve" then
        ev{kind = "consume", tool = "mlflow models serve"}
      end
      for j = h + 1, #argv do
        if argv[j].text:find("register", 1, true) and argv[j].text:sub(1, 1) ~= "-" then
          ev{kind = "publish", tool = "mlflow " .. sub, repo = nil}
          break
        end
      end
    elseif name == "wandb" and sub == "artifact" and (sub2 == "get" or sub2 == "put") then
      if sub2 == "get" then
        local pos = positionals(argv, h + 3, {["--root"] = true, ["--type"] = true})
        local art = pos[1] and pos[1].text
        local alias = art and art:match(":([^:/]+)$")
        ev{kind = "fetch", tool = "wandb artifact get", repo = art, alias = alias,
           dest = opt(argv, h + 3, "--root"), dest_dir = true, artifact = true,
           pinned = alias ~= nil and alias:match("^v%d+$") ~= nil,
           verified = false, what = "model"}
      else
        ev{kind = "publish", tool = "wandb artifact put", repo = opt(argv, h + 3, "--name", "-n")}
      end
    elseif name == "dvc" then
      if sub == "pull" or sub == "fetch" or sub == "checkout" then
        ev{kind = "fetch", tool = "dvc " .. sub, dest = nil, artifact = true, verified = true,
           what = "file", dvc = true}
      elseif sub == "get" or sub == "import" or sub == "get-url" or sub == "import-url" then
        local r = optr(argv, h + 2, "--rev")
        local pos = positionals(argv, h + 2, {["--rev"] = true, ["-o"] = true, ["--out"] = true,
                                              ["-j"] = true, ["--jobs"] = true})
        ev{kind = "fetch", tool = "dvc " .. sub, repo = pos[1] and pos[1].text,
           dest = opt(argv, h + 2, "-o", "--out") or (pos[2] and base(pos[2].text)),
           artifact = true, revision = r, pinned = M.is_sha(r),
           verified = (sub == "get" or sub == "import") and M.is_sha(r), what = "file"}
      elseif sub == "repro" or sub == "exp" then
        ev{kind = "consume", tool = "dvc " .. sub}
      end
    elseif name == "kaggle" and (sub == "datasets" or sub == "competitions" or sub == "models")
           and sub2 == "download" then
      ev{kind = "fetch", tool = "kaggle " .. sub .. " download",
         dest = opt(argv, h + 3, "-p", "--path"), dest_dir = true, artifact = true,
         verified = false, what = "dataset"}
    elseif name == "git" and (sub == "clone") then
      for j = h + 2, #argv do
        local u = argv[j].text
        if u:match("^https?://huggingface%.co/") then
          local repo = u:gsub("^https?://huggingface%.co/", ""):gsub("%.git$", ""):gsub("/$", "")
          local pos = positionals(argv, h + 2, {["--branch"] = true, ["-b"] = true, ["--depth"] = true})
          ev{kind = "fetch", tool = "git clone", hf = true, repo = repo, url = u,
             revision = opt(argv, h + 2, "--branch", "-b"), pinned = false, verified = false,
             dest = (pos[2] and pos[2].text) or base(repo), dest_dir = true,
             what = repo:match("^datasets/") and "dataset" or "model"}
          break
        end
      end
    elseif VERIFY_SUMS[name] then
      if has(argv, h + 1, "-c", "--check") or (function()
        for j = h + 1, #argv do
          if argv[j].text:match("^%-[%a]*c[%a]*$") and not argv[j].text:match("^%-%-") then return true end
        end
      end)() then
        ev{kind = "verify", tool = name}
      end
    elseif name == "cosign" then
      if sub:match("^verify") then ev{kind = "verify", tool = "cosign " .. sub}
      elseif sub == "sign" or sub == "attest" or sub == "sign-blob" or sub == "attest-blob" then
        ev{kind = "sign", tool = "cosign " .. sub}
      end
    elseif name == "gpg" or name == "gpg2" then
      if has(argv, h + 1, "--verify") then ev{kind = "verify", tool = "gpg --verify"} end
    elseif name == "minisign" then
      if has(argv, h + 1, "-V") then ev{kind = "verify", tool = "minisign -V"} end
    elseif name == "slsa-verifier" then
      ev{kind = "verify", tool = "slsa-verifier"}
    elseif name == "gh" and sub == "attestation" then
      if sub2 == "verify" then ev{kind = "verify", tool = "gh attestation verify"} end
    elseif name == "model_signing" or name == "model-signing" or name == "sigstore"
           or name == "notation" or name == "in-toto-run" then
      if sub == "verify" then ev{kind = "verify", tool = name .. " verify"}
      elseif sub == "sign" or sub == "attest" or name == "in-toto-run" then
        ev{kind = "sign", tool = name .. " " .. sub}
      end
    elseif name == "docker" or name == "podman" or name == "nvidia-docker" then
      if sub == "run" or sub == "create" then
        for j = h + 2, #argv do
          local t = argv[j].text
          local v
          if (t == "-v" or t == "--volume" or t == "--mount") and argv[j + 1] then v = argv[j + 1].text
          else v = t:match("^%-%-volume=(.+)$") or t:match("^%-%-mount=(.+)$") or t:match("^%-v(.+)$") end
          if v then
            local host, target = v:match("^([^:]+):([^:]+)")
            if not host then
              host = v:match("source=([^,]+)") or v:match("src=([^,]+)")
              target = v:match("target=([^,]+)") or v:match("dst=([^,]+)") or v:match("destination=([^,]+)")
            end
            if host then ev{kind = "mount", host = host, target = target, tool = name .. " " .. sub} end
          end
        end
      end
    end
    -- a --checksum flag on a download verifies it
    if out[#out] and out[#out].kind == "fetch" and out[#out].offset == cmd.offset
       and ct:find("--checksum", 1, true) then
      for j = h + 1, #argv do
        if argv[j].text:match("^%-%-checksum") and argv[j].text ~= "--checksum-mode" then
          out[#out].verified = true
        end
      end
    end
    -- heredoc written to a *.py file: the body is Python that runs later
    if not is_python(name) and ct:find("<<", 1, true) then
      for _, r in ipairs(cmd.redirs or {}) do
        if (r.op == "<<" or r.op == "<<-") and r.heredoc then
          local py = false
          for _, r2 in ipairs(cmd.redirs) do
            if (r2.op == ">" or r2.op == ">>") and r2.target and r2.target.text:match("%.py$") then py = true end
          end
          if name == "tee" then
            for j = h + 1, #argv do if argv[j].text:match("%.py$") then py = true end end
          end
          if py then
            local ho = r.heredoc_offset or 0
            python_events(r.heredoc, function(o) return where(ho + o) end, out,
                          function(o) return ho + o end)
          end
        end
      end
    end
  end
  return out
end

local SIGN_ACTIONS = {["actions/attest-build-provenance"] = true, ["actions/attest"] = true,
                      ["actions/attest-sbom"] = true, ["sigstore/gh-action-sigstore-python"] = true,
                      ["slsa-framework/slsa-github-generator"] = true}

local function step_python(step, job, model)
  local sh = step.shell
  if not sh and job and job.defaults and job.defaults.shell then sh = job.defaults.shell end
  if not sh and model and model.defaults and model.defaults.shell then sh = model.defaults.shell end
  local t = sh and (type(sh) == "table" and sh.text or sh) or ""
  return t:match("^%s*python") ~= nil
end

local function job_events(model, job, steps)
  local out = {}
  for si, step in ipairs(steps) do
    local idx = step.index or si
    local seq0 = idx * 1000000
    if step.run then
      local evs = M.script(step.run, {python = step_python(step, job, model)})
      for _, e in ipairs(evs) do
        e.step = si
        e.seq = seq0 + (e.offset or 0)
        out[#out + 1] = e
      end
    elseif step.uses then
      local u = step.uses
      local slug = u.owner and u.repo and (u.owner .. "/" .. u.repo):lower()
      if slug and (u.subpath and u.subpath ~= "") then slug = slug .. "/" .. u.subpath:lower() end
      if slug and (SIGN_ACTIONS[slug] or SIGN_ACTIONS[(u.owner .. "/" .. u.repo):lower()]) then
        out[#out + 1] = {kind = "sign", tool = u.raw, line = u.line, col = u.col, step = si,
                         seq = seq0, text = u.raw}
      end
    end
  end
  table.sort(out, function(a, b)
    if a.seq ~= b.seq then return a.seq < b.seq end
    if a.line ~= b.line then return a.line < b.line end
    return a.col < b.col
  end)
  return out
end

-- The events of a job, in order. A job's events are the same for every
-- policy that asks (positions included: the key names the file and the
-- job), so they are shared like a script's; `step` is then set to the
-- step object in the caller's own state.
function M.job(model, job)
  local steps
  if job then steps = job.steps or {}
  else steps = model.steps or (model.runs and model.runs.steps) or {} end
  local evs
  if share and model.path then
    local key = "mlcmd.job\0" .. (model.kind or "") .. "\0" .. model.path .. "\0"
                .. (job and job.route or "-")
    evs = share.get(key)
    if not evs then evs = share.put(key, job_events(model, job, steps)) end
  else
    evs = job_events(model, job, steps)
  end
  local out = {}
  for i = 1, #evs do
    local e = evs[i]
    e.step = steps[e.step]
    out[i] = e
  end
  return out
end

-- Jobs of a model to look at: workflow jobs, or one pseudo-job (nil) for
-- an action's steps. Returns an array of job-or-false.
function M.jobs(model)
  if model.jobs then
    local t = {}
    for _, j in ipairs(model.jobs) do t[#t + 1] = j end
    return t
  end
  if model.kind == "action" then return {false} end
  return {}
end

-- ---------------------------------------------------------------------
-- Shared by the ML pack policies
-- ---------------------------------------------------------------------

-- The `files` globs of the ML pack policies (GitHub, GitLab, Jenkins).
M.FILES = P.files("github", "action", "gitlab", "jenkins")

local KINDS = {workflow = true, action = true, ["gitlab-ci"] = true, jenkinsfile = true}

-- The model of a CI file the ML pack reads, or nil.
function M.load(path)
  local m = P.load(path)
  if not m or not KINDS[m.kind] then return nil end
  return m
end

-- Whether a job is reported from this model: jobs that a GitLab model
-- takes from an included file that is itself checked on its own (it
-- matches M.FILES and loads: the project's root does not include it, see
-- mlgate.pipeline.load) are reported when that file is, not twice.
function M.own(model, job)
  if not job or not job.path or job.path == model.path then return true end
  for _, g in ipairs(M.FILES) do
    if mlgate.fs.glob(g, job.path) then return P.load(job.path) == nil end
  end
  return true
end

-- The events of every job this model reports (M.jobs filtered by M.own),
-- for the ML policies' common loop: for events, job in M.owned_jobs(m).
-- Events come first because job is nil for an action's steps.
function M.owned_jobs(model)
  local jobs, i = M.jobs(model), 0
  return function()
    while true do
      i = i + 1
      if i > #jobs then return nil end
      local job = jobs[i] or nil
      if M.own(model, job) then return M.job(model, job), job end
    end
  end
end

-- The path a finding about `job` goes to (nil: the file being checked).
function M.path(model, job)
  if job and job.path and job.path ~= model.path then return job.path end
  return nil
end

-- Secrets an ML job holds: names of well-known ML/cloud secret variables,
-- names with an ML service prefix that look like secrets, "*" (all
-- secrets), and the names in `extra` (a list).
local ML_PREFIX = {"HF_", "HUGGING", "WANDB", "MLFLOW", "COMET", "NEPTUNE", "AWS_", "AZURE_",
                   "GCP_", "GOOGLE_", "GCLOUD", "DATABRICKS", "REPLICATE", "OPENAI", "ANTHROPIC",
                   "KAGGLE", "CLEARML", "SAGEMAKER", "DVC_", "MODEL", "REGISTRY", "S3_", "GCS_",
                   "VERTEX", "BEDROCK", "COHERE", "MISTRAL", "TOGETHER", "GROQ", "LANGCHAIN",
                   "LANGSMITH", "PINECONE", "WEAVIATE", "QDRANT", "MINIO"}
function M.ml_secret(name, extra)
  if not name then return false end
  if name == "*" then return true end
  local u = name:upper()
  for _, e in ipairs(extra or {}) do
    if type(e) == "string" and e:upper() == u then return true end
  end
  for _, n in ipairs(P.SECRET_VARS) do
    if n == u then return n ~= "GITHUB_TOKEN" and n ~= "GH_TOKEN" end
  end
  if not P.secretish(u) and not u:find("KEY", 1, true) then return false end
  for _, p in ipairs(ML_PREFIX) do
    if u:sub(1, #p) == p or u:find("_" .. p, 1, true) then return true end
  end
  return u:find("HF", 1, true) ~= nil
end

-- A list param of strings, or nil and a message for ctx:error.
function M.list_param(ctx, name)
  local v = ctx.params[name]
  local msg = ("param '%s' must be a list of strings"):format(name)
  if type(v) ~= "table" then return nil, msg end
  for k, x in pairs(v) do
    if type(k) ~= "number" or type(x) ~= "string" then return nil, msg end
  end
  return v
end

-- Whether a Hub id is allowed by allow-lists of orgs and of ids.
function M.allowed(repo, orgs, models)
  if not repo then return false end
  local r = repo:lower()
  for _, m in ipairs(models or {}) do if m:lower() == r then return true end end
  local org = r:match("^([^/]+)/")
  if org then
    for _, o in ipairs(orgs or {}) do if o:lower() == org then return true end end
  end
  return false
end

-- Whether a runner label names a GPU/accelerator machine: a token (split
-- at non-alphanumerics) such as gpu, gpus, cuda, nvidia, a100, h100, h200,
-- a10g, l4, l40s, t4, v100, rtx4090, mi250, mi300x, rocm, tpu, or a label
-- containing one of `extra` (lower-case substrings).
local GPU_TOKENS = {gpu = true, gpus = true, cuda = true, nvidia = true, a100 = true,
                    h100 = true, h200 = true, b200 = true, gb200 = true, a10 = true, a10g = true,
                    a40 = true, a6000 = true, l4 = true, l40 = true, l40s = true, t4 = true,
                    v100 = true, p100 = true, k80 = true, rocm = true, mi200 = true, mi210 = true,
                    mi250 = true, mi250x = true, mi300 = true, mi300x = true, tpu = true,
                    gaudi = true, gaudi2 = true, inferentia = true, trainium = true}
function M.gpu_label(label, extra)
  local l = (label or ""):lower()
  for _, x in ipairs(extra or {}) do
    if l:find(x:lower(), 1, true) then return true end
  end
  for tok in l:gmatch("[%w]+") do
    if GPU_TOKENS[tok] or tok:match("^gpu") or tok:match("^rtx%d") or tok:match("^cuda") then
      return true
    end
  end
  return false
end

M.decode_word = decode_word
return M
