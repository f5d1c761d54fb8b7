-- Hostile policy (tests/e2e/run.sh, security suite): dofile runs a file by path.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-dofile",
  title = "hostile: dofile runs a file by path",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    dofile("/etc/passwd")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
