-- Hostile policy (tests/e2e/run.sh, security suite): a 5000-deep chain of __index tables.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-index-chain",
  title = "hostile: a 5000-deep chain of __index tables",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local t = {}
    for i = 1, 5000 do t = setmetatable({}, {__index = t}) end
    local v = t.missing
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
