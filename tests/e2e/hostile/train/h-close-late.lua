-- Hostile policy (tests/e2e/run.sh, security suite): __close added to a metatable after setmetatable.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-close-late",
  title = "hostile: __close added to a metatable after setmetatable",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local mt = {}
    local obj = setmetatable({}, mt)
    mt.__close = function() while true do end end
    do
      local x <close> = obj
    end
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
