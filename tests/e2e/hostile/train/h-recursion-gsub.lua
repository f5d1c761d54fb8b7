-- Hostile policy (tests/e2e/run.sh, security suite): recursion through string.gsub callbacks.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-recursion-gsub",
  title = "hostile: recursion through string.gsub callbacks",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local function f(s) return (string.gsub("ab", ".", f)) end
    f("ab")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
