-- Hostile policy (tests/e2e/run.sh, security suite): an infinite loop while
-- the file is loaded, before any metadata exists. Expected: exit 2, the
-- error names this file.
while true do end
return mlgate.policy {
  id = "train/h-loop-toplevel",
  title = "hostile: an infinite loop at load time",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx) end,
}
