-- Hostile policy (tests/e2e/run.sh, security suite): metadata carrying CI
-- workflow commands and escapes, shown by `mlgate list` and `mlgate explain`.
return mlgate.policy {
  id = "train/h-inject-meta",
  title = "hostile \27[31mtitle\27[0m\r::error::pwned-title \u{202E}",
  description = "First line.\n::error::pwned-description\n##[error]pwned-description\n\27]0;pwned\7",
  remediation = "\n::add-mask::pwned-remediation\r::error::pwned-remediation-cr",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  aliases = {"e2e:\27[31m::error::pwned-alias"},
  references = {"https://example.org/\n::error::pwned-reference"},
  params = {["x\n::error::pwned-param"] = "\27[31m::error::pwned-default"},
  run = function(ctx)
    error("CONTAINED: metadata injection policy ran")
  end,
}
