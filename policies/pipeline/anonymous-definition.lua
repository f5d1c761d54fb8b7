-- pipeline/anonymous-definition: workflows and jobs without `name:`
-- (zizmor's anonymous-definition, pedantic).

local P = mlgate.pipeline

-- Line of the first top-level key (where zizmor points for a workflow).
local function first_key_line(path)
  local src = mlgate.fs.read(path, 1 << 20)
  if not src then return 1 end
  for n, line in mlgate.text.lines(src) do
    local c = line:sub(1, 1)
    if c ~= "" and c ~= "#" and c ~= " " and c ~= "\t" and c ~= "\r"
       and line:sub(1, 3) ~= "---" and c ~= "%" then
      return n
    end
  end
  return 1
end

return mlgate.policy {
  id = "pipeline/anonymous-definition",
  title = "Workflows and jobs should have names",
  description = [[
Flags workflows without a top-level `name:` (low) and jobs without a
`name:` (informational). Unnamed workflows show up by file path in the
Actions UI, in required status checks and in audit logs, which makes it
harder to see which pipeline trained, evaluated or published a model and
to review changes to it. Pedantic profile, as in zizmor.]],
  remediation = [[
Give the workflow and each job a name:

    name: train-and-evaluate
    jobs:
      train:
        name: Train model]],
  gate = "pipeline",
  severity = "low",
  confidence = "high",
  profile = "pedantic",
  atlas = {"AML.M0018"},
  aliases = {"catalog:HYG-NAME", "zizmor:anonymous-definition"},
  references = {"https://docs.zizmor.sh/audits/#anonymous-definition"},
  files = {".github/workflows/*.{yml,yaml}"},

  check = function(file, ctx)
    local m = P.load(file.path)
    if not m or m.kind ~= "workflow" then return end
    if not m.name then
      ctx:fail{
        message = "The workflow has no `name:`, so the Actions UI and status checks show it by "
          .. "file path; give it a name.",
        line = first_key_line(file.path), column = 1, key = "workflow",
      }
    end
    for _, job in ipairs(m.jobs or {}) do
      if job.kind == "normal" and not job.name then
        ctx:fail{
          message = ("Job '%s' has no `name:`; give it one so runs and required checks are "
            .. "recognisable."):format(job.id),
          line = job.line, column = job.col, severity = "info",
          key = job.route, details = {job = job.id},
        }
      end
    end
  end,
}
