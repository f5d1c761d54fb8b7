-- e2e test policy: workflow steps must pin actions to a full commit id.
-- Exercises mlgate.yaml.load and mlgate.pos (positions of parsed values).
local function walk_steps(doc, fn)
  if type(doc) ~= "table" or type(doc.jobs) ~= "table" then return end
  for _, job in mlgate.spairs(doc.jobs) do
    if type(job) == "table" and type(job.steps) == "table" then
      for _, step in ipairs(job.steps) do
        if type(step) == "table" and type(step.uses) == "string" then fn(step) end
      end
    end
  end
end

return mlgate.policy {
  id = "pipeline/e2e-unpinned",
  title = "Workflow actions must be pinned to a commit id",
  description = "Test policy of the end-to-end suite (tests/e2e).",
  remediation = "Pin the action to a 40-hex commit id.",
  gate = "pipeline",
  severity = "high",
  atlas = {"AML.T0010"},
  aliases = {"e2e:unpinned-uses"},
  files = {".github/workflows/*.yml", ".github/workflows/*.yaml"},
  check = function(file, ctx)
    local doc, err = mlgate.yaml.load(file.path)
    if not doc then return ctx:error(err) end
    walk_steps(doc, function(step)
      local ref = step.uses:match("@(.*)$")
      if not (ref and #ref == 40 and ref:match("^%x+$")) then
        ctx:fail{message = ("action %s is not pinned to a commit id"):format(step.uses),
                 at = mlgate.pos(step, "uses"), key = step.uses,
                 details = {uses = step.uses}}
      end
    end)
  end,
}
