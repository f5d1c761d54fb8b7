-- pipeline/superfluous-actions: third-party actions for what the runner's
-- preinstalled tools (gh, git, jq, docker, rustup) already do (zizmor's
-- superfluous-actions; pedantic here as a whole).

local P = mlgate.pipeline

-- owner/repo (lower case) -> what to use instead
local SUPERFLUOUS = {
  ["ncipollo/release-action"] = "`gh release create` in a run step",
  ["softprops/action-gh-release"] = "`gh release create` / `gh release upload` in a run step",
  ["elgohr/github-release-action"] = "`gh release create` in a run step",
  ["peter-evans/create-pull-request"] = "`git` and `gh pr create` in a run step",
  ["peter-evans/create-or-update-comment"] = "`gh pr comment` or `gh issue comment` in a run step",
  ["dacbd/create-issue-action"] = "`gh issue create` in a run step",
  ["actions-ecosystem/action-add-labels"] = "`gh issue edit --add-label` or `gh pr edit --add-label`",
  ["actions-ecosystem/action-remove-labels"] = "`gh issue edit --remove-label` or `gh pr edit --remove-label`",
  ["svenstaro/upload-release-action"] = "`gh release create` and `gh release upload` in a run step",
  ["addnab/docker-run-action"] = "`docker run` in a run step, or a container step",
  ["sergeysova/jq-action"] = "`jq` in a run step (preinstalled)",
  ["dtolnay/rust-toolchain"] = "`rustup` / `cargo` in a run step (preinstalled)",
  ["stefanzweifel/git-auto-commit-action"] = "`git add`, `git commit` and `git push` in a run step",
  ["endbug/add-and-commit"] = "`git add`, `git commit` and `git push` in a run step",
}

return mlgate.policy {
  id = "pipeline/superfluous-actions",
  title = "Prefer the runner's own tools to single-purpose actions",
  description = [[
Flags actions that wrap a tool GitHub's runners already ship: release
creation and uploads (gh), pull request and issue comments and labels (gh),
commits and pushes (git), jq, docker run, rustup. Each extra action is
third-party code that runs with the job's token (often a write token in
release jobs that publish models and packages) and must be pinned, reviewed
and updated. Informational, pedantic profile.]],
  remediation = [[
Replace the action by a few lines of script, for example:

    - run: gh release create "$TAG" dist/* --generate-notes
      env:
        GH_TOKEN: ${{ github.token }}
        TAG: ${{ github.ref_name }}]],
  gate = "pipeline",
  severity = "info",
  confidence = "medium",
  profile = "pedantic",
  atlas = {"AML.T0010.001"},
  aliases = {"catalog:DEP-SUPERFLUOUS", "zizmor:superfluous-actions"},
  references = {"https://docs.zizmor.sh/audits/#superfluous-actions"},
  files = {".github/workflows/*.{yml,yaml}", "**/action.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or (m.kind ~= "workflow" and m.kind ~= "action") then return end
    for step, job in P.steps(m) do
      local u = step.uses
      if u and u.kind == "action" and u.owner and u.repo then
        local slug = u.owner:lower() .. "/" .. u.repo:lower()
        local instead = SUPERFLUOUS[slug]
        if instead then
          ctx:fail{
            message = ("%s only wraps a tool the runner already has; use %s and drop the "
              .. "third-party code from the job."):format(slug, instead),
            line = u.line, column = u.col,
            key = step.route .. ":" .. slug,
            details = {uses = u.raw, job = job and job.id or nil, step = step.index},
          }
        end
      end
    end
  end,
}
