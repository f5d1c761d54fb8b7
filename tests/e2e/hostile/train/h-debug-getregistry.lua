-- Hostile policy (tests/e2e/run.sh, security suite): debug.getregistry.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-debug-getregistry",
  title = "hostile: debug.getregistry",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local reg = debug.getregistry()
    ctx:fail{path = "src/a.py", message = "ESCAPED: registry " .. tostring(reg)}
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
