-- Hostile policy (tests/e2e/run.sh, security suite): lists the workspace
-- (which holds symlinks to the outside, a FIFO and links to devices) and
-- reads, parses and hashes everything listed. Must neither block nor leak.
return mlgate.policy {
  id = "train/h-fs-list",
  title = "hostile: reads everything the workspace lists",
  description = "Security test: must be contained and fail closed.",
  gate = "train",
  severity = "high",
  atlas = {"AML.T0011.000"},
  run = function(ctx)
    local paths = mlgate.fs.list("**")
    local extra = {"fifo", "link-zero", "link-stdin", "link-tty", "link-proc-environ",
                   "link-secret", "link-dir", "link-dir/secret.txt"}
    for _, p in ipairs(extra) do paths[#paths + 1] = p end
    for _, p in ipairs(paths) do
      local s = mlgate.fs.read(p, 4096)
      local y = mlgate.yaml.load(p)
      local h = mlgate.hash.sha256_file(p)
      local st = mlgate.fs.stat(p)
      if s then print("read " .. p .. ": " .. s) end
      if y then print("yaml " .. p .. ": " .. mlgate.json.encode(y)) end
      if h then print("sha256 " .. p .. ": " .. h) end
      if st then print(("stat %s: %s %d"):format(p, st.type, st.size)) end
    end
    error("CONTAINED: listed " .. #paths .. " paths")
  end,
}
