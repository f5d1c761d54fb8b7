-- pipeline/excessive-permissions: GITHUB_TOKEN permissions broader than a
-- job can need, or the repository default left in place.
--
-- Follows zizmor's excessive-permissions audit, persona by persona:
--   workflow level: no `permissions:` (medium, high on triggers outsiders
--     can fire with a privileged token: pull_request_target, workflow_run,
--     issue_comment, pull_request_review_comment; the default token is
--     read/write on older repositories and organisations), `read-all`
--     (medium), `write-all` (high), and each `<scope>: write` (high for
--     contents, packages, id-token, actions, ...; medium for checks,
--     discussions, security-events, ...; low for statuses). These are
--     pedantic when the workflow has a single job, when every job sets its
--     own permissions, or when it is only a reusable workflow
--     (`on: workflow_call` alone): then the workflow-level block is not
--     what the jobs run with, or the caller decides.
--   job level: no `permissions:` while the workflow has none either
--     (medium, high on those triggers), `read-all` (medium), `write-all`
--     (high). An explicit per-scope job block is taken as deliberate.
--     Normal jobs of a reusable-only workflow are pedantic (the caller's
--     permissions bound them); jobs calling a reusable workflow never are.
-- Anchors: the `permissions:` line or the scope's line; the job's key
-- when the job has no block; the workflow's first key when it has none.

local WRITE_SEVERITY = {
  actions = "high", attestations = "high", checks = "medium", contents = "high",
  deployments = "high", discussions = "medium", ["id-token"] = "high", issues = "high",
  packages = "high", pages = "high", ["pull-requests"] = "high",
  ["repository-projects"] = "medium", ["security-events"] = "medium", statuses = "low",
}

local RISKY_EVENTS = {"pull_request_target", "workflow_run", "issue_comment",
                      "pull_request_review_comment"}

-- Line of the first mapping key of the file (zizmor points the "no
-- permissions block" finding at the workflow itself, which starts there).
-- Leading comments are short: the first 4 KiB are read; past them, the
-- `on:` key (every workflow has one) is the best line the model gives.
local function first_key_line(path, m)
  local src = mlgate.fs.read(path, 4096)
  local n = 0
  for l in (src or ""):gmatch("([^\n]*)\n") do
    n = n + 1
    local s = l:gsub("^\239\187\191", "")
    if not s:match("^%s*$") and not s:match("^%s*#") and not s:match("^%-%-%-")
       and not s:match("^%%") then
      return n
    end
  end
  return m.on and m.on.line or 1
end

return mlgate.policy {
  id = "pipeline/excessive-permissions",
  title = "Workflow token permissions must be set and as narrow as the jobs need",
  description = [[
Every job gets a GITHUB_TOKEN. Without a `permissions:` block it carries the
repository's default permissions, which on repositories and organisations
created before February 2023 (and wherever an admin kept the old setting)
are read/write on contents, packages, pull requests, issues, deployments and
more. `write-all`, `read-all` and per-scope `write` at workflow level hand
the same reach to every job. A step that is compromised (a hijacked action,
a poisoned dependency, an injected script, a malicious model or dataset
loader) then acts with that token: it can push to branches and tags, publish
packages and container images, rewrite releases of model artefacts, or
approve its own pull request.

Flagged, as zizmor's excessive-permissions audit does: a workflow or job
with no `permissions:` at all, `read-all`, `write-all`, and `write` scopes
granted at workflow level (grant writes to the one job that needs them).
Findings that zizmor's regular persona keeps back (workflow-level blocks
of single-job workflows or where every job has its own block, jobs of
reusable-only workflows) are in the pedantic profile.]],
  remediation = [[
Deny everything at workflow level and grant each job only what it uses:

    permissions: {}               # workflow level: no token scopes

    jobs:
      train:
        permissions:
          contents: read          # checkout
        ...
      release-model:
        permissions:
          contents: write         # create the GitHub release
          id-token: write         # OIDC for the registry / signing
        ...

Jobs that call a reusable workflow need their own block too: the called
workflow runs with the permissions the caller job grants.]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0055", "AML.T0010.001"},
  aliases = {"catalog:PERM-EXCESS", "zizmor:excessive-permissions",
             "poutine:default_permissions_on_risky_events", "scorecard:Token-Permissions",
             "checkov:CKV2_GHA_1"},
  references = {
    "https://docs.zizmor.sh/audits/#excessive-permissions",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end

    local jobs = m.jobs or {}
    local all_jobs_explicit = true
    for _, job in ipairs(jobs) do
      if not job.permissions then all_jobs_explicit = false end
    end
    local events = m.on and m.on.events or {}
    local names = m.on and m.on.names or {}
    local reusable_only = names.workflow_call and #events == 1 or false
    local wf_profile = (#jobs == 1 or all_jobs_explicit or reusable_only) and "pedantic"
      or "regular"
    -- The default token on triggers that run with write access on behalf of
    -- outsiders (poutine's default_permissions_on_risky_events): high.
    local risky
    for _, ev in ipairs(RISKY_EVENTS) do
      if names[ev] then risky = ev; break end
    end
    local default_sev = risky and "high" or "medium"
    local risky_note = risky and (" (on `%s`, which outsiders can trigger)"):format(risky) or ""

    local function fail(t, profile)
      t.profile = profile ~= "regular" and profile or nil
      ctx:fail(t)
    end

    -- Workflow level.
    local p = m.permissions
    if not p then
      fail({
        message = "The workflow has no `permissions:` block, so its jobs get the repository's "
          .. "default token permissions" .. risky_note .. "; add `permissions: {}` and grant "
          .. "scopes per job.",
        line = first_key_line(file.path, m), column = 1, severity = default_sev,
        confidence = "medium", key = "permissions:default",
        details = {level = "workflow", kind = "default"},
      }, wf_profile)
    elseif p.kind == "read-all" or p.kind == "write-all" then
      local write = p.kind == "write-all"
      fail({
        message = ("`permissions: %s` gives every job %s access to every scope; replace it by "
          .. "`permissions: {}` and grant the scopes each job needs."):format(p.kind,
          write and "write" or "read"),
        line = p.line, column = p.col, severity = write and "high" or "medium",
        confidence = "high", key = "permissions:" .. p.kind,
        details = {level = "workflow", kind = p.kind},
      }, wf_profile)
    elseif p.kind == "map" then
      for _, s in ipairs(p.scopes or {}) do
        if s.level == "write" then
          fail({
            message = ("`%s: write` at workflow level gives it to every job; move it to the "
              .. "job that needs it."):format(s.name),
            line = s.line, column = s.col, severity = WRITE_SEVERITY[s.name] or "medium",
            confidence = "high", key = "permissions:" .. s.name,
            details = {level = "workflow", kind = "scope", scope = s.name},
          }, wf_profile)
        end
      end
    end

    -- Job level.
    for _, job in ipairs(jobs) do
      local profile = "regular"
      if job.kind ~= "reusable" and reusable_only then profile = "pedantic" end
      local jp = job.permissions
      if not jp then
        if not p then
          fail({
            message = ("Job '%s' has no `permissions:` block and the workflow sets none, so "
              .. "it runs with the repository's default token permissions%s; add a "
              .. "`permissions:` block with the scopes it needs."):format(job.id, risky_note),
            line = job.line, column = job.col, severity = default_sev, confidence = "medium",
            key = job.route .. ":permissions:default",
            details = {level = "job", job = job.id, kind = "default"},
          }, profile)
        end
      elseif jp.kind == "read-all" or jp.kind == "write-all" then
        local write = jp.kind == "write-all"
        fail({
          message = ("Job '%s' uses `permissions: %s`; list only the scopes it needs.")
            :format(job.id, jp.kind),
          line = jp.line, column = jp.col, severity = write and "high" or "medium",
          confidence = "high", key = job.route .. ":permissions:" .. jp.kind,
          details = {level = "job", job = job.id, kind = jp.kind},
        }, profile)
      end
    end
  end,
}
