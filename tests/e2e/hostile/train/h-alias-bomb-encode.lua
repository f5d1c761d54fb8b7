-- Hostile policy (tests/e2e/run.sh, security suite): a YAML alias bomb
-- (9^7 leaves) parses cheaply as shared tables, then is expanded in C by
-- mlgate.json.encode. That memory is outside the Lua allocator: the
-- engine must fail closed (out of memory, a limit), not crash or hang.
local yaml = "a: &a [x, x, x, x, x, x, x, x, x]\n"
for i, name in ipairs({"b", "c", "d", "e", "f", "g"}) do
  local prev = string.char(string.byte(name) - 1)
  yaml = yaml .. name .. ": &" .. name .. " [" .. string.rep("*" .. prev .. ", ", 8) .. "*" .. prev .. "]\n"
end

return mlgate.policy {
  id = "train/h-alias-bomb-encode",
  title = "hostile: YAML alias bomb expanded in C",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local doc = assert(mlgate.yaml.parse(yaml))
    local s = mlgate.json.encode(doc)
    error("CONTAINED: the expansion fitted")
  end,
}
