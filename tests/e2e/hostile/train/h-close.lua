-- Hostile policy (tests/e2e/run.sh, security suite): a __close handler.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-close",
  title = "hostile: a __close handler",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    do
      local x <close> = setmetatable({}, {__close = function() while true do end end})
    end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
