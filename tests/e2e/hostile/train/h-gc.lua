-- Hostile policy (tests/e2e/run.sh, security suite): a __gc finalizer that allocates and re-arms itself.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-gc",
  title = "hostile: a __gc finalizer that allocates and re-arms itself",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local mt = {}
    mt.__gc = function(o)
      local junk = string.rep("x", 1 << 20)
      setmetatable({junk}, mt)
      while true do end
    end
    setmetatable({}, mt)
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
