-- Hostile policy (tests/e2e/run.sh, security suite): debug.getinfo.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-debug-getinfo",
  title = "hostile: debug.getinfo",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local info = debug.getinfo(1, "S")
    ctx:fail{path = "src/a.py", message = "ESCAPED: " .. tostring(info.source)}
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
