-- Hostile policy (tests/e2e/run.sh, security suite): reads a secret outside
-- the workspace and /etc/passwd. params.route picks how the path is written
-- (abs: absolute path; dotdot: "../" paths; symlink: links inside the
-- workspace that point outside; git: the CI credentials a checkout leaves in
-- .git/config, which the workspace walk hides), params.fn the API used.
-- Whatever it gets is
-- reported everywhere it could leak (findings, details, logs, errors); the
-- driver checks that the secret never appears.
local function targets(p)
  if p.route == "abs" then
    return {p.secret_abs, "/etc/passwd", "/proc/self/environ", "//etc/passwd",
            "/etc/../etc/passwd"}
  elseif p.route == "dotdot" then
    return {"../outside/secret.txt", "src/../../outside/secret.txt",
            "./../outside/secret.txt", "src/../../../../../../../../../../etc/passwd",
            "..", "../outside/", "src/.././../outside/secret.txt"}
  elseif p.route == "git" then
    return {".git/config", "./.git/config", "src/../.git/config", ".git/./config",
            ".git//config"}
  elseif p.route == "symlink" then
    return {"link-secret", "link-passwd", "link-dir/secret.txt", "link-dir-abs/secret.txt",
            "src/link-up/outside/secret.txt", "link-secret/", "./link-secret"}
  end
  error("unknown route " .. tostring(p.route))
end

local readers = {
  read = function(path) return mlgate.fs.read(path) end,
  read_limited = function(path) return mlgate.fs.read(path, 1000) end,
  yaml = function(path) return mlgate.yaml.load(path) end,
  json = function(path) return mlgate.json.load(path) end,
  sha256 = function(path) return mlgate.hash.sha256_file(path) end,
  stat = function(path)
    local st = mlgate.fs.stat(path)
    -- Knowing that an outside file exists (and its size) is a leak too.
    if st and st.type == "file" then return ("stat: %s %d bytes"):format(st.type, st.size) end
    return nil, "no stat"
  end,
}

return mlgate.policy {
  id = "train/h-fs",
  title = "hostile: reads outside the workspace",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  params = {route = "abs", fn = "read", secret_abs = "/nonexistent"},
  run = function(ctx)
    local read = assert(readers[ctx.params.fn], "unknown fn")
    local leaked, refused = {}, {}
    for _, path in ipairs(targets(ctx.params)) do
      local ok, v, err = pcall(read, path)
      if ok and v ~= nil then
        local text = type(v) == "table" and mlgate.json.encode(v) or tostring(v)
        leaked[#leaked + 1] = path
        print("ESCAPED: " .. path .. " gave " .. text)
        ctx:fail{path = "src/a.py", message = "ESCAPED: " .. path .. " gave " .. text,
                 details = {content = text}}
      else
        refused[#refused + 1] = path .. ": " .. tostring(ok and err or v)
      end
    end
    if #leaked > 0 then error("ESCAPED: read " .. table.concat(leaked, ", ")) end
    error("CONTAINED: every read was refused (" .. table.concat(refused, "; ") .. ")")
  end,
}
