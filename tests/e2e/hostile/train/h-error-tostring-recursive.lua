-- Hostile policy (tests/e2e/run.sh, security suite): an error object whose __tostring recurses.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-error-tostring-recursive",
  title = "hostile: an error object whose __tostring recurses",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local mt = {}
    mt.__tostring = function(self) return "x" .. tostring(self) end
    error(setmetatable({}, mt))
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
