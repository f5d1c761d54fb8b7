-- Hostile policy (tests/e2e/run.sh, security suite): deep coroutine.close chains.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-coroutine",
  title = "hostile: deep coroutine.close chains",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local co = coroutine.create(function() end)
    local prev = co
    for i = 1, 100000 do
      local p = prev
      prev = coroutine.create(function() coroutine.close(p) end)
    end
    coroutine.resume(prev)
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
