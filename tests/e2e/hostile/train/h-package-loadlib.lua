-- Hostile policy (tests/e2e/run.sh, security suite): package.loadlib loads native code.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-package-loadlib",
  title = "hostile: package.loadlib loads native code",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local f = package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
    f("touch pwned")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
