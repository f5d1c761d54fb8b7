-- pipeline/known-vulnerable-actions: actions at a version with a published
-- security advisory (zizmor's known-vulnerable-actions, offline: a small
-- bundled table of GitHub advisories for the actions ecosystem, extendable
-- with param `advisories`). The version is the tag (`@v44`, `@v4.1.2`) or,
-- for a commit pin, the version comment (`@<sha> # v44.5.1`).

local P = mlgate.pipeline

-- repo -> list of {id, cve, severity, introduced, fixed, refs, summary}
-- introduced/fixed: versions ("46.0.1"); refs: exact refs (floating tags
-- that were repointed to malicious code).
local BUILTIN = {
  ["tj-actions/changed-files"] = {
    {id = "GHSA-mrrh-fwg8-r2c3", cve = "CVE-2025-30066", severity = "high", fixed = "46.0.1",
     summary = "supply-chain compromise: its tags were repointed to code that dumped runner "
       .. "secrets into the build log (March 2025)"},
    {id = "GHSA-mcph-m25j-8j63", cve = "CVE-2023-51664", severity = "high", fixed = "41.0.0",
     summary = "command injection through crafted file names in its outputs"},
  },
  ["tj-actions/branch-names"] = {
    {id = "GHSA-8v8w-v8xg-79rf", cve = "CVE-2023-49291", severity = "high", fixed = "7.0.7",
     summary = "command injection through crafted branch names in its outputs"},
  },
  ["tj-actions/verify-changed-files"] = {
    {id = "GHSA-ghm2-rq8q-wrhc", cve = "CVE-2023-52137", severity = "high", fixed = "17.0.0",
     summary = "command injection through crafted file names in its outputs"},
  },
  ["reviewdog/action-setup"] = {
    {id = "GHSA-qmg3-hpqr-gqvc", cve = "CVE-2025-30154", severity = "high", refs = {"v1"},
     summary = "supply-chain compromise: the v1 tag was repointed to code that dumped runner "
       .. "secrets into the build log (March 2025); other reviewdog actions pulled it in"},
  },
  ["actions/download-artifact"] = {
    {id = "GHSA-cxww-7g56-2vh6", cve = "CVE-2024-42471", severity = "high",
     introduced = "4.0.0", fixed = "4.1.3",
     summary = "path traversal: an artifact can write files outside the target directory"},
  },
  ["rlespinasse/github-slug-action"] = {
    {id = "GHSA-6q4m-7476-932w", cve = "CVE-2023-27581", severity = "high",
     introduced = "4.0.0", fixed = "4.4.1",
     summary = "command injection through crafted branch or tag names"},
  },
  ["gradle/gradle-build-action"] = {
    {id = "GHSA-h3qr-39j9-4r5v", cve = "CVE-2023-30853", severity = "high", fixed = "2.4.2",
     summary = "secrets written to the Gradle User Home could be saved in the Actions cache"},
  },
}

local INF = math.huge

-- {parts, partial} from "v45", "4.1.2", "v1.2.3-rc1" (pre-release ignored).
local function parse_version(s)
  if type(s) ~= "string" then return nil end
  local v = s:match("^[vV]?(%d+[%.%d]*)")
  if not v then return nil end
  local parts = {}
  for n in v:gmatch("%d+") do parts[#parts + 1] = tonumber(n) end
  if #parts == 0 then return nil end
  return parts
end

local function cmp(a, b, pad_a)
  for i = 1, math.max(#a, #b, 3) do
    local x = a[i] or pad_a
    local y = b[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

local function compile(extra)
  if type(extra) ~= "table" then
    error("param 'advisories' must map owner/repo to a list of {id, fixed, introduced, severity, summary}", 0)
  end
  local out = {}
  for k, v in pairs(BUILTIN) do out[k] = v end
  for _, repo in ipairs(mlgate.keys(extra)) do
    local list = extra[repo]
    if type(repo) ~= "string" or not repo:match("^[^/]+/[^/]+$") or type(list) ~= "table" then
      error("param 'advisories': keys are owner/repo, values lists of advisories", 0)
    end
    local l = {}
    for _, a in ipairs(out[repo:lower()] or {}) do l[#l + 1] = a end
    for _, a in ipairs(list) do
      if type(a) ~= "table" or type(a.id) ~= "string" or not (a.fixed or a.refs or a.introduced) then
        error(("param 'advisories': each entry for %s needs id and fixed, introduced or refs"):format(repo), 0)
      end
      l[#l + 1] = {id = a.id, cve = a.cve, severity = a.severity or "medium",
                   introduced = a.introduced, fixed = a.fixed, refs = a.refs,
                   summary = a.summary or "see the advisory"}
    end
    out[repo:lower()] = l
  end
  return out
end

local SEV = {critical = "high", high = "high", moderate = "medium", medium = "medium", low = "low"}

return mlgate.policy {
  id = "pipeline/known-vulnerable-actions",
  title = "Actions must not be used at versions with known advisories",
  description = [[
Flags actions used at a version covered by a GitHub security advisory,
from a bundled offline table: tj-actions/changed-files before 46.0.1
(the March 2025 compromise, CVE-2025-30066) and before 41 (CVE-2023-51664),
tj-actions/branch-names and verify-changed-files injections,
reviewdog/action-setup@v1 (CVE-2025-30154), actions/download-artifact 4.0
to 4.1.2 (path traversal, CVE-2024-42471), rlespinasse/github-slug-action
4.0 to 4.4.0 and gradle/gradle-build-action before 2.4.2. The version is
the tag, or the version comment of a commit pin; a floating major tag
(`@v4`) counts as the newest release of that major line. Compromised and
injectable actions run inside jobs that hold model registry, dataset and
cloud credentials. Add advisories with param `advisories` (owner/repo ->
list of {id, cve, severity, introduced, fixed, refs, summary}). zizmor
queries the advisory database online; this table is a small offline
subset.]],
  remediation = [[
Upgrade to a fixed release and pin its commit, for example:

    - uses: tj-actions/changed-files@<full-commit-sha> # v46.0.5

After a supply-chain compromise, also rotate every secret the affected
workflows could read and check their logs.]],
  gate = "pipeline",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.001", "AML.T0055"},
  aliases = {"catalog:VULN-ACTION", "zizmor:known-vulnerable-actions",
             "poutine:known_vulnerability_in_build_component"},
  references = {
    "https://docs.zizmor.sh/audits/#known-vulnerable-actions",
    "https://github.com/advisories?query=ecosystem%3Aactions",
  },
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},
  params = {advisories = {}},

  check = function(file, ctx)
    local ok, table_ = pcall(compile, ctx.params.advisories)
    if not ok then return ctx:error(table_) end
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    for u, step, job in P.uses(m) do
      if (u.kind == "action" or u.kind == "reusable") and u.owner and u.repo then
        local slug = u.owner:lower() .. "/" .. u.repo:lower()
        local advs = table_[slug]
        if advs then
          local version, partial, source
          if u.pin == "tag" then
            version = parse_version(u.ref)
            partial = version and #version < 3
            source = "tag"
          elseif u.comment then
            for tok in u.comment:gmatch("[%w%.%-_]+") do
              version = parse_version(tok)
              if version then break end
            end
            source = "comment"
          end
          for _, a in ipairs(advs) do
            local hit = false
            if a.refs then
              for _, r in ipairs(a.refs) do
                if u.ref == r then hit = true end
              end
            end
            if not hit and version and (a.fixed or a.introduced) then
              local pad = partial and INF or 0
              local fixed = a.fixed and parse_version(a.fixed)
              local intro = a.introduced and parse_version(a.introduced)
              hit = (not fixed or cmp(version, fixed, pad) < 0)
                    and (not intro or cmp(version, intro, pad) >= 0)
            end
            if hit then
              ctx:fail{
                message = ("%s is affected by %s%s: %s; upgrade to %s and pin its commit.")
                  :format(u.raw, a.id, a.cve and (" (" .. a.cve .. ")") or "", a.summary,
                          a.fixed and ("v" .. a.fixed .. " or later") or "a fixed release"),
                line = u.line, column = u.col,
                severity = SEV[a.severity] or "medium",
                confidence = source == "comment" and "medium" or "high",
                key = (step and step.route or (job and job.route) or "") .. ":" .. a.id,
                details = {uses = u.raw, advisory = a.id, cve = a.cve, fixed = a.fixed,
                           version_from = source, job = job and job.id or nil,
                           step = step and step.index or nil},
              }
            end
          end
        end
      end
    end
  end,
}
