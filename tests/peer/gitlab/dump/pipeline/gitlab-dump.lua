-- pipeline/gitlab-dump (peer test only, never shipped): one finding per
-- GitLab job whose details carry what the gitlab-ci-local oracle compares
-- (tests/peer/gitlab_ci_local.py), read through the public model only.

local function texts(list)
  local out = {}
  for _, v in ipairs(list or {}) do out[#out + 1] = v.text end
  return out
end

return mlgate.policy {
  id = "pipeline/gitlab-dump",
  title = "Dump of the GitLab CI model (peer test)",
  description = "Reports every GitLab job with its resolved fields, for the differential test against gitlab-ci-local.",
  remediation = "None: this policy only exists for tests/peer/gitlab_ci_local.py.",
  gate = "pipeline",
  severity = "info",
  confidence = "high",
  atlas = {"AML.T0010.001"},
  files = {"**/.gitlab-ci.yml", ".gitlab-ci.yml"},

  check = function(file, ctx)
    local m, err = mlgate.pipeline.load(file.path, "gitlab-ci")
    if not m then
      return ctx:fail{message = "load error: " .. tostring(err), line = 1, key = "error",
                      details = {error = tostring(err)}}
    end
    for _, j in ipairs(m.jobs) do
      local sections = {before_script = {}, script = {}, after_script = {}}
      local lines = {}
      for _, s in ipairs(j.steps) do
        lines[#lines + 1] = s.run.text
        local t = sections[s.section]
        t[#t + 1] = s.run.text
      end
      local vars = {}
      for _, kv in ipairs(j.env or {}) do
        vars[kv.name] = kv.value and kv.value.text or mlgate.null
      end
      local needs = {}
      for _, n in ipairs(j.needs or {}) do needs[#needs + 1] = n.job or "" end
      local rules = {}
      for _, r in ipairs(j.rules or {}) do
        rules[#rules + 1] = {["if"] = r.cond and r.cond.text or mlgate.null,
                             when = r.when and r.when.text or mlgate.null}
      end
      ctx:fail{
        message = "job " .. j.id,
        line = j.line, column = j.col, key = j.id,
        details = {
          job = j.id, path = j.path,
          script = lines, sections = sections,
          image = j.container and j.container.raw or mlgate.null,
          stage = j.stage and j.stage.text or "test",
          variables = vars,
          needs = j.needs and needs or mlgate.null,
          when = j.when and j.when.text or mlgate.null,
          rules = j.rules and rules or mlgate.null,
          tags = j.runs_on and texts(j.runs_on.labels) or {},
          artifacts = j.artifacts and texts(j.artifacts.paths) or mlgate.null,
          reach = j.reach,
        },
      }
    end
  end,
}
