-- Hostile policy (tests/e2e/run.sh, security suite): recursion through table.sort comparators.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-recursion-sort",
  title = "hostile: recursion through table.sort comparators",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local function cmp(a, b)
      table.sort({3, 2, 1}, cmp)
      return a < b
    end
    table.sort({3, 2, 1}, cmp)
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
