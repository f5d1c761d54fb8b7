-- pipeline/schema: CI definitions that GitHub or GitLab would refuse to
-- run (or a Jenkinsfile mlgate cannot read), or whose expressions GitHub
-- would reject, are reported instead of being silently skipped by every
-- other pipeline policy.
--
-- A file the model loader refuses (invalid YAML, unknown keys, a step with
-- both `uses` and `run`, ...) is an evaluation error: the gate cannot judge
-- it, so it fails closed with the loader's located message. Expressions
-- that do not parse are findings at the `${{`.

local P = mlgate.pipeline

return mlgate.policy {
  id = "pipeline/schema",
  title = "CI definitions must be valid for GitHub Actions, GitLab CI and Jenkins",
  description = [[
Loads every GitHub Actions workflow (.github/workflows/*.yml), action
(action.yml), Dependabot and pre-commit configuration into mlgate's pipeline
model and reports what GitHub itself would reject: YAML that does not parse,
duplicate keys, unknown keys at workflow, job, step and action level (a
misspelt `runs_on:` or `permision:` silently changes what the job does in
other tools, and GitHub refuses the file), a workflow without `on:` or
`jobs:`, a job with neither `runs-on:` nor `uses:`, a step with both or
neither of `uses:` and `run:`. Such a file is an evaluation error located at
the fault (exit status 2): mlgate cannot audit what it cannot read, so the
gate fails closed rather than passing a file no other policy looked at.

Each `${{ }}` expression is also parsed with mlgate's implementation of
GitHub's expression language; one that does not parse (a stray operator, an
unknown function, an unclosed string, an unknown context such as
`${{ github.event.issue.title }` or `${{ secret.TOKEN }}`) is a finding at
its `${{`: GitHub fails the run when it reaches it, often only on the event
that exercises it.

GitLab CI files (`.gitlab-ci.yml` and every local file they include) are
checked as GitLab's linter does after resolving `include:`, `extends:`,
`!reference` and `default:`: unknown job keywords (`scirpt:`), a job with
nothing to run, an undeclared stage, a missing included file or an include
cycle. A Jenkinsfile that cannot be tokenised (an unterminated string or an
unbalanced `pipeline {`) is an error at the opening that was never closed.]],
  remediation = [[
Fix the file at the reported position. For unknown keys the message lists
the accepted ones; `actionlint` and GitHub's workflow editor give the same
diagnosis. For expressions, check the context name (`secrets`, not
`secret`), the function name and the quotes:

    if: ${{ github.event_name == 'push' && startsWith(github.ref, 'refs/tags/') }}]],
  gate = "pipeline",
  severity = "medium",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:HYG-SCHEMA", "actionlint:syntax-check", "actionlint:expression"},
  references = {
    "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax",
    "https://docs.github.com/en/actions/reference/workflows-and-actions/expressions",
  },
  files = P.files("github", "action", "gitlab", "jenkins", {".github/dependabot.{yml,yaml}", "**/.pre-commit-config.{yml,yaml}"}),

  check = function(file, ctx)
    local m, err = mlgate.pipeline.load(file.path)
    if not m then
      if err then return ctx:error(err, file.path) end
      return
    end
    -- GitHub's ${{ }} only: GitLab's $[[ ]] and Groovy's ${} are not parsed here.
    if not m.exprs or not mlgate.gha or (m.platform or "github") ~= "github" then return end
    local seen = {}
    for _, e in ipairs(m.exprs) do
      local ok, perr = mlgate.gha.parse(e.text)
      if not ok then
        local id = e.line .. ":" .. e.col
        if not seen[id] then
          seen[id] = true
          -- perr is GitHub's wording ("Unexpected symbol: ..."), without a file.
          ctx:fail{
            message = ("The expression %s%s%s does not parse (%s), so GitHub fails the run "
              .. "when it evaluates it; correct it."):format(
                e.fenced and "${{ " or "", e.text:match("^%s*(.-)%s*$"):sub(1, 80),
                e.fenced and " }}" or "",
                tostring(perr)),
            line = e.line, column = e.col, end_line = e.end_line, end_column = e.end_col,
            key = (e.route or "") .. ":" .. e.text,
            details = {route = e.route, field = e.field, expression = e.text},
          }
        end
      end
    end
  end,
}
