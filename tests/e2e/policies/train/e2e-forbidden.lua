-- e2e test policy: flags every occurrence of a word in Python files, with
-- exact line and column (the word is a parameter so config params can be
-- tested).
return mlgate.policy {
  id = "train/e2e-forbidden",
  title = "Python files must not contain the forbidden word",
  description = "Test policy of the end-to-end suite (tests/e2e).",
  remediation = "Remove the word.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  aliases = {"e2e:forbidden-word"},
  files = {"**/*.py"},
  params = {word = "FORBIDDEN", max = 100},
  check = function(file, ctx)
    mlgate.log.debug("e2e-forbidden checked %s", file.path)
    local text = assert(mlgate.fs.read(file.path))
    local word, count = ctx.params.word, 0
    for n, line in mlgate.text.lines(text) do
      local init = 1
      while true do
        local s, e = line:find(word, init, true)
        if not s then break end
        count = count + 1
        if count > ctx.params.max then return end
        ctx:fail{message = ("the forbidden word %s is used; remove it"):format(word),
                 line = n, column = s, end_line = n, end_column = e + 1}
        init = e + 1
      end
    end
  end,
}
