-- Hostile policy (tests/e2e/run.sh, security suite): print() of values longer
-- than a Lua buffer's first block, several at once. The log lines must come
-- out whole (up to the 4 KiB log cap) and memory-safe (run it under ASan).
return mlgate.policy {
  id = "train/h-print-long",
  title = "hostile: print of long strings",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    print(string.rep("z", 2000))
    print(string.rep("x", 5000), string.rep("y", 3000))
    print(1, setmetatable({}, {__tostring = function() return string.rep("w", 1500) end}), true)
    error("CONTAINED: printed")
  end,
}
