-- Hostile policy (tests/e2e/run.sh, security suite): io.popen runs a command.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-io-popen",
  title = "hostile: io.popen runs a command",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local p = io.popen("cat /etc/passwd; touch pwned")
    ctx:fail{path = "src/a.py", message = "ESCAPED: " .. p:read("a")}
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
