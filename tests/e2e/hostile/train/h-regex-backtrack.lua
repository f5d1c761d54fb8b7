-- Hostile policy (tests/e2e/run.sh, security suite): catastrophic
-- backtracking in mlgate.re (PCRE2), plain and under pcall. The match limit
-- must stop it with an error; retrying under pcall must meet the
-- instruction budget or the clock.
return mlgate.policy {
  id = "train/h-regex-backtrack",
  title = "hostile: catastrophic regex backtracking",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local subject = string.rep("a", 64) .. "!"
    for _ = 1, 3 do pcall(mlgate.re.find, subject, "^(a|aa)+$") end
    mlgate.re.find(subject, "^(a+)+$")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the match finished"}
    error("ESCAPED: the match finished")
  end,
}
