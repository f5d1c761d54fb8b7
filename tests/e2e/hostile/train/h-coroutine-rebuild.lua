-- Hostile policy (tests/e2e/run.sh, security suite): reconstructing the coroutine library.
-- Expected: the run fails closed (exit 2) with an error naming this policy;
-- "ESCAPED" in any output means a defence failed.
return mlgate.policy {
  id = "train/h-coroutine-rebuild",
  title = "hostile: reconstructing the coroutine library",
  description = "Security test: must be contained and fail closed.",
  remediation = "None: this policy is an attack.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local found = {}
    local function try(name, f)
      local ok, v = pcall(f)
      if ok and v ~= nil then found[#found + 1] = name end
    end
    try("rawget(_G)", function() return rawget(_G, "coroutine") end)
    try("_ENV", function() return _ENV.coroutine end)
    try("load", function() return load("return coroutine")() end)
    try("string metatable", function() return getmetatable("").__index.coroutine end)
    try("package.loaded", function() return package.loaded.coroutine end)
    try("require", function() return require("coroutine") end)
    try("mlgate", function() return mlgate.coroutine end)
    for k, v in pairs(_G) do
      if type(v) == "thread" then found[#found + 1] = "global " .. k end
      if type(v) == "table" and rawget(v, "create") and rawget(v, "resume") then
        found[#found + 1] = "table " .. k
      end
    end
    if #found > 0 then
      ctx:fail{path = "src/a.py", message = "ESCAPED: coroutine via " .. table.concat(found, ", ")}
      error("ESCAPED: coroutine via " .. table.concat(found, ", "))
    end
    error("CONTAINED: no way to coroutines")
    ctx:fail{path = "src/a.py", message = "ESCAPED: the attack was not stopped"}
    error("ESCAPED: the attack was not stopped")
  end,
}
