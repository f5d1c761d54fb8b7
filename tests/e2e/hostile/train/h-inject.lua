-- Hostile policy (tests/e2e/run.sh, security suite): findings, logs and
-- errors carrying CI workflow commands, ANSI escapes, CR tricks and bidi
-- overrides. None may reach a log line start or a terminal raw.
local payloads = {
  "\n::error::pwned-newline",
  "::add-mask::pwned-mask",
  "::set-output name=x::pwned-output",
  "\n##[error]pwned-azure",
  "\r::error file=a.py::pwned-cr",
  "ok\r\n::warning::pwned-crlf",
  "\27[31mred\27[0m \27]0;pwned-title\7 \27[2J",
  "\u{202E}txt.exe\u{202C} \u{2066}pwned-bidi\u{2069}",
  "\u{85}::error::pwned-nel",
  "\u{2028}::error::pwned-ls",
}

return mlgate.policy {
  id = "train/h-inject",
  title = "hostile: workflow commands and escapes in output",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  files = {"**/*.py"},
  check = function(file, ctx)
    for i, p in ipairs(payloads) do
      ctx:fail{message = p, line = 1, column = i, member = p, key = p,
               details = {payload = p}}
      print(p)
      mlgate.log.info(p)
      mlgate.log.warn("%s", p)
      mlgate.log.debug("%s", p)
    end
    ctx:fail{path = "src/\n::error::pwned-path.py", message = "a finding at a hostile path"}
    ctx:error("\n::error::pwned-ctx-error \27[31m")
    error("\n::error::pwned-error\27[31m\r##[error]x\u{202E}")
  end,
}
