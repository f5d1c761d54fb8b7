-- pipeline/unsigned-image-push: a workflow pushes container images but
-- never signs them or attests their provenance/SBOM (checkov CKV_GHA_5
-- "cosign sign" and CKV_GHA_6 "cosign attest/SBOM" as one check).

local P = mlgate.pipeline

local PUSH_CMD = mlgate.re.compile(
  [[\b(?:docker|podman|buildah)\s+(?:image\s+)?push\b|\bdocker\s+buildx\s+(?:build|bake)\b[^\n]*--push\b|]] ..
  [[\bdocker\s+buildx\s+(?:build|bake)\b[^\n]*--output[= ][^\n]*push=true|]] ..
  [[\bdocker\s+buildx\s+imagetools\s+create\b|\bko\s+(?:build|publish|resolve|apply)\b|]] ..
  [[\bcrane\s+(?:push|copy|cp)\b|\bskopeo\s+copy\b[^\n]*\sdocker://|\bjib\b[^\n]*(?:build|:build)\b|]] ..
  -- kaniko, the usual image builder of GitLab CI, pushes to --destination
  [[(?:/kaniko/)?\bexecutor\b(?![^\n]*--no-push)[^\n]*\s--destination\b]])
local SIGN_CMD = mlgate.re.compile(
  [[\bcosign\s+(?:sign|attest)\b|\bnotation\s+sign\b|\bdocker\s+trust\s+sign\b|\bgh\s+attestation\b]])
-- Actions that sign images or attest their provenance/SBOM.
local SIGN_ACTIONS = {
  ["actions/attest-build-provenance"] = true, ["actions/attest"] = true,
  ["actions/attest-sbom"] = true, ["sigstore/cosign-installer"] = "installer",
  ["notaryproject/notation-action"] = true, ["sigstore/gh-action-sigstore-python"] = true,
  ["slsa-framework/slsa-github-generator"] = true,
}
local PUSH_ACTIONS = {["docker/build-push-action"] = "push", ["redhat-actions/push-to-registry"] = true,
                      ["docker/bake-action"] = "push", ["ko-build/setup-ko"] = false}

local function slug_of(u)
  if not u or (u.kind ~= "action" and u.kind ~= "reusable") or not u.owner or not u.repo then return nil end
  return u.owner:lower() .. "/" .. u.repo:lower()
end

local function with_value(step, name)
  for _, kv in ipairs(step.with or {}) do
    if kv.name == name then return kv.value and kv.value.text or "" end
  end
  return nil
end

return mlgate.policy {
  id = "pipeline/unsigned-image-push",
  title = "Pushed images must be signed and carry provenance",
  description = [[
Flags workflows that push container images (docker/build-push-action with
`push`, docker/bake-action, redhat-actions/push-to-registry, `docker push`,
`docker buildx build --push`, `ko build`, `crane push`, ...) but contain no
signing or attestation step: no `cosign sign`/`cosign attest`, no
actions/attest-build-provenance / attest-sbom, no Notation or
slsa-github-generator. Without a signature and provenance, consumers (the
inference cluster, the model-serving platform, downstream teams) cannot
tell an image built by this pipeline from one pushed with a leaked registry
token, and admission policies have nothing to verify. The finding points
at each push; it is one check for checkov's CKV_GHA_5 (cosign sign) and
CKV_GHA_6 (SBOM attestation). GitLab CI (kaniko `--destination`, docker
push in any job, included files too) and Jenkins (sh steps,
`docker.build(...).push()`) are judged the same way: a signing command in
any job of the pipeline counts.]],
  remediation = [[
Sign the pushed digest and attach build provenance (keyless, with the
job's OIDC token):

    permissions:
      id-token: write
      packages: write
      attestations: write
    steps:
      - id: push
        uses: docker/build-push-action@<full-commit-sha> # v6.18.0
        with: {push: true, tags: "ghcr.io/org/model-server:1.2.0"}
      - uses: actions/attest-build-provenance@<full-commit-sha> # v2.4.0
        with:
          subject-name: ghcr.io/org/model-server
          subject-digest: ${{ steps.push.outputs.digest }}
          push-to-registry: true
      # or: cosign sign --yes ghcr.io/org/model-server@${{ steps.push.outputs.digest }}]],
  gate = "pipeline",
  severity = "medium",
  confidence = "medium",
  atlas = {"AML.M0013", "AML.T0010.004"},
  aliases = {"catalog:PROV-SIGN", "checkov:CKV_GHA_5", "checkov:CKV_GHA_6"},
  references = {
    "https://docs.sigstore.dev/cosign/signing/signing_with_containers/",
    "https://docs.github.com/en/actions/security-for-github-actions/using-artifact-attestations/using-artifact-attestations-to-establish-provenance-for-builds",
  },
  files = P.files("github", "gitlab", "jenkins"),

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m then return end
    if m.kind ~= "workflow" and m.kind ~= "gitlab-ci" and m.kind ~= "jenkinsfile" then return end
    local pushes, signed = {}, false
    for step, job in P.steps(m) do
      local s = slug_of(step.uses)
      if s then
        if SIGN_ACTIONS[s] == true then signed = true end
        local pa = PUSH_ACTIONS[s]
        if pa == true then
          pushes[#pushes + 1] = {line = step.uses.line, col = step.uses.col, what = s, step = step, job = job}
        elseif pa == "push" then
          local v = with_value(step, "push")
          local out = with_value(step, "outputs") or ""
          if (v and v ~= "false" and v ~= "") or out:find("push=true", 1, true)
             or out:find("type=registry", 1, true) then
            pushes[#pushes + 1] = {line = step.uses.line, col = step.uses.col, what = s, step = step, job = job}
          end
        end
      elseif step.run and step.run.text then
        local text = step.run.text
        if SIGN_CMD:test(text) then signed = true end
        for st in PUSH_CMD:gfind(text) do
          local line, col = P.where(step.run, st - 1)
          local e = text:find("\n", st, true) or (#text + 1)
          pushes[#pushes + 1] = {line = line, col = col, what = text:sub(st, e - 1):sub(1, 60),
                                 step = step, job = job,
                                 path = step.path or (job and job.path)}
        end
      end
    end
    -- Jenkins: docker.build(...).push() and img.push() in a stage that
    -- builds or pulls with the Docker Pipeline plugin.
    if m.kind == "jenkinsfile" then
      for _, job in ipairs(m.jobs or {}) do
        local docker = false
        for _, c in ipairs(job.calls or {}) do
          if c.name == "docker.build" or c.name == "docker.image" then docker = true end
        end
        if docker then
          for _, c in ipairs(job.calls or {}) do
            if c.name == ".push" or c.name:match("^[%a_][%w_]*%.push$") then
              pushes[#pushes + 1] = {line = c.line, col = c.col, what = c.name .. "()",
                                     step = {route = job.route .. ".calls", index = nil},
                                     job = job, path = job.path}
            end
          end
        end
      end
    end
    if signed then return end
    local seen = {}
    for _, p in ipairs(pushes) do
      local at = (p.path or "") .. ":" .. p.line
      if not seen[at] then
        seen[at] = true
        ctx:fail{
          message = ("`%s` pushes an image but the %s never signs it or attests its "
            .. "provenance; add cosign sign (or %s) for the pushed digest."):format(p.what,
            m.kind == "workflow" and "workflow" or "pipeline",
            m.kind == "workflow" and "actions/attest-build-provenance" or "cosign attest"),
          path = p.path, line = p.line, column = p.col,
          key = p.step.route .. ":push:" .. p.line,
          details = {job = p.job and p.job.id or nil, step = p.step.index, push = p.what},
        }
      end
    end
  end,
}
