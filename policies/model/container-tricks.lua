-- model/container-tricks: archive and file structures that make different
-- readers see different content - the way scanners like picklescan have
-- been bypassed: a zip whose local and central names differ, duplicate
-- names, overlapping entries, data before the first entry, a file that is
-- both a pickle and a zip, pickles with data after their STOP, traversal
-- names, bad CRCs, decompression bombs.

local CODES = {
  ["zip-name-mismatch"] = "different readers open different members",
  ["zip-duplicate-name"] = "readers disagree on which copy they load",
  ["zip-overlap"] = "entries share bytes, so one member hides inside another",
  ["zip-prepended-data"] = "data before the first entry is what torch.load and numpy read",
  ["polyglot"] = "each loader sees a different file",
  ["pickle-trailing-data"] = "a loader that reads on sees a second payload",
  ["pickle-stack-residue"] = "the loader runs code the caller never sees",
  ["pickle-expansion"] = "using the loaded object exhausts memory or time",
  ["zip-path-traversal"] = "extracting it writes outside the target directory",
  ["arch-path-traversal"] = "extracting it writes outside the target directory",
  ["arch-link"] = "extracting it can overwrite files through the link",
  ["zip-bad-crc"] = "the member was altered after the archive was written",
  ["zip-bomb"] = "decompressing it exhausts memory or disk",
  ["arch-bomb"] = "decompressing it exhausts memory or disk",
  ["zip-flag-bits"] = "unusual flags are read differently by different tools",
}

return mlgate.policy {
  id = "model/container-tricks",
  title = "Model archives must not use structures that readers interpret differently",
  description = [[
Model checkpoints are archives (PyTorch zips, .npz, .keras, tar) and
scanners have been bypassed by archive tricks that make the scanner and the
loader read different bytes: local and central zip headers naming members
differently, duplicate member names, entries overlapping each other, data
before the first entry (which torch.load and numpy.load read as a pickle
while zipfile reads the archive), files that are at once a pickle and a
zip, data after a pickle's STOP, values left on the unpickler's stack under
the returned object, containers inserted into themselves over and over
(expansion attacks), bad CRCs, traversal names and links, and decompression
bombs. None of these occurs in artifacts written by torch,
numpy, keras or zipfile, so each is treated as tampering.]],
  remediation = [[
Re-create the archive with the library that owns the format (torch.save,
numpy.savez, keras.saving.save_model, zipfile) from trusted sources, and
check where the altered artifact came from.]],
  gate = "model",
  severity = "high",
  confidence = "high",
  atlas = {"AML.T0010.003", "AML.T0011.000", "AML.T0018.002", "AML.M0014", "AML.M0016"},
  aliases = {"catalog:ML-UNSAFE-ARTIFACT", "picklescan:dangerous"},
  files = {"**/*"},

  check = function(file, ctx)
    local r, err = mlgate.model.scan(file.path)
    if not r then return ctx:error(err) end
    for _, issue in ipairs(r.issues) do
      local why = CODES[issue.code]
      if why then
        ctx:fail{
          member = issue.member, offset = issue.offset,
          severity = issue.code == "zip-flag-bits" and "low" or nil,
          key = issue.code .. "@" .. (issue.member or "") .. "@" .. tostring(issue.offset),
          message = ("%s: %s; re-create the archive from a trusted source"):format(
            issue.message, why),
          details = {code = issue.code, format = r.format},
        }
      end
    end
  end,
}
