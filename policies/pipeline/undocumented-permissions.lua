-- pipeline/undocumented-permissions: explicit token permissions without a
-- comment saying why they are needed (pedantic).
--
-- Follows zizmor's undocumented-permissions audit: in every explicit
-- per-scope `permissions:` block (workflow and jobs), each scope other than
-- `contents: read` needs a comment on its line with some text in it; one
-- finding per block, at its first undocumented scope, listing them all.

local function meaningful(comment)
  return comment ~= nil and comment:find("%S") ~= nil
end

return mlgate.policy {
  id = "pipeline/undocumented-permissions",
  title = "Token permissions should say why each one is needed",
  description = [[
An explicit `permissions:` block is the right thing, but a reviewer (or the
next maintainer of a training or release workflow) cannot tell whether
`packages: write` or `id-token: write` is still needed, or was copied from
another workflow, unless the line says what uses it. Unexplained scopes
tend to stay forever, and every one of them is reach a compromised step
gets. `contents: read` alone is self-explanatory and not flagged.

Matches zizmor's undocumented-permissions audit; it is in the pedantic
profile (off by default), as in zizmor.]],
  remediation = [[
Put a short comment on each scope's line naming what needs it:

    permissions:
      contents: read
      packages: write    # push the inference image to ghcr.io
      id-token: write    # keyless signing of the image with cosign]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  profile = "pedantic",
  atlas = {"AML.T0055"},
  aliases = {"catalog:PERM-DOC", "zizmor:undocumented-permissions"},
  references = {"https://docs.zizmor.sh/audits/#undocumented-permissions"},
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = mlgate.pipeline.load(file.path)
    if not m or m.kind ~= "workflow" then return end

    local function check_block(p, where, key, job)
      if not p or p.kind ~= "map" then return end
      local missing = {}
      for _, s in ipairs(p.scopes or {}) do
        if not (s.name == "contents" and s.level == "read") and not meaningful(s.comment) then
          missing[#missing + 1] = s
        end
      end
      if #missing == 0 then return end
      local names = {}
      for i, s in ipairs(missing) do names[i] = s.name .. ": " .. tostring(s.level) end
      local first, last = missing[1], missing[#missing]
      ctx:fail{
        message = ("%s grants %s without a comment saying why; add a comment on each "
          .. "scope's line naming what needs it."):format(where, table.concat(names, ", ")),
        line = first.line, column = first.col,
        end_line = last.line > first.line and last.line or nil,
        key = key,
        details = {job = job, scopes = names},
      }
    end

    check_block(m.permissions, "The workflow's `permissions:` block", "permissions")
    for _, job in ipairs(m.jobs or {}) do
      check_block(job.permissions, ("Job '%s'"):format(job.id),
        job.route .. ":permissions", job.id)
    end
  end,
}
