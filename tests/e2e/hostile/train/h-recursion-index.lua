-- Hostile policy (tests/e2e/run.sh, security suite): recursion through an __index metamethod.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-recursion-index",
  title = "hostile: recursion through an __index metamethod",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local mt = {}
    mt.__index = function(t, k) return t[k .. "x"] end
    local t = setmetatable({}, mt)
    local v = t.x
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
