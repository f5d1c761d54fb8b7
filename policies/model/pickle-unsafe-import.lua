-- model/pickle-unsafe-import: a model artifact whose pickle streams import
-- callables that are not on an allowlist. Loading such a file runs the
-- imported callable (os.system, builtins.eval, ...): the artifact is code.
-- The native scanner emulates the unpickler (pickle.c) inside every
-- container it recognises (pickle, PyTorch zip/legacy/tar, joblib, npy/npz,
-- zip/tar/7z); this policy turns its imports into verdicts.

local PROFILES = {strict = true, lenient = true}

-- "module.name" against a list of globs ("mypkg.*", "mypkg.models.Net").
local function listed(list, full)
  for _, pattern in ipairs(list) do
    if full == pattern then return true end
    -- dotted names: "*" spans anything, including dots
    local re = "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
    if full:find(re) then return true end
  end
  return false
end

local function check_list(ctx, name)
  local v = ctx.params[name]
  if type(v) ~= "table" then
    error(("param '%s' must be a list of \"module.name\" globs"):format(name), 0)
  end
  for i, s in ipairs(v) do
    if type(s) ~= "string" or s == "" then
      error(("param '%s': entry %d must be a non-empty string"):format(name, i), 0)
    end
  end
  return v
end

local function where(imp)
  local w = imp.member and (" in " .. imp.member) or ""
  if imp.depth and imp.depth > 0 then w = w .. " (inside a nested pickle)" end
  return w
end

return mlgate.policy {
  id = "model/pickle-unsafe-import",
  title = "Model artifacts must not import callables outside the allowlist",
  description = [[
Loading a pickle-based model (torch.load, joblib.load, pickle.load,
numpy.load with allow_pickle, Keras/transformers helpers built on them)
executes whatever callables the pickle stream imports and calls. This policy
scans every file of the model gate by its content - pickles, PyTorch zip,
legacy and tar checkpoints (every pickle member, not only data.pkl), joblib
files (also compressed), .npy object arrays and .npz, and pickles inside
zip, tar and 7z archives - with a native emulation of the unpickler: memo
tricks, STACK_GLOBAL, INST/OBJ/NEWOBJ, EXT codes, several pickles in one
stream and pickles nested in pickle.loads arguments are all followed.

Each import is judged against versioned allowlists of what torch, numpy,
scikit-learn, joblib, transformers and plain Python containers legitimately
pickle, and a denylist of known-dangerous callables (execution, files,
network, import machinery, debuggers, operator/functools gadgets, marshal,
code objects). Denylisted imports are critical findings. Anything else is an
unknown import: a high finding under the default `strict` profile (an
unknown callable runs with the loader's privileges), informational under
`lenient`. Names built at load time (not constant strings) are treated as
dangerous.]],
  remediation = [[
Do not load the artifact. If it is your own model, re-export it in a format
that cannot carry code (safetensors for tensors, ONNX or skops for
scikit-learn models) and load that. If an import is a legitimate class of
your own code (a custom nn.Module or estimator), add "module.name" (globs
allowed, e.g. "mycompany.models.*") to this policy's `allow` parameter in
mlgate.yml, after reviewing that the class does nothing on construction. An
org can forbid more callables with `deny`.]],
  gate = "model",
  severity = "critical",
  confidence = "high",
  enforcement = "hard",
  atlas = {"AML.T0011.000", "AML.T0018.002", "AML.T0010.003", "AML.M0016", "AML.M0014"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT", "picklescan:dangerous",
             "modelscan:PickleUnsafeOpScan", "fickling:unsafe-imports"},
  references = {
    "https://docs.python.org/3/library/pickle.html#restricting-globals",
    "https://atlas.mitre.org/techniques/AML.T0011.000",
    "https://huggingface.co/docs/hub/security-pickle",
  },
  files = {"**/*"},
  params = {profile = "strict", allow = {}, deny = {}},

  check = function(file, ctx)
    local profile = ctx.params.profile
    if not PROFILES[profile] then
      return ctx:error(("param 'profile' must be \"strict\" or \"lenient\", got %q")
        :format(tostring(profile)))
    end
    local allow, deny = check_list(ctx, "allow"), check_list(ctx, "deny")
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    for _, imp in ipairs(r.imports) do
      -- NESTED entries mark where a nested pickle was followed: its own
      -- imports are listed separately (depth > 0)
      if imp.via == "NESTED" then goto continue end
      local full = imp.module .. "." .. imp.name
      local verdict, reason = imp.verdict, imp.reason
      if listed(deny, full) then
        verdict, reason = "dangerous", "forbidden by this organisation's deny list"
      elseif listed(allow, full) then
        verdict = "safe"
      end
      local details = {module = imp.module, name = imp.name, called = imp.called,
                       via = imp.via, list = imp.list, format = r.format, depth = imp.depth}
      local action = imp.called and "calls" or "imports"
      if verdict == "dangerous" then
        local what = imp.resolved and (full .. where(imp) .. ": " .. (reason or "a dangerous callable"))
          or ("a callable whose name is built at load time" .. where(imp)
              .. (imp.via == "EXT" and " (an EXT code of the copyreg registry)" or ""))
        ctx:fail{
          member = imp.member, offset = imp.offset,
          key = full .. "@" .. (imp.member or ""),
          message = ("%s %s; loading this file runs it, so do not load it and rebuild the "
            .. "artifact in a format that cannot carry code"):format(action, what),
          details = details,
        }
      elseif verdict == "unknown" then
        ctx:fail{
          member = imp.member, offset = imp.offset,
          key = full .. "@" .. (imp.member or ""),
          severity = profile == "strict" and "high" or "info",
          confidence = "medium",
          message = ("%s %s%s, which is on no allowlist: loading the file runs it; if it is "
            .. "your own class, add %q to the allow param of %s"):format(
            action, full, where(imp), full, ctx.policy),
          details = details,
        }
      end
      ::continue::
    end
  end,
}
