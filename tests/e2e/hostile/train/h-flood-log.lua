-- Hostile policy (tests/e2e/run.sh, security suite): floods the log.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-flood-log",
  title = "hostile: floods the log",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local line = "\n::error::flood " .. string.rep("x", 5000)
    while true do
      print(line)
      mlgate.log.warn("%s", line)
    end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
