-- Hostile policy (tests/e2e/run.sh, security suite): __gc added to a metatable after setmetatable.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-gc-late",
  title = "hostile: __gc added to a metatable after setmetatable",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local ran = false
    local mt = {}
    local obj = setmetatable({}, mt)
    mt.__gc = function() ran = true end
    rawset(getmetatable(obj), "__gc", function() ran = true end)
    obj = nil
    for i = 1, 20000 do local junk = {i, tostring(i)} end
    local t = {}
    for i = 1, 200 do t[i] = string.rep("y", 10000) end
    if ran then
      ctx:fail{path = "src/a.py", message = "ESCAPED: a late __gc ran"}
      error("ESCAPED: a late __gc ran")
    end
    error("CONTAINED: the late __gc never ran")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
