-- model/unscannable-artifact: parts of a model artifact that the scanner
-- could not verify. A check that could not run must not read as a pass:
-- malformed or truncated pickles, content behind unsupported compression,
-- archives nested too deep or too large, unreadable members. Content that
-- no loader can open either (an encrypted zip member) is reported for
-- information only.

-- code -> {severity, what to do}
local CODES = {
  ["pickle-malformed"] = {"high", "the pickle stream is malformed or truncated; loaders may "
    .. "still execute what comes before the error: re-export the artifact"},
  ["pickle-limit"] = {"high", "the pickle is larger or deeper than the scanner's limits: "
    .. "raise limits or re-export the artifact in a data-only format"},
  ["pickle-unreadable"] = {"high", "the pickle could not be read: re-export the artifact"},
  ["unscannable-compression"] = {"high", "re-compress with zlib or gzip, or store the "
    .. "artifact uncompressed, so that it can be checked"},
  ["nested-archive"] = {"high", "unpack the inner archive and scan it, or store its "
    .. "contents directly"},
  ["nested-too-deep"] = {"high", "flatten the archive nesting"},
  ["member-too-large"] = {"high", "split the artifact or raise the scan limit"},
  ["member-unreadable"] = {"high", "the member could not be read (corrupt data): re-create "
    .. "the archive"},
  ["zip-malformed"] = {"high", "the archive structure is invalid: re-create it"},
  ["arch-malformed"] = {"high", "the archive structure is invalid: re-create it"},
  ["zip-unsupported-method"] = {"high", "use stored or deflate compression so the member "
    .. "can be checked"},
  ["unscannable"] = {"high", "the file could not be read: re-export it"},
  ["zip-encrypted"] = {"info", "encrypted members cannot be loaded without their password, "
    .. "nor checked: remove them from model artifacts"},
  ["arch-encrypted"] = {"info", "encrypted members cannot be loaded without their password, "
    .. "nor checked: remove them from model artifacts"},
}

return mlgate.policy {
  id = "model/unscannable-artifact",
  title = "Model artifacts must be fully scannable",
  description = [[
Reports the parts of model artifacts the native scanner could not verify,
so that a check that could not run never reads as a pass (fail closed):
malformed or truncated pickle streams (a loader may execute the part before
the error), content behind compression the scanner cannot open (xz, bzip2,
lz4), archives nested inside archives or nested too deep, members over the
size limit, corrupt members, invalid archive structures and unsupported zip
compression methods. Encrypted members, which neither the scanner nor any
loader can open without the password, are reported for information only.]],
  remediation = [[
Re-export the artifact with standard tooling (torch.save, safetensors,
joblib with zlib/gzip), or unpack nested archives so every part can be
scanned. If the artifact is known-good and cannot be changed, waive the
finding with a reason and an expiry date.]],
  gate = "model",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0011.000", "AML.T0010.003", "AML.M0016", "AML.M0014"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT", "picklescan:scan-error", "modelscan:error"},
  files = {"**/*"},

  check = function(file, ctx)
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    -- a nested pickle or model that could not be followed (a path, a zip
    -- held as bytes, beyond the depth limit)
    for _, imp in ipairs(r.imports) do
      if imp.via == "NESTED" and not imp.resolved then
        ctx:fail{
          member = imp.member, offset = imp.offset,
          key = "nested@" .. (imp.member or "") .. "@" .. tostring(imp.offset),
          message = ("the pickle passes data to %s.%s, whose content could not be scanned; "
            .. "the artifact loads more code than can be checked: re-export it without "
            .. "nested pickles"):format(imp.module, imp.name),
          details = {code = "nested-unscanned", format = r.format},
        }
      end
    end
    for _, issue in ipairs(r.issues) do
      local c = CODES[issue.code]
      if c then
        ctx:fail{
          member = issue.member, offset = issue.offset, severity = c[1],
          key = issue.code .. "@" .. (issue.member or "") .. "@" .. tostring(issue.offset),
          message = ("%s: %s"):format(issue.message, c[2]),
          details = {code = issue.code, format = r.format},
        }
      end
    end
  end,
}
