-- Hostile policy (tests/e2e/run.sh, security suite): string.rep of 1 GiB retried under pcall.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-mem-rep-pcall",
  title = "hostile: string.rep of 1 GiB retried under pcall",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    while true do pcall(string.rep, "x", 2^30) end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
