-- Hostile policy (tests/e2e/run.sh, security suite): string.rep of 1 GiB.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-mem-rep",
  title = "hostile: string.rep of 1 GiB",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local s = string.rep("x", 2^30)
    ctx:fail{path = "src/a.py", message = "ESCAPED: " .. #s}
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
