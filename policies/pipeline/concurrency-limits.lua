-- pipeline/concurrency-limits: workflows without concurrency limits
-- (zizmor's concurrency-limits, pedantic): no workflow `concurrency:` and
-- jobs without one, or a bare `concurrency: group` string without
-- `cancel-in-progress`. Reusable-only workflows are left to their callers.

local P = mlgate.pipeline

local function is_bare(c)
  local g = c.group
  return g ~= nil and c.cancel_in_progress == nil and g.key_line == c.line and g.key_col == c.col
end

return mlgate.policy {
  id = "pipeline/concurrency-limits",
  title = "Workflows should limit concurrent runs",
  description = [[
Flags workflows that set no `concurrency:` (neither at the top nor on
every job) and bare `concurrency: <group>` strings, which queue runs but
never cancel superseded ones. Without limits, a burst of pushes or pull
request updates starts one full pipeline each: stale training or
evaluation runs keep burning GPU minutes, and an older deployment or model
publication can finish after a newer one. Reusable workflows (only
`workflow_call`) are not reported: their callers own concurrency.
Pedantic profile, as in zizmor.]],
  remediation = [[
Add a concurrency group that cancels superseded runs:

    concurrency:
      group: ${{ github.workflow }}-${{ github.event.pull_request.number || github.ref }}
      cancel-in-progress: true

(`cancel-in-progress: false` is accepted as a deliberate choice, e.g. for
deployments.)]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  profile = "pedantic",
  atlas = {"AML.T0029"},
  aliases = {"catalog:RUN-CONCURRENCY", "zizmor:concurrency-limits"},
  references = {
    "https://docs.zizmor.sh/audits/#concurrency-limits",
    "https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/control-the-concurrency-of-workflows-and-jobs",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local names = (m.on and m.on.names) or {}
    local only_call = names.workflow_call
    for n in pairs(names) do
      if n ~= "workflow_call" then only_call = false end
    end
    if only_call then return end
    local c = m.concurrency
    if c then
      if is_bare(c) then
        ctx:fail{
          message = "The workflow's `concurrency:` names only a group, so superseded runs queue "
            .. "instead of being cancelled; use a mapping with `cancel-in-progress: true`.",
          line = c.line, column = c.col, key = "concurrency",
        }
      end
      return
    end
    local bare, missing = {}, {}
    for _, job in ipairs(m.jobs or {}) do
      if job.kind == "normal" then
        if not job.concurrency then
          missing[#missing + 1] = job.id
        elseif is_bare(job.concurrency) then
          bare[#bare + 1] = job.id
        end
      end
    end
    local on = m.on or {line = 1, col = 1}
    if #bare > 0 then
      ctx:fail{
        message = ("The workflow has no `concurrency:` and job(s) %s name only a group without "
          .. "`cancel-in-progress`; add workflow-level concurrency with cancel-in-progress.")
          :format(table.concat(bare, ", ")),
        line = on.line, column = on.col, key = "concurrency:bare",
        details = {jobs = bare},
      }
    end
    if #missing > 0 then
      ctx:fail{
        message = ("The workflow has no `concurrency:` and job(s) %s set none, so every push "
          .. "starts another full run; add a concurrency group with cancel-in-progress.")
          :format(table.concat(missing, ", ")),
        line = on.line, column = on.col, key = "concurrency:missing",
        details = {jobs = missing},
      }
    end
  end,
}
