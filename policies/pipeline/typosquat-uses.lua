-- pipeline/typosquat-uses: `uses:` of an action whose owner/repo is a
-- near-miss of a popular action by a different owner (zizmor's
-- typosquat-uses, offline: the typomania checks zizmor configures —
-- repeated, swapped and omitted characters, keyboard/homoglyph typos,
-- swapped words, an appended version number — against zizmor's list of
-- popular actions plus a few ML ones).

local P = mlgate.pipeline

local POPULAR_LIST = [[
8398a7/action-slack actions/cache actions/checkout actions/configure-pages
actions/create-github-app-token actions/dependency-review-action actions/deploy-pages
actions/download-artifact actions/github-script actions/labeler actions/setup-dotnet
actions/setup-go actions/setup-java actions/setup-node actions/setup-python actions/stale
actions/upload-artifact actions/upload-pages-artifact astral-sh/setup-uv
aws-actions/configure-aws-credentials azure/login codecov/codecov-action dependabot/fetch-metadata
docker/build-push-action docker/login-action docker/metadata-action docker/setup-buildx-action
docker/setup-qemu-action dorny/paths-filter dtolnay/rust-toolchain github/codeql-action
google-github-actions/auth google-github-actions/setup-gcloud goreleaser/goreleaser-action
gradle/actions hashicorp/setup-terraform JamesIves/github-pages-deploy-action mikefarah/yq
ncipollo/release-action peaceiris/actions-gh-pages peter-evans/create-pull-request pnpm/action-setup
pre-commit/action pypa/gh-action-pypi-publish release-drafter/release-drafter ruby/setup-ruby
shivammathur/setup-php slackapi/slack-github-action softprops/action-gh-release
step-security/harden-runner styfle/cancel-workflow-action Swatinem/rust-cache tj-actions/changed-files
actions/attest-build-provenance sigstore/cosign-installer conda-incubator/setup-miniconda
mamba-org/setup-micromamba iterative/setup-cml iterative/setup-dvc
]]

local ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_./"
local TYPOS = {
  ["1"] = {"2", "q", "i", "l"}, ["2"] = {"1", "q", "w", "3"}, ["3"] = {"2", "w", "e", "4"},
  ["4"] = {"3", "e", "r", "5"}, ["5"] = {"4", "r", "t", "6", "s"}, ["6"] = {"5", "t", "y", "7"},
  ["7"] = {"6", "y", "u", "8"}, ["8"] = {"7", "u", "i", "9"}, ["9"] = {"8", "i", "o", "0"},
  ["0"] = {"9", "o", "p", "-"}, ["-"] = {"_", "0", "p", ".", ""}, ["_"] = {"-", "0", "p", ".", ""},
  q = {"1", "2", "w", "a"}, w = {"2", "3", "e", "s", "a", "q", "vv"}, e = {"3", "4", "r", "d", "s", "w"},
  r = {"4", "5", "t", "f", "d", "e"}, t = {"5", "6", "y", "g", "f", "r"}, y = {"6", "7", "u", "h", "t", "i"},
  u = {"7", "8", "i", "j", "y", "v"}, i = {"1", "8", "9", "o", "l", "k", "j", "u", "y"},
  o = {"9", "0", "p", "l", "i"}, p = {"0", "-", "o"}, a = {"q", "w", "s", "z"},
  s = {"w", "d", "x", "z", "a", "5"}, d = {"e", "r", "f", "c", "x", "s"}, f = {"r", "g", "v", "c", "d"},
  g = {"t", "h", "b", "v", "f"}, h = {"y", "j", "n", "b", "g"}, j = {"u", "i", "k", "m", "n", "h"},
  k = {"i", "o", "l", "m", "j"}, l = {"i", "o", "p", "k", "1"}, z = {"a", "s", "x"},
  x = {"z", "s", "d", "c"}, c = {"x", "d", "f", "v"}, v = {"c", "f", "g", "b", "u"},
  b = {"v", "g", "h", "n"}, n = {"b", "h", "j", "m"}, m = {"n", "j", "k", "rn"},
  ["."] = {"-", "_", ""}, ["/"] = {"-", "_"},
}

local function tokens(s)
  local out, delims = {}, {}
  local cur = 1
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == "-" or c == "_" or c == "/" then
      out[#out + 1] = s:sub(cur, i - 1)
      delims[c] = true
      cur = i + 1
    end
  end
  out[#out + 1] = s:sub(cur)
  return out, delims
end

local function build(list)
  local pop = {}
  for slug in list:gmatch("%S+") do
    local l = slug:lower()
    local toks, delims = tokens(l)
    local nd = 0
    for _ in pairs(delims) do nd = nd + 1 end
    if not pop[l] then pop[#pop + 1] = l end -- file order, for deterministic results
    pop[l] = {owner = l:match("^[^/]+"), tokens = toks, one_delim = nd == 1, shown = slug}
  end
  return pop
end
local BUILTIN = build(POPULAR_LIST)
-- Verdicts per corpus and owner/repo, kept for the life of the evaluating
-- process (the same few actions recur in every workflow).
local MEMO = {}
local BUILT = {}
local function memo_for(pop)
  local t = MEMO[pop]
  if not t then
    t = {}
    MEMO[pop] = t
  end
  return t
end

-- The popular action `name` looks like, and how, or nil.
local function squat_of(name, owner, pop)
  if pop[name] then return nil end
  local function hit(cand, how)
    local p = pop[cand]
    if p and cand ~= name and p.owner ~= owner then return cand, how end
    return nil
  end
  local n = #name
  for i = 1, n - 1 do
    local a, b = name:sub(i, i), name:sub(i + 1, i + 1)
    if a == b then
      local c, how = hit(name:sub(1, i) .. name:sub(i + 2), "repeats a character of")
      if c then return c, how end
    else
      local c, how = hit(name:sub(1, i - 1) .. b .. a .. name:sub(i + 2), "swaps two characters of")
      if c then return c, how end
    end
  end
  local trimmed = name:gsub("%d+$", ""):gsub("%-+$", "")
  if trimmed ~= "" and trimmed ~= name then
    local c, how = hit(trimmed, "adds a version number to")
    if c then return c, how end
  end
  for i = 0, n do
    for k = 1, #ALPHABET do
      local c, how = hit(name:sub(1, i) .. ALPHABET:sub(k, k) .. name:sub(i + 1), "omits a character of")
      if c then return c, how end
    end
  end
  for i = 1, n do
    local alts = TYPOS[name:sub(i, i)]
    for _, t in ipairs(alts or {}) do
      local c, how = hit(name:sub(1, i - 1) .. t .. name:sub(i + 1), "is a typo or look-alike of")
      if c then return c, how end
    end
  end
  -- Swapped words: a permutation of min(#words, 5) of the words, joined by
  -- one delimiter.
  local toks = tokens(name)
  if #toks > 1 then
    local k = math.min(#toks, 5)
    for _, pname in ipairs(pop) do
      local p = pop[pname]
      if p.one_delim and #p.tokens == k and pname ~= name and p.owner ~= owner then
        local avail = {}
        for _, t in ipairs(toks) do avail[t] = (avail[t] or 0) + 1 end
        local ok = true
        for _, t in ipairs(p.tokens) do
          if (avail[t] or 0) == 0 then ok = false break end
          avail[t] = avail[t] - 1
        end
        if ok then return pname, "swaps the words of" end
      end
    end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/typosquat-uses",
  title = "Actions must not be look-alikes of popular actions",
  description = [[
Flags `uses:` whose owner/repo differs from a popular action's by one
typo (a repeated, swapped, omitted or keyboard-adjacent character, a
homoglyph such as 0 for o), by swapped words or an appended version
number, while the owner differs: `actons/checkout`, `dokcer/login-action`,
`acti0ns/setup-python`. Typosquatted actions are registered to catch
mistyped references; they run with the job's token and secrets (for ML
pipelines: model registry, dataset storage and cloud credentials).

The popular list is zizmor's (actions/checkout, docker/*, setup-*, ...)
plus a few ML ones (conda-incubator/setup-miniconda,
mamba-org/setup-micromamba, iterative/setup-dvc, ...); param `popular`
adds more. Confidence is low offline: zizmor raises it when the look-alike
repository exists, which needs the GitHub API.]],
  remediation = [[
Check the reference character by character and point it at the real
action, pinned by commit:

    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2]],
  gate = "pipeline",
  severity = "high",
  confidence = "low",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:DEP-TYPOSQUAT", "zizmor:typosquat-uses"},
  references = {
    "https://docs.zizmor.sh/audits/#typosquat-uses",
    "https://github.com/rustfoundation/typomania",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},
  params = {popular = {}},

  check = function(file, ctx)
    local pop = BUILTIN
    if type(ctx.params.popular) ~= "table" then
      return ctx:error("param 'popular' must be a list of owner/repo names")
    end
    if #ctx.params.popular > 0 then
      local extra = {}
      for _, s in ipairs(ctx.params.popular) do
        if type(s) ~= "string" or not s:match("^[^/%s]+/[^/%s]+$") then
          return ctx:error("param 'popular': entries must look like owner/repo")
        end
        extra[#extra + 1] = s
      end
      local key = table.concat(extra, " ")
      pop = BUILT[key]
      if not pop then
        pop = build(POPULAR_LIST .. " " .. key)
        BUILT[key] = pop
      end
    end
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    local memo = memo_for(pop)
    for u, step, job in P.uses(m) do
      if (u.kind == "action" or u.kind == "reusable") and u.owner and u.repo then
        local owner = u.owner:lower()
        local name = owner .. "/" .. u.repo:lower()
        if memo[name] == nil then
          local target, how = squat_of(name, owner, pop)
          memo[name] = target and {target, how} or false
        end
        local r = memo[name]
        if r then
          ctx:fail{
            message = ("%s %s the popular action %s but belongs to another owner; check the "
              .. "reference and point it at the real action."):format(name, r[2], pop[r[1]].shown),
            line = u.line, column = u.col,
            key = (step and step.route or (job and job.route) or "") .. ":" .. name,
            details = {uses = u.raw, resembles = pop[r[1]].shown, how = r[2],
                       job = job and job.id or nil, step = step and step.index or nil},
          }
        end
      end
    end
  end,
}
