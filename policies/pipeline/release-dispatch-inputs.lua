-- pipeline/release-dispatch-inputs: free-form `workflow_dispatch` string
-- inputs in workflows that build and publish releases (checkov CKV_GHA_7,
-- SLSA "build parameters": only the entry point and source may vary).

local P = mlgate.pipeline

local PUBLISH_RUN = mlgate.re.compile(
  [[\btwine\s+upload\b|\b(?:npm|pnpm)\s+publish\b|\bcargo\s+publish\b|\b(?:docker|podman)\s+push\b|]] ..
  [[\bdocker\s+buildx\s+(?:build|bake)\b[^\n]*--push\b|\bgh\s+release\s+(?:create|upload)\b|]] ..
  [[\b(?:poetry|uv|flit|hatch)\s+publish\b|\bgem\s+push\b|\bdotnet\s+nuget\s+push\b|]] ..
  [[\bhf\s+upload\b|\bhuggingface-cli\s+upload\b|\bpush_to_hub\s*\(|\bmlflow\b[^\n]*\bregister]])
local PUBLISH_ACTIONS = {
  ["pypa/gh-action-pypi-publish"] = true, ["softprops/action-gh-release"] = true,
  ["docker/build-push-action"] = true, ["goreleaser/goreleaser-action"] = true,
  ["ncipollo/release-action"] = true, ["actions/create-release"] = true,
  ["redhat-actions/push-to-registry"] = true, ["rubygems/release-gem"] = true,
  ["jreleaser/release-action"] = true, ["actions/attest-build-provenance"] = true,
}
local FREE = {string = true}

local function is_release(m)
  for _, ev in ipairs((m.on and m.on.events) or {}) do
    if ev.name == "release" then return "the release trigger" end
    if ev.name == "push" then
      if ev.tags then return "its tag trigger" end
      for _, b in ipairs(ev.branches or {}) do
        if type(b) == "string" and b:lower():find("release", 1, true) then
          return "its release-branch trigger"
        end
      end
    end
  end
  for step in P.steps(m) do
    local u = step.uses
    if u and u.owner and u.repo and PUBLISH_ACTIONS[u.owner:lower() .. "/" .. u.repo:lower()] then
      return ("the publishing step %s (line %d)"):format(u.owner .. "/" .. u.repo, u.line)
    end
    if step.run and step.run.text and PUBLISH_RUN:test(step.run.text) then
      return ("the publishing command on line %d"):format(step.run.line)
    end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/release-dispatch-inputs",
  title = "Release builds should not take free-form manual parameters",
  description = [[
Flags free-form `workflow_dispatch` inputs (type string, or no type) in
workflows that publish: release or tag triggers, release branches, or a
publishing step (PyPI/npm/crates upload, image push, GitHub release,
`hf upload`). SLSA build integrity expects the output to depend only on the
source and the entry point: a free-form input lets whoever can dispatch the
workflow change versions, model names, URLs or flags of a release build
without a reviewed commit, and the value is easily interpolated into
scripts. `choice`, `boolean`, `number` and `environment` inputs are not
reported. checkov's CKV_GHA_7.]],
  remediation = [=[
Derive release parameters from the commit or tag, or restrict the input:

    on:
      workflow_dispatch:
        inputs:
          channel:
            type: choice
            options: [stable, nightly]]=],
  gate = "pipeline",
  severity = "low",
  confidence = "medium",
  atlas = {"AML.M0013"},
  aliases = {"catalog:SLSA-PARAMS", "checkov:CKV_GHA_7"},
  references = {
    "https://slsa.dev/spec/v1.0/requirements",
    "https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#onworkflow_dispatchinputs",
  },
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    local dispatch
    for _, ev in ipairs((m.on and m.on.events) or {}) do
      if ev.name == "workflow_dispatch" then dispatch = ev end
    end
    if not dispatch or not dispatch.inputs or #dispatch.inputs == 0 then return end
    local why = is_release(m)
    if not why then return end
    for _, input in ipairs(dispatch.inputs) do
      local ty = input.type and tostring(input.type.text or input.type):lower() or "string"
      if FREE[ty] then
        ctx:fail{
          message = ("The workflow_dispatch input '%s' is free-form text in a release build "
            .. "(%s), so a dispatcher can change what is built and published without a commit; "
            .. "use a choice/boolean input or derive it from the tag."):format(input.name, why),
          line = input.line, column = input.col,
          key = "workflow_dispatch.inputs." .. input.name,
          details = {input = input.name, type = ty, release = why},
        }
      end
    end
  end,
}
