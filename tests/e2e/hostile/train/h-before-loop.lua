-- Hostile policy (tests/e2e/run.sh, security suite): a finding, then an infinite loop.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-before-loop",
  title = "hostile: a finding, then an infinite loop",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    ctx:fail{path = "src/a.py", line = 1, message = "finding reported before the failure"}
    while true do end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
