-- Hostile policy (tests/e2e/run.sh, security suite): a YAML alias bomb
-- (9^7 leaves) parses cheaply as shared tables, then is expanded in C by
-- the details of a finding. That memory is outside the Lua allocator: the
-- engine must fail closed (out of memory, a limit), not crash or hang.
local yaml = "a: &a [x, x, x, x, x, x, x, x, x]\n"
for i, name in ipairs({"b", "c", "d", "e", "f", "g"}) do
  local prev = string.char(string.byte(name) - 1)
  yaml = yaml .. name .. ": &" .. name .. " [" .. string.rep("*" .. prev .. ", ", 8) .. "*" .. prev .. "]\n"
end

return mlgate.policy {
  id = "train/h-alias-bomb-details",
  title = "hostile: YAML alias bomb expanded in C",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local doc = assert(mlgate.yaml.parse(yaml))
    ctx:fail{path = "src/a.py", message = "alias bomb", details = doc}
    error("CONTAINED: the expansion fitted")
  end,
}
