-- e2e test policy with hard enforcement (waivers refused).
return mlgate.policy {
  id = "deploy/e2e-hard",
  title = "Release notes must not mark a model as unsigned",
  description = "Test policy of the end-to-end suite (tests/e2e).",
  remediation = "Sign the model.",
  gate = "deploy",
  severity = "critical",
  enforcement = "hard",
  atlas = {"AML.M0014"},
  aliases = {"e2e:unsigned"},
  files = {"deploy/**"},
  check = function(file, ctx)
    local text = assert(mlgate.fs.read(file.path))
    for n, line in mlgate.text.lines(text) do
      local s = line:find("UNSIGNED", 1, true)
      if s then ctx:fail{message = "the release is marked unsigned", line = n, column = s} end
    end
  end,
}
