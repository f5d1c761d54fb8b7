-- Hostile policy (tests/e2e/run.sh, security suite): an infinite loop in an xpcall message handler.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-loop-xpcall",
  title = "hostile: an infinite loop in an xpcall message handler",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    while true do
      xpcall(function() error("x") end, function() while true do end end)
    end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
