-- e2e test policy (medium severity): flags TODO markers in CSV data files.
return mlgate.policy {
  id = "data/e2e-todo",
  title = "Data files must not contain TODO markers",
  description = "Test policy of the end-to-end suite (tests/e2e).",
  remediation = "Finish the data file.",
  gate = "data",
  severity = "medium",
  atlas = {"AML.T0020"},
  aliases = {"e2e:todo"},
  files = {"**/*.csv"},
  check = function(file, ctx)
    local text = assert(mlgate.fs.read(file.path))
    for n, line in mlgate.text.lines(text) do
      local s = line:find("TODO", 1, true)
      if s then
        ctx:fail{message = "the data file has an unfinished TODO row", line = n, column = s}
      end
    end
  end,
}
