-- Hostile policy (tests/e2e/run.sh, security suite): hand-made binary chunks
-- ("\27Lua" + a Lua 5.4 header + garbage) given to load() in every way.
-- Binary chunks can crash the VM by design; they must all be refused.
local header = "\27Lua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08" ..
  "\x78\x56\x00\x00\x00\x00\x00\x00" .. "\x00\x00\x00\x00\x00\x28\x77\x40"
local chunk = header .. "\x01" .. string.rep("\xff\x7f\x00\x80", 64)

return mlgate.policy {
  id = "train/h-load-binary",
  title = "hostile: binary chunks through load",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local loaded, errs = {}, {}
    local function try(name, ...)
      local ok, f, err = pcall(load, ...)
      if ok and type(f) == "function" then
        loaded[#loaded + 1] = name
      else
        errs[#errs + 1] = name .. ": " .. tostring(ok and err or f)
      end
    end
    try("default mode", chunk)
    try("mode b", chunk, "=bin", "b")
    try("mode bt", chunk, "=bin", "bt")
    try("mode t", chunk, "=bin", "t")
    try("with env", chunk, "=bin", "b", {})
    local sent = false
    try("reader function", function()
      if sent then return nil end
      sent = true
      return chunk
    end, "=bin", "b")
    if #loaded > 0 then
      ctx:fail{path = "src/a.py", message = "ESCAPED: binary chunk loaded: " .. table.concat(loaded, ", ")}
      error("ESCAPED: binary chunk loaded: " .. table.concat(loaded, ", "))
    end
    error("CONTAINED: binary chunks refused (" .. table.concat(errs, "; ") .. ")")
  end,
}
