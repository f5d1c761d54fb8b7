-- data/manifest-verified: the data in the workspace is exactly the data the
-- manifest describes (every listed file present with its size and SHA-256,
-- and, by default, nothing unlisted next to it).

local HEX64 = "^" .. ("[0-9a-fA-F]"):rep(64) .. "$"

-- Lexically resolves `rel` against the directory `dir` (both '/'-separated,
-- relative to the workspace root). Returns the normalised path, or nil and
-- why when it would leave the workspace.
local function resolve(dir, rel)
  if rel:sub(1, 1) == "/" or rel:find("^%a:[/\\]") or rel:find("^\\") then
    return nil, "is an absolute path"
  end
  if rel:find("\0", 1, true) then return nil, "contains a NUL byte" end
  local parts = {}
  for seg in (dir .. "/" .. rel):gmatch("[^/]+") do
    if seg == ".." then
      if #parts == 0 then return nil, "climbs out of the workspace with '..'" end
      parts[#parts] = nil
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  if #parts == 0 then return nil, "names no file" end
  return table.concat(parts, "/")
end

local function str_list(v, name)
  if v == nil or mlgate.isnull(v) then return {} end
  if type(v) == "string" then return {v} end
  if type(v) ~= "table" then
    error(("param '%s' must be a list of globs"):format(name), 0)
  end
  for i, g in ipairs(v) do
    if type(g) ~= "string" or g == "" then
      error(("param '%s': entry %d must be a non-empty glob"):format(name, i), 0)
    end
  end
  return v
end

local function matches_any(globs, path)
  for _, g in ipairs(globs) do
    if mlgate.fs.glob(g, path) then return true end
  end
  return false
end

-- "path:line:col: message" for a malformed manifest.
local function where(manifest, t, key)
  local p = t and mlgate.pos(t, key)
  if p then return ("%s:%d:%d"):format(manifest, p.line, p.column) end
  return manifest .. ":1:1" -- a scalar document: it starts the file
end

return mlgate.policy {
  id = "data/manifest-verified",
  title = "Data files must match the dataset manifest (presence, size, SHA-256)",
  description = [[
Verifies the data in the workspace against a dataset manifest, so that
training runs on exactly the data that was reviewed. A poisoned, truncated or
swapped file changes the SHA-256 and is reported; so is a file added next to
the data without being declared, and a declared file that is missing.

The manifest (param `manifest`, default data/MANIFEST.json) is JSON:

    {"files": [{"path": "train.csv", "sha256": "<64 hex>", "size": 1234}, ...]}

Paths are relative to the manifest's directory; `size` is optional. Findings:
- a listed file that is missing, is not a regular file, or whose path leaves
  the workspace (absolute, or '..' above the root);
- a size or SHA-256 that differs (hashes are streamed, files of any size);
- a path listed twice;
- with `require_complete` (default true), every file under the manifest's
  directory that the manifest does not list (except the manifest itself and
  the globs in `ignore`, by default .gitkeep/.gitignore/.gitattributes);
- no manifest at all while the manifest's directory holds data files.
Findings point at the manifest entry's field (path, size or sha256), or at the
unlisted file. A manifest that is not valid JSON or does not follow the
format above is an evaluation error (the gate fails closed) naming
file:line:column.]],
  remediation = [[
If the change to the data is intended, regenerate the manifest in the same
merge request so that reviewers see both. From the manifest's directory:

    python3 - <<'EOF'
    import hashlib, json, os
    paths = sorted(os.path.relpath(os.path.join(d, f))
                   for d, _, names in os.walk(".") for f in names)
    entries = []
    for p in paths:
        if p == "MANIFEST.json":
            continue
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        entries.append({"path": p, "sha256": h.hexdigest(), "size": os.path.getsize(p)})
    with open("MANIFEST.json", "w") as f:
        json.dump({"files": entries}, f, indent=2)
        f.write("\n")
    EOF

If the change is not intended, restore the file from its trusted source and
find out how it changed: a silent change to training data is what poisoning
looks like.]],
  gate = "data",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0020", "AML.T0010.002", "AML.T0059", "AML.T0019", "AML.M0014",
           "AML.M0025", "AML.M0005"},
  references = {
    "https://atlas.mitre.org/techniques/AML.T0020",
    "https://atlas.mitre.org/mitigations/AML.M0014",
  },
  params = {
    manifest = "data/MANIFEST.json",
    require_complete = true,
    ignore = {"**/.gitkeep", "**/.gitignore", "**/.gitattributes"},
  },

  run = function(ctx)
    local manifest = ctx.params.manifest
    if type(manifest) ~= "string" or manifest == "" then
      return ctx:error("param 'manifest' must be a workspace path such as data/MANIFEST.json", "")
    end
    local complete = ctx.params.require_complete
    if type(complete) ~= "boolean" then
      return ctx:error("param 'require_complete' must be true or false", "")
    end
    local ok, ignore = pcall(str_list, ctx.params.ignore, "ignore")
    if not ok then return ctx:error(ignore, "") end

    local mpath, why = resolve("", manifest)
    if not mpath then
      return ctx:error(("param 'manifest' (%s) %s"):format(manifest, why), "")
    end
    local dir = mlgate.path.dirname(mpath)
    local under = dir == "" and "**" or (dir .. "/**")
    local data = {}
    for _, p in ipairs(mlgate.fs.list(under)) do
      if p ~= mpath and not matches_any(ignore, p) then data[#data + 1] = p end
    end

    local st = mlgate.fs.stat(mpath)
    if not st then
      if #data > 0 then
        ctx:fail{
          path = mpath,
          message = ("%s holds %d data file%s but has no manifest %s; add one listing each "
            .. "file's path, size and sha256 so the data can be verified."):format(
            dir == "" and "the workspace" or dir .. "/", #data, #data == 1 and "" or "s",
            mpath),
          details = {manifest = mpath, data_files = #data, first = data[1]},
          key = "missing-manifest",
        }
      end
      return
    end
    if st.type ~= "file" then
      return ctx:error(("%s is a %s, not a JSON file"):format(mpath, st.type), mpath)
    end

    local doc, err = mlgate.json.load(mpath)
    if not doc then return ctx:error(err, mpath) end
    if type(doc) ~= "table" or doc[1] ~= nil or type(doc.files) ~= "table" then
      return ctx:error(("%s: the manifest must be an object with a \"files\" array of "
        .. "{path, sha256, size} entries"):format(where(mpath, doc)), mpath)
    end
    local files = doc.files
    if next(files) ~= nil and files[1] == nil then
      return ctx:error(("%s: \"files\" must be an array"):format(where(mpath, doc, "files")),
        mpath)
    end

    local listed, first_at = {}, {}
    for i, e in ipairs(files) do
      -- A listed path counts as listed even when the rest of its entry is
      -- malformed: the entry is reported once, not again as unlisted.
      local p = type(e) == "table" and type(e.path) == "string" and resolve(dir, e.path)
      if p and not listed[p] then listed[p] = i end
    end
    local checked = {}
    for i, e in ipairs(files) do
      if type(e) ~= "table" or e[1] ~= nil then
        ctx:error(("%s: entry %d must be an object with path, sha256 and size"):format(
          where(mpath, files, i), i), mpath)
      elseif type(e.path) ~= "string" or e.path == "" then
        ctx:error(("%s: entry %d needs a non-empty string \"path\""):format(
          where(mpath, files, i), i), mpath)
      elseif type(e.sha256) ~= "string" or not e.sha256:find(HEX64) then
        ctx:error(("%s: entry %d (%s) needs \"sha256\": 64 hexadecimal digits"):format(
          where(mpath, e.sha256 ~= nil and e or files, e.sha256 ~= nil and "sha256" or i),
          i, e.path), mpath)
      elseif e.size ~= nil and (math.type(e.size) ~= "integer" or e.size < 0) then
        ctx:error(("%s: entry %d (%s): \"size\" must be a non-negative integer"):format(
          where(mpath, e, "size"), i, e.path), mpath)
      else
        local p, bad = resolve(dir, e.path)
        local at_path = mlgate.pos(e, "path")
        if not p then
          ctx:fail{
            path = mpath,
            at = at_path,
            message = ("Manifest entry %q %s; list files by their path inside %s."):format(
              e.path, bad, dir == "" and "the workspace" or dir .. "/"),
            details = {entry = i, path = e.path, problem = "outside-workspace"},
          }
        elseif checked[p] then
          ctx:fail{
            path = mpath,
            at = at_path,
            message = ("%s is listed twice in the manifest (first at line %d); keep one "
              .. "entry per file."):format(p, first_at[p]),
            details = {entry = i, path = p, problem = "duplicate"},
          }
        else
          checked[p] = true
          first_at[p] = at_path and at_path.line or 0
          local fst, serr = mlgate.fs.stat(p)
          if not fst then
            local missing = tostring(serr):find("no such file", 1, true) ~= nil
            ctx:fail{
              path = mpath,
              at = at_path,
              message = missing
                and ("%s is listed in the manifest but missing; restore it or remove its "
                  .. "entry."):format(p)
                or ("%s is listed in the manifest but cannot be verified (%s); make it a "
                  .. "regular file inside the workspace."):format(p, serr),
              details = {entry = i, path = p, problem = missing and "missing" or "unreadable",
                         error = not missing and serr or nil},
            }
          elseif fst.type ~= "file" then
            ctx:fail{
              path = mpath,
            at = at_path,
              message = ("%s is listed in the manifest but is a %s, not a file; list the "
                .. "files inside it instead."):format(p, fst.type),
              details = {entry = i, path = p, problem = "not-a-file", type = fst.type},
            }
          elseif e.size ~= nil and fst.size ~= e.size then
            ctx:fail{
              path = mpath,
              at = mlgate.pos(e, "size") or at_path,
              message = ("%s is %d bytes but the manifest says %d; the data changed since "
                .. "the manifest was written: restore it or update the entry."):format(
                p, fst.size, e.size),
              details = {entry = i, path = p, problem = "size", expected = e.size,
                         actual = fst.size},
            }
          else
            local hex, herr = mlgate.hash.sha256_file(p)
            if not hex then
              ctx:error(("cannot hash %s: %s"):format(p, herr), p)
            elseif hex ~= e.sha256:lower() then
              ctx:fail{
                path = mpath,
                at = mlgate.pos(e, "sha256") or at_path,
                message = ("%s does not match its manifest SHA-256; the data changed since "
                  .. "the manifest was written: restore it or update the entry."):format(p),
                details = {entry = i, path = p, problem = "sha256",
                           expected = e.sha256:lower(), actual = hex},
              }
            end
          end
        end
      end
    end

    if complete then
      for _, p in ipairs(data) do
        if not listed[p] then
          ctx:fail{
            path = p,
            message = ("%s is not listed in %s; add it with its sha256 and size, or move it "
              .. "out of %s."):format(p, mpath, dir == "" and "the workspace" or dir .. "/"),
            details = {path = p, manifest = mpath, problem = "unlisted"},
          }
        end
      end
    end
  end,
}
