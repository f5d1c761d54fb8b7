-- Hostile policy (tests/e2e/run.sh, security suite): string.dump through the string metatable.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-string-dump",
  title = "hostile: string.dump through the string metatable",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local s = ("x"):dump(function() return 1 end)
    ctx:fail{path = "src/a.py", message = "ESCAPED: dumped " .. #s .. " bytes"}
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
