-- pipeline/self-repository: `uses: ./...` where GitHub's dedicated
-- self-repository form `$/...` is meant (zizmor's self-repository).

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/self-repository",
  title = "Use the $/ form to reference this repository's actions and workflows",
  description = [[
Flags `uses: ./path` references to this repository's actions and reusable
workflows. For a local action, `./` is a path in the job's workspace: it
runs whatever is checked out there when the step starts, so after a
checkout of a pull request head (or of another repository into the
workspace) the "local" action is someone else's code. GitHub's dedicated
self-repository syntax, `$/path`, names the workflow's own repository
explicitly for actions and reusable workflows alike and cannot be
redirected by what the job checks out. Matches zizmor's self-repository
audit.]],
  remediation = [[
Write the reference with `$/`:

    - uses: $/.github/actions/setup-training-env
    jobs:
      eval:
        uses: $/.github/workflows/eval.yml]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:HYG-SELFREPO", "zizmor:self-repository"},
  references = {"https://docs.zizmor.sh/audits/#self-repository"},
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    for u, step, job in P.uses(m) do
      local raw = u.raw and u.raw:match("^%s*(.-)%s*$") or ""
      if raw:sub(1, 2) == "./" then
        ctx:fail{
          message = ("`%s` refers to this repository through a workspace path; write it as "
            .. "`$/%s`, GitHub's dedicated self-repository syntax."):format(raw, raw:sub(3)),
          line = u.line, column = u.col,
          key = (step and step.route or (job and job.route) or "") .. ":" .. raw,
          details = {uses = raw, job = job and job.id or nil, step = step and step.index or nil},
        }
      end
    end
  end,
}
